/**
 * Resource properties shaped as the engine hands them to a policy pack, for hand-made cases:
 * secrets as the secret signature object, unknowns (preview) as the engine's sentinel string.
 */
import { generateKeyPairSync } from "node:crypto";
import type { AnalyzerResource } from "./policy-pack.ts";

/** The engine's unknown sentinel (Go `plugin.UnknownStringValue`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function secret(value: unknown): Record<string, unknown> {
  return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

export function urn(type: string, name: string): string {
  return `urn:pulumi:dev::example::${type}::${name}`;
}

export function resource(
  type: string,
  name: string,
  properties: Record<string, unknown>,
  propertyDependencies: Record<string, AnalyzerResource[]> = {},
): AnalyzerResource {
  return {
    type,
    name,
    urn: urn(type, name),
    properties,
    propertyDependencies: Object.fromEntries(
      Object.entries(propertyDependencies).map(([k, rs]) => [k, rs.map((r) => r.urn)]),
    ),
  };
}

export function stackOutputs(outputs: Record<string, unknown>): AnalyzerResource {
  return resource("pulumi:pulumi:Stack", "example-dev", outputs);
}

/** A real PKCS#8 PEM private key. */
export function privateKeyPem(): string {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}

export const TYPES = {
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  certRequest: "tls:index/certRequest:CertRequest",
  locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
  container: "docker:index/container:Container",
  service: "docker:index/service:Service",
  secret: "docker:index/secret:Secret",
  volume: "docker:index/volume:Volume",
  image: "docker:index/image:Image",
} as const;
