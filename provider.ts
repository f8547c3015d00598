/**
 * The components this package serves to every Pulumi language (Python, Go, C#, Java, YAML, and
 * TypeScript through a generated SDK): the module Pulumi's schema analyzer starts from (package.json
 * "main" is provider.js; the analyzer reads the TypeScript beside it). Each is a schema-friendly
 * twin of a library component (components/index.ts), in plugin/. See docs/PACKAGE.md.
 */
export { MtlsPki } from "./plugin/mtls-pki.ts";
export { MtlsService } from "./plugin/mtls-service.ts";
export { MtlsSwarmService } from "./plugin/mtls-swarm-service.ts";
export { MtlsWorkload } from "./plugin/mtls-workload.ts";
export { ServiceNetwork, SwarmNetwork } from "./plugin/networks.ts";
export { ServiceImage } from "./plugin/service-image.ts";
