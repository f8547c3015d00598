/**
 * The library's entry module (package.json `exports["."]`): everything a Pulumi program imports
 * from `mtls-pki`.
 *
 * Provisional: it re-exports today's components so that the package build, the packed tarball and
 * its consumer tests have a real module to work on. The public API (MtlsPki, MtlsService,
 * ServiceImage, ServiceNetwork and their arg types) replaces it.
 */
export * from "./certificate-authority.ts";
export * from "./identity.ts";
export * from "./key-algorithm.ts";
export * from "./mtls-service.ts";
export * from "./network.ts";
export * from "./service-image.ts";
