/**
 * MtlsPki: a PKI as a component. It owns a certificate authority (a root and, optionally, an
 * intermediate that signs the leaves) and issues workload identities by profile:
 *
 *   const pki = new MtlsPki("pki", { keyAlgorithm: "ECDSA-P256", trustDomain: "prod.example.internal" });
 *   const api = pki.issueServer("api");                 // DNS SANs api, localhost; IP 127.0.0.1
 *   const billing = pki.issueClient("billing");
 *
 * Children: per CA generation (`generations`, default `["1"]`) its CA: for generation "1"
 * `<name>-root-key`, `<name>-root`, with an intermediate also `<name>-intermediate-key`,
 * `<name>-intermediate-csr`, `<name>-intermediate`; for any other generation the same names with
 * `<name>-ca-<generation>` in place of `<name>`. And one `Identity` per issued workload,
 * `<name>-<workload>`, signed by the issuing generation and trusting the roots of all of them.
 *
 * Args (mtls-pki-args.ts) are checked in the constructor before anything is declared; a bad one
 * throws one line naming `mtls:pki:MtlsPki "<name>"`, the arg and the value.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Role } from "../services/src/contract.ts";
import { ArgChecks } from "./arg-checks.ts";
import { generationPrefix } from "./ca-generations.ts";
import { type CertificateAuthority, declareCertificateAuthority } from "./certificate-authority.ts";
import { certificateFacts, joinPem } from "./certificate-facts.ts";
import { defaultServerNames } from "./certificate-profiles.ts";
import { Identity } from "./identity.ts";
import {
  type CheckedArgs,
  checkArgs,
  MTLS_PKI_TYPE,
  type MtlsPkiArgs,
  type ServerIdentityOptions,
} from "./mtls-pki-args.ts";
import { dnsNameProblem, ipAddressProblem, nameProblem } from "./validation.ts";

export {
  MTLS_PKI_TYPE,
  type MtlsPkiArgs,
  PKI_DEFAULTS,
  type ServerIdentityOptions,
} from "./mtls-pki-args.ts";

/**
 * The type this component had before it was a library component. Existing stacks hold it in their
 * state; the alias makes the engine adopt those resources (and, through the parent, every child)
 * instead of replacing them.
 */
const PREVIOUS_TYPE = "mtls:pki:CertificateAuthority";

/** What a person looks up about one generation's root; nothing secret. */
export interface GenerationRoot {
  /** The root certificate (PEM). */
  certPem: pulumi.Output<string>;
  /** SHA-256 fingerprint of the root, colon-separated upper-case hex. */
  fingerprintSha256: pulumi.Output<string>;
  /** The root's expiry, ISO 8601 UTC. */
  notAfter: pulumi.Output<string>;
}

export class MtlsPki extends pulumi.ComponentResource {
  /** The issuing generation's root certificate (PEM): what new leaves chain to. */
  readonly rootCertPem: pulumi.Output<string>;
  /** The CA bundle workloads trust: the root of every generation, in the order listed (PEM). */
  readonly caBundlePem: pulumi.Output<string>;
  /** The CA generations trusted, oldest first. */
  readonly generations: readonly string[];
  /** The generation that signs leaves. */
  readonly issuingGeneration: string;
  /** Each generation's root, by generation name. */
  readonly roots: Readonly<Record<string, GenerationRoot>>;
  /** Certificate of the CA that signs leaves: the intermediate when there is one, else the root. */
  readonly issuingCertPem: pulumi.Output<string>;
  /** Whether leaves are signed by an intermediate CA. */
  readonly hasIntermediate: boolean;
  /** Every identity issued so far, by workload name. */
  readonly identities: ReadonlyMap<string, Identity>;

  private readonly componentName: string;
  private readonly checked: CheckedArgs;
  private readonly issuer: ReturnType<typeof declareCertificateAuthority>["issuer"];
  private readonly issued = new Map<string, Identity>();

