/**
 * One workload identity: a private key and a certificate signed by a CA, shaped by its profile
 * (server or client). Exposes what a workload needs (certificate chain, key, CA bundle) and what a
 * person looks up (serial, fingerprint, expiry). The private key is only ever exposed as a secret.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { certificateFacts, joinPem } from "./certificate-facts.ts";
import {
  clientAltNames,
  type IdentityProfile,
  leafUses,
  type SubjectAltNames,
  serverAltNames,
  spiffeId,
} from "./certificate-profiles.ts";
import type { SubjectConfig } from "./config.ts";
import type { KeySpec } from "./key-algorithm.ts";
import { keyArgs, subjectArgs } from "./tls-args.ts";

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
  profile: IdentityProfile;
  /** The workload's name: certificate CN and SPIFFE path; for a server also its DNS name on the network. */
  name: pulumi.Input<string>;
  trustDomain: pulumi.Input<string>;
  key: pulumi.Input<KeySpec>;
  subject: pulumi.Input<SubjectConfig>;
  validityHours: pulumi.Input<number>;
  /** Re-issue this many hours before expiry (on the next `pulumi up`). */
  earlyRenewalHours: pulumi.Input<number>;
  issuer: IssuerArgs;
}

export class Identity extends pulumi.ComponentResource {
  /** The leaf certificate alone. */
  readonly certPem: pulumi.Output<string>;
  /** Leaf followed by the intermediates: what the workload presents. */
  readonly chainPem: pulumi.Output<string>;
  /** The CA certificates this workload trusts for its peers. */
  readonly caBundlePem: pulumi.Output<string>;
  /** PKCS#8 PEM private key, secret. */
  readonly privateKeyPem: pulumi.Output<string>;
  readonly spiffeId: pulumi.Output<string>;
  readonly serialNumber: pulumi.Output<string>;
  readonly fingerprintSha256: pulumi.Output<string>;
  readonly notAfter: pulumi.Output<string>;

  constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mtls:pki:Identity", name, {}, opts);
    const parent = { parent: this };

    const key = new tls.PrivateKey(`${name}-key`, keyArgs(args.key), parent);

    const altNames = pulumi
      .all([args.trustDomain, args.name])
      .apply(
        ([trustDomain, workload]): SubjectAltNames =>
          args.profile === "server"
            ? serverAltNames(trustDomain, workload)
            : clientAltNames(trustDomain, workload),
      );
    const request = new tls.CertRequest(
      `${name}-csr`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: subjectArgs(args.subject, args.name),
        dnsNames: altNames.dnsNames,
        ipAddresses: altNames.ipAddresses,
        uris: altNames.uris,
      },
      parent,
    );

    const certificate = new tls.LocallySignedCert(
      `${name}-cert`,
      {
        certRequestPem: request.certRequestPem,
        caCertPem: args.issuer.certPem,
        caPrivateKeyPem: args.issuer.privateKeyPem,
        allowedUses: pulumi.output(args.key).apply((spec) => leafUses(args.profile, spec)),
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
    this.spiffeId = pulumi
      .all([args.trustDomain, args.name])
      .apply(([td, workload]) => spiffeId(td, workload));
    const facts = certificate.certPem.apply(certificateFacts);
    this.serialNumber = facts.serialNumber;
    this.fingerprintSha256 = facts.fingerprintSha256;
    this.notAfter = facts.notAfter;

    this.registerOutputs({
      certPem: this.certPem,
      chainPem: this.chainPem,
      caBundlePem: this.caBundlePem,
      privateKeyPem: this.privateKeyPem,
      spiffeId: this.spiffeId,
      serialNumber: this.serialNumber,
      fingerprintSha256: this.fingerprintSha256,
      notAfter: this.notAfter,
    });
  }
}
