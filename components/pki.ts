/**
 * The whole PKI of a stack, from its configuration: one CA (with an optional intermediate), the
 * server's identity and one identity per client.
 */
import * as pulumi from "@pulumi/pulumi";
import { CertificateAuthority } from "./certificate-authority.ts";
import type { MtlsConfig } from "./config.ts";
import type { Identity } from "./identity.ts";

export interface Pki {
  ca: CertificateAuthority;
  server: Identity;
  clients: Map<string, Identity>;
}

export function declarePki(config: MtlsConfig, opts?: pulumi.ComponentResourceOptions): Pki {
  const ca = new CertificateAuthority(
    "pki",
    {
      key: config.key,
      subject: config.subject,
      validityHours: config.caValidityHours,
      ...(config.intermediateCa ? { intermediate: { validityHours: config.intermediateValidityHours } } : {}),
      trustDomain: config.trustDomain,
      leafValidityHours: config.leafValidityHours,
      leafEarlyRenewalHours: config.earlyRenewalHours,
    },
    opts,
  );
  const server = ca.issue(config.server.name, "server");
  const clients = new Map(config.clients.map((name) => [name, ca.issue(name, "client")] as const));
  return { ca, server, clients };
}

/** What a person looks up about an identity; nothing secret. */
export function identitySummary(identity: Identity) {
  return {
    spiffeId: identity.spiffeId,
    serialNumber: identity.serialNumber,
    fingerprintSha256: identity.fingerprintSha256,
    notAfter: identity.notAfter,
  };
}

/** Client credentials for calls from the host: certificate chain, key and CA bundle, as one secret. */
export function clientCredentials(clients: Map<string, Identity>) {
  const entries = [...clients].map(([name, identity]) =>
    pulumi
      .all([identity.chainPem, identity.privateKeyPem, identity.caBundlePem])
      .apply(([certPem, keyPem, caPem]) => [name, { certPem, keyPem, caPem }] as const),
  );
  return pulumi.secret(pulumi.all(entries).apply((pairs) => Object.fromEntries(pairs)));
}
