/**
 * A certificate authority: a self-signed root and, optionally, an intermediate signed by the root.
 * Leaves are issued by the intermediate when there is one, so the root key signs only once and can
 * later be moved out of the day-to-day stack. `issue()` creates identities as children.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { joinPem } from "./certificate-facts.ts";
import { CA_USES, type IdentityProfile } from "./certificate-profiles.ts";
import type { SubjectConfig } from "./config.ts";
import { Identity } from "./identity.ts";
import type { KeySpec } from "./key-algorithm.ts";
import { keyArgs, subjectArgs } from "./tls-args.ts";

/** Child names the CA uses for itself (`<ca>-root-key`, ...): identities may not take them. */
export const RESERVED_NAMES = ["root", "intermediate"] as const;

export interface IntermediateArgs {
  validityHours: pulumi.Input<number>;
}

export interface CertificateAuthorityArgs {
  key: pulumi.Input<KeySpec>;
  subject: pulumi.Input<SubjectConfig>;
  /** Root validity. A CA is not re-issued early: replacing it re-issues every leaf (a CA rotation). */
  validityHours: pulumi.Input<number>;
  /** Present: leaves are signed by an intermediate CA under the root. */
  intermediate?: IntermediateArgs;
  /** SPIFFE trust domain of the identities this CA issues. */
  trustDomain: pulumi.Input<string>;
  /** Defaults for issued leaves. */
  leafValidityHours: pulumi.Input<number>;
  leafEarlyRenewalHours: pulumi.Input<number>;
}

export class CertificateAuthority extends pulumi.ComponentResource {
  /** The root certificate: the trust anchor peers verify against. */
  readonly rootCertPem: pulumi.Output<string>;
  /** The CA bundle workloads trust (the root). */
  readonly caBundlePem: pulumi.Output<string>;
  /** Certificate of the CA that signs leaves (the intermediate when present, else the root). */
  readonly issuingCertPem: pulumi.Output<string>;
  readonly hasIntermediate: boolean;

  private readonly componentName: string;
  private readonly args: CertificateAuthorityArgs;
  private readonly issuingKeyPem: pulumi.Output<string>;
  private readonly intermediatesPem: pulumi.Output<string>;

  constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mtls:pki:CertificateAuthority", name, {}, opts);
    this.componentName = name;
    this.args = args;
    this.hasIntermediate = args.intermediate !== undefined;
    const parent = { parent: this };
    const organization = pulumi.output(args.subject).organization;

    const rootKey = new tls.PrivateKey(`${name}-root-key`, keyArgs(args.key), parent);
    const root = new tls.SelfSignedCert(
      `${name}-root`,
      {
        privateKeyPem: rootKey.privateKeyPem,
        subject: subjectArgs(
          args.subject,
          organization.apply((o) => `${o} Root CA`),
        ),
        isCaCertificate: true,
        allowedUses: [...CA_USES],
        validityPeriodHours: args.validityHours,
        // Path length: the provider cannot express pathlen:0 (Go treats 0 as unset), so the
        // constraint sits on the root: 1 allows exactly the intermediate below it. Without an
        // intermediate nothing smaller than "unset" can be written.
        ...(this.hasIntermediate ? { maxPathLength: 1 } : {}),
      },
      parent,
    );
    this.rootCertPem = root.certPem;
    this.caBundlePem = root.certPem.apply((pem) => joinPem(pem));

    if (args.intermediate) {
      const intermediateKey = new tls.PrivateKey(`${name}-intermediate-key`, keyArgs(args.key), parent);
      const intermediateRequest = new tls.CertRequest(
        `${name}-intermediate-csr`,
        {
          privateKeyPem: intermediateKey.privateKeyPem,
          subject: subjectArgs(
            args.subject,
            organization.apply((o) => `${o} Intermediate CA`),
          ),
        },
        parent,
      );
      const intermediate = new tls.LocallySignedCert(
        `${name}-intermediate`,
        {
          certRequestPem: intermediateRequest.certRequestPem,
          caCertPem: root.certPem,
          caPrivateKeyPem: rootKey.privateKeyPem,
          isCaCertificate: true,
          allowedUses: [...CA_USES],
          validityPeriodHours: args.intermediate.validityHours,
        },
        parent,
      );
      this.issuingCertPem = intermediate.certPem;
      this.issuingKeyPem = intermediateKey.privateKeyPem;
      this.intermediatesPem = intermediate.certPem.apply((pem) => joinPem(pem));
    } else {
      this.issuingCertPem = root.certPem;
      this.issuingKeyPem = rootKey.privateKeyPem;
      this.intermediatesPem = pulumi.output("");
    }

    this.registerOutputs({
      rootCertPem: this.rootCertPem,
      caBundlePem: this.caBundlePem,
      issuingCertPem: this.issuingCertPem,
    });
  }

  /** Issues an identity for a workload; the child is named `<ca name>-<workload>`. */
  issue(workload: string, profile: IdentityProfile): Identity {
    if ((RESERVED_NAMES as readonly string[]).includes(workload)) {
      throw new Error(
        `"${workload}" is reserved for the CA's own certificates; choose another workload name`,
      );
    }
    return new Identity(
      `${this.componentName}-${workload}`,
      {
        profile,
        name: workload,
        trustDomain: this.args.trustDomain,
        key: this.args.key,
        subject: this.args.subject,
        validityHours: this.args.leafValidityHours,
        earlyRenewalHours: this.args.leafEarlyRenewalHours,
        issuer: {
          certPem: this.issuingCertPem,
          privateKeyPem: this.issuingKeyPem,
          intermediatesPem: this.intermediatesPem,
          caBundlePem: this.caBundlePem,
        },
      },
      { parent: this },
    );
  }
}