  constructor(name: string, args: MtlsPkiArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    const checked = checkArgs(name, args);
    super(MTLS_PKI_TYPE, name, {}, { ...opts, aliases: [{ type: PREVIOUS_TYPE }, ...(opts.aliases ?? [])] });
    this.componentName = name;
    this.checked = checked;
    this.hasIntermediate = args.intermediateCa === true;
    this.identities = this.issued;

    this.generations = checked.generations;
    this.issuingGeneration = checked.issuingGeneration;

    const cas = new Map<string, CertificateAuthority>(
      checked.generations.map((generation) => [
        generation,
        declareCertificateAuthority(
          generationPrefix(name, generation),
          {
            generation,
            keySpec: checked.keySpec,
            subject: checked.subject,
            validityHours: checked.caValidityHours,
            ...(this.hasIntermediate
              ? { intermediate: { validityHours: checked.intermediateValidityHours } }
              : {}),
          },
          this,
        ),
      ]),
    );
    const issuing = cas.get(checked.issuingGeneration)!;
    // Every identity trusts every generation's root; only the issuing generation signs.
    this.caBundlePem = pulumi
      .all([...cas.values()].map((ca) => ca.rootCertPem))
      .apply((roots) => joinPem(...roots));
    this.issuer = { ...issuing.issuer, caBundlePem: this.caBundlePem };
    this.rootCertPem = issuing.rootCertPem;
    this.issuingCertPem = issuing.issuer.certPem;
    this.roots = Object.fromEntries(
      [...cas].map(([generation, ca]) => {
        const facts = ca.rootCertPem.apply(certificateFacts);
        return [
          generation,
          { certPem: ca.rootCertPem, fingerprintSha256: facts.fingerprintSha256, notAfter: facts.notAfter },
        ];
      }),
    );

    this.registerOutputs({
      rootCertPem: this.rootCertPem,
      caBundlePem: this.caBundlePem,
      issuingCertPem: this.issuingCertPem,
      generations: [...this.generations],
      issuingGeneration: this.issuingGeneration,
      roots: this.roots,
    });
  }

  /**
   * Issues a server identity (server_auth; SANs: the DNS names and IP addresses given, and its
   * SPIFFE ID). `workload` is the certificate's CN and SPIFFE path: a DNS label (lowercase letters,
   * digits, "-"), unique in this PKI, not "root" or "intermediate". The child is `<pki>-<workload>`.
   */
  issueServer(workload: string, options: ServerIdentityOptions = {}): Identity {
    const checks = new ArgChecks(MTLS_PKI_TYPE, this.componentName);
    this.checkWorkload(checks, "issueServer", workload);
    const defaults = defaultServerNames(workload);
    const dnsNames = checks.check("issueServer dnsNames", options.dnsNames ?? defaults.dnsNames, (names) =>
      listProblem(names, dnsNameProblem),
    );
    const ipAddresses = checks.check(
      "issueServer ipAddresses",
      options.ipAddresses ?? defaults.ipAddresses,
      (addresses) => listProblem(addresses, ipAddressProblem),
    );
    checks.done();
    return this.issue(workload, "server", dnsNames, ipAddresses);
  }

  /**
   * Issues a client identity (client_auth; CN = `workload`, the name servers' allow-lists use; its
   * only SAN is its SPIFFE ID). Same naming rules as `issueServer`.
   */
  issueClient(workload: string): Identity {
    const checks = new ArgChecks(MTLS_PKI_TYPE, this.componentName);
    this.checkWorkload(checks, "issueClient", workload);
    checks.done();
    return this.issue(workload, "client", [], []);
  }

  private checkWorkload(checks: ArgChecks, method: string, workload: string): void {
    const problem = nameProblem(workload);
    if (problem) checks.add(`${method} name`, problem);
    else if (this.issued.has(workload)) {
      checks.add(
        `${method} name`,
        `${JSON.stringify(workload)} is already issued by this PKI; identity names must be unique`,
      );
    }
  }

  private issue(
    workload: string,
    profile: Role,
    dnsNames: pulumi.Input<pulumi.Input<string>[]>,
    ipAddresses: pulumi.Input<pulumi.Input<string>[]>,
  ): Identity {
    const identity = new Identity(
      `${this.componentName}-${workload}`,
      {
        profile,
        workload,
        trustDomain: this.checked.trustDomain,
        keySpec: this.checked.keySpec,
        subject: this.checked.subject,
        validityHours: this.checked.leafValidityHours,
        earlyRenewalHours: this.checked.earlyRenewalHours,
        dnsNames,
        ipAddresses,
        issuer: this.issuer,
      },
      { parent: this },
    );
    this.issued.set(workload, identity);
    return identity;
  }
}

/** The first problem of a list's items. */
function listProblem(values: unknown, check: (value: unknown) => string | undefined): string | undefined {
  if (!Array.isArray(values)) return `${JSON.stringify(values)} is not a list`;
  return values.map(check).find((problem) => problem !== undefined);
}
