/**
 * The CA of a PKI: a self-signed root and, optionally, an intermediate signed by the root, declared
 * as children of the PKI component. Leaves are issued by the intermediate when there is one, so the
 * root key signs only once and can later be moved out of the day-to-day stack. What leaves look
 * like (validity, renewal, names) is the PKI's business, not the CA's.
 *
 * Children (under `parent`): `<name>-root-key`, `<name>-root`, and with an intermediate
 * `<name>-intermediate-key`, `<name>-intermediate-csr`, `<name>-intermediate`, where `<name>` is
 * the generation's prefix (ca-generations.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { generationCommonNameSuffix } from "./ca-generations.ts";
import { joinPem } from "./certificate-facts.ts";
import { CA_USES } from "./certificate-profiles.ts";
import type { IssuerArgs } from "./identity.ts";
import type { KeySpec } from "./key-algorithm.ts";
import type { Subject } from "./subject.ts";
import { keyArgs, subjectArgs } from "./tls-args.ts";

export interface CertificateAuthorityArgs {
  /** The generation's name: it suffixes the CA's common names (none for generation "1"). */
  generation: string;
  keySpec: pulumi.Input<KeySpec>;
  subject: pulumi.Input<Subject>;
  /** Root validity. A CA is not re-issued early: replacing it re-issues every leaf (a CA rotation). */
  validityHours: pulumi.Input<number>;
  /** Present: leaves are signed by an intermediate CA under the root. */
  intermediate?: { validityHours: pulumi.Input<number> };
}

export interface CertificateAuthority {
  /** The root certificate: the trust anchor peers verify against. */
  rootCertPem: pulumi.Output<string>;
  /** What leaves are signed with and what they chain to. */
  issuer: { [K in keyof IssuerArgs]: pulumi.Output<string> };
}

export function declareCertificateAuthority(
  name: string,
  args: CertificateAuthorityArgs,
  parent: pulumi.Resource,
): CertificateAuthority {
  const opts = { parent };
  const organization = pulumi.output(args.subject).organization;
  const suffix = generationCommonNameSuffix(args.generation);

  const rootKey = new tls.PrivateKey(`${name}-root-key`, keyArgs(args.keySpec), opts);
  const root = new tls.SelfSignedCert(
    `${name}-root`,
    {
      privateKeyPem: rootKey.privateKeyPem,
      subject: subjectArgs(
        args.subject,
        organization.apply((o) => `${o} Root CA${suffix}`),
      ),
      isCaCertificate: true,
      allowedUses: [...CA_USES],
      validityPeriodHours: args.validityHours,
      // Path length: the provider cannot express pathlen:0 (Go treats 0 as unset), so the
      // constraint sits on the root: 1 allows exactly the intermediate below it. Without an
      // intermediate nothing smaller than "unset" can be written.
      ...(args.intermediate ? { maxPathLength: 1 } : {}),
    },
    opts,
  );
  const caBundlePem = root.certPem.apply((pem) => joinPem(pem));
  if (!args.intermediate) {
    return {
      rootCertPem: root.certPem,
      issuer: {
        certPem: root.certPem,
        privateKeyPem: rootKey.privateKeyPem,
        intermediatesPem: pulumi.output(""),
        caBundlePem,
      },
    };
  }

  const intermediateKey = new tls.PrivateKey(`${name}-intermediate-key`, keyArgs(args.keySpec), opts);
  const intermediateRequest = new tls.CertRequest(
    `${name}-intermediate-csr`,
    {
      privateKeyPem: intermediateKey.privateKeyPem,
      subject: subjectArgs(
        args.subject,
        organization.apply((o) => `${o} Intermediate CA${suffix}`),
      ),
    },
    opts,
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
    opts,
  );
  return {
    rootCertPem: root.certPem,
    issuer: {
      certPem: intermediate.certPem,
      privateKeyPem: intermediateKey.privateKeyPem,
      intermediatesPem: intermediate.certPem.apply((pem) => joinPem(pem)),
      caBundlePem,
    },
  };
}
