/**
 * One workload identity: a private key and a certificate signed by a PKI's issuing CA, shaped by
 * its profile (server or client). Exposes what a workload needs (certificate chain, key, CA bundle)
 * and what a person looks up (serial, fingerprint, expiry). The private key is only ever exposed as
 * a secret. Declared by `MtlsPki.issueServer` / `issueClient`, which check the names first.
 *
 * Children: `<name>-key` (tls.PrivateKey), `<name>-csr` (tls.CertRequest), `<name>-cert`
 * (tls.LocallySignedCert).
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { Role } from "../services/src/contract.ts";
import { certificateFacts, joinPem } from "./certificate-facts.ts";
import { leafUses, spiffeId } from "./certificate-profiles.ts";
import { requirePulumiEngine } from "./engine-check.ts";
import type { KeySpec } from "./key-algorithm.ts";
import type { Subject } from "./subject.ts";
import { keyArgs, subjectArgs } from "./tls-args.ts";

export const IDENTITY_TYPE = "mtls:pki:Identity";

const HOUR_MS = 3_600_000;

/** The CA material an identity is signed with. */
export interface IssuerArgs {
  /** Certificate of the issuing CA (the intermediate when there is one). */
  certPem: pulumi.Input<string>;
  /** Private key of the issuing CA. */
  privateKeyPem: pulumi.Input<string>;
  /** Intermediate certificates a peer needs between the leaf and the trust anchor ("" when none). */
  intermediatesPem: pulumi.Input<string>;
  /** The trust anchors to verify peers with (the root CA). */
  caBundlePem: pulumi.Input<string>;
}

export interface IdentityArgs {
  profile: Role;
  /** The workload's name: certificate CN and SPIFFE path. */
  workload: string;
  trustDomain: pulumi.Input<string>;
  keySpec: pulumi.Input<KeySpec>;
  subject: pulumi.Input<Subject>;
  validityHours: pulumi.Input<number>;
  /** Re-issue this many hours before expiry (on the next `pulumi up`). */
  earlyRenewalHours: pulumi.Input<number>;
  /** DNS SANs (a server: every name clients use to reach it; a client: usually none). */
  dnsNames: pulumi.Input<pulumi.Input<string>[]>;
  /** IP SANs. */
  ipAddresses: pulumi.Input<pulumi.Input<string>[]>;
  issuer: IssuerArgs;
}

/**
 * What a service needs of an identity to run with it: an `Identity`, or any object with these
 * fields (for example material issued outside Pulumi).
 */
export interface ServiceIdentity {
  /** Leaf certificate followed by any intermediates (PEM): what the workload presents. */
  chainPem: pulumi.Input<string>;
  /** The private key (PEM); kept secret. */
  privateKeyPem: pulumi.Input<string>;
  /** CA certificates trusted for peers (PEM bundle). */
  caBundlePem: pulumi.Input<string>;
}

export class Identity extends pulumi.ComponentResource implements ServiceIdentity {
  /** The workload name this identity was issued for (certificate CN, SPIFFE path). */
  readonly workload: string;
  readonly profile: Role;
  /** The leaf certificate alone (PEM). */
  readonly certPem: pulumi.Output<string>;
  /** Leaf followed by the intermediates (PEM): what the workload presents. */
  readonly chainPem: pulumi.Output<string>;
  /** The CA certificates this workload trusts for its peers (PEM bundle of the root). */
  readonly caBundlePem: pulumi.Output<string>;
  /** PKCS#8 PEM private key, secret. */
  readonly privateKeyPem: pulumi.Output<string>;
  /** `spiffe://<trust domain>/<workload>`, the certificate's URI SAN. */
  readonly spiffeId: pulumi.Output<string>;
  /** Serial number in upper-case hex, as OpenSSL and the services print it. */
  readonly serialNumber: pulumi.Output<string>;
  /** SHA-256 fingerprint of the certificate, colon-separated upper-case hex. */
  readonly fingerprintSha256: pulumi.Output<string>;
  /** Expiry as an ISO 8601 UTC timestamp. */
  readonly notAfter: pulumi.Output<string>;
  /**
   * When the certificate enters its early-renewal window (`notAfter` minus `earlyRenewalHours`),
   * ISO 8601 UTC: the first `pulumi up` from then on re-issues it.
   */
  readonly renewalDueAt: pulumi.Output<string>;

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    requirePulumiEngine(`${IDENTITY_TYPE} "${name}"`);
    super(IDENTITY_TYPE, name, {}, opts);
    this.workload = args.workload;
    this.profile = args.profile;
    const parent = { parent: this };

    const key = new tls.PrivateKey(`${name}-key`, keyArgs(args.keySpec), parent);
    const uri = pulumi.output(args.trustDomain).apply((td) => spiffeId(td, args.workload));
    const request = new tls.CertRequest(
      `${name}-csr`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: subjectArgs(args.subject, args.workload),
        dnsNames: args.dnsNames,
        ipAddresses: args.ipAddresses,
        uris: [uri],
      },
      parent,
    );

    const certificate = new tls.LocallySignedCert(
      `${name}-cert`,
      {
        certRequestPem: request.certRequestPem,
        caCertPem: args.issuer.certPem,
        caPrivateKeyPem: args.issuer.privateKeyPem,
        allowedUses: pulumi.output(args.keySpec).apply((spec) => leafUses(args.profile, spec)),
        validityPeriodHours: args.validityHours,
        earlyRenewalHours: args.earlyRenewalHours,
      },
      parent,
    );

    this.certPem = certificate.certPem;
    this.chainPem = pulumi
      .all([certificate.certPem, args.issuer.intermediatesPem])
      .apply(([leaf, intermediates]) => joinPem(leaf, intermediates));
    this.caBundlePem = pulumi.output(args.issuer.caBundlePem);
    // PKCS#8 for every algorithm, so consumers (Node, nginx, curl) see one format.
    this.privateKeyPem = pulumi.secret(key.privateKeyPemPkcs8);
    this.spiffeId = uri;
    const facts = certificate.certPem.apply(certificateFacts);
    this.serialNumber = facts.serialNumber;
    this.fingerprintSha256 = facts.fingerprintSha256;
    this.notAfter = facts.notAfter;
    this.renewalDueAt = pulumi
      .all([facts.notAfter, args.earlyRenewalHours])
      .apply(([notAfter, hours]) => new Date(Date.parse(notAfter) - hours * HOUR_MS).toISOString());

    this.registerOutputs({
      certPem: this.certPem,
      chainPem: this.chainPem,
      caBundlePem: this.caBundlePem,
      privateKeyPem: this.privateKeyPem,
      spiffeId: this.spiffeId,
      serialNumber: this.serialNumber,
      fingerprintSha256: this.fingerprintSha256,
      notAfter: this.notAfter,
      renewalDueAt: this.renewalDueAt,
    });
  }
}
