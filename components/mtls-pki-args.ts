/**
 * MtlsPki's args: their types (with what each means, its default, its constraints and what
 * changing it replaces), the defaults, and the checks the constructor runs before declaring
 * anything (see arg-checks.ts for how a refusal reads).
 */
import * as pulumi from "@pulumi/pulumi";
import { ArgChecks, InvalidArgsError, isPlain } from "./arg-checks.ts";
import { FIRST_GENERATION, generationProblems } from "./ca-generations.ts";
import { KEY_ALGORITHMS, type KeyAlgorithmName, type KeySpec, parseKeyAlgorithm } from "./key-algorithm.ts";
import type { Subject } from "./subject.ts";
import { earlyRenewalProblem, hoursProblem, subjectProblems, trustDomainProblem } from "./validation.ts";

export const MTLS_PKI_TYPE = "mtls:pki:MtlsPki";

/** Defaults of MtlsPkiArgs (the stack config's defaults are the same). */
export const PKI_DEFAULTS = {
  keyAlgorithm: "ECDSA-P256",
  caValidityHours: 43800, // 5 years
  intermediateCa: false,
  intermediateValidityHours: 17520, // 2 years
  leafValidityHours: 720, // 30 days
  earlyRenewalHours: 240, // renew in the last 10 days
  organization: "mtls-pki",
  trustDomain: "mtls.internal",
} as const;

export interface MtlsPkiArgs {
  /**
   * Algorithm of every key, the CA's and the leaves': one of `KEY_ALGORITHM_NAMES` ("ECDSA-P256",
   * "ECDSA-P384", "RSA-2048", "RSA-3072", "RSA-4096", "ED25519"), in any case, with "-", "_" or
   * nothing between the parts. P-224 and RSA below 2048 bits are refused.
   *
   * Default "ECDSA-P256". Changing it replaces every key and certificate (a CA rotation: every
   * peer must trust the new root).
   */
  keyAlgorithm?: pulumi.Input<KeyAlgorithmName | string>;
  /**
   * Validity of the root CA in hours, 1 to 876600 (100 years). The root is never re-issued early.
   *
   * Default 43800 (5 years). Changing it replaces the root, and with it every certificate.
   */
  caValidityHours?: pulumi.Input<number>;
  /**
   * Sign the leaves with an intermediate CA under the root, so that the root key signs once.
   * A plain boolean: it decides which resources exist.
   *
   * Default false. Changing it replaces every leaf (their issuer changes); turning it on adds the
   * intermediate, turning it off deletes it.
   */
  intermediateCa?: boolean;
  /**
   * Validity of the intermediate CA in hours, 1 to 876600, at most `caValidityHours`. Used only
   * with `intermediateCa`.
   *
   * Default 17520 (2 years). Changing it replaces the intermediate and every leaf.
   */
  intermediateValidityHours?: pulumi.Input<number>;
  /**
   * Validity of each issued leaf certificate in hours, 1 to 876600, at most the validity of the CA
   * that signs it.
   *
   * Default 720 (30 days). Changing it replaces every leaf certificate (not its key); services pick
   * the new certificate up without a restart.
   */
  leafValidityHours?: pulumi.Input<number>;
  /**
   * Re-issue a leaf this many hours before it expires, on the first `pulumi up` inside that
   * window. At least 0 and shorter than `leafValidityHours` (else every run would re-issue).
   *
   * Default 240 (the last 10 days). Changing it updates the leaves in place (it only moves the
   * renewal window).
   */
  earlyRenewalHours?: pulumi.Input<number>;
  /**
   * Subject fields of every certificate; the common name is set per certificate ("<O> Root CA",
   * "<O> Intermediate CA", the workload name). O, OU, ST and L at most 64 characters; C two capital
   * letters.
   *
   * Default `{ organization: "mtls-pki" }`. Changing it replaces every certificate.
   */
  subject?: pulumi.Input<Subject>;
  /**
   * SPIFFE trust domain of the identities: each leaf carries `spiffe://<trustDomain>/<workload>`.
   * Lowercase letters, digits, ".", "-" and "_".
   *
   * Default "mtls.internal". Changing it replaces every leaf certificate.
   */
  trustDomain?: pulumi.Input<string>;
  /**
   * Names of the CA generations every identity trusts, oldest first: each generation is its own
   * root (plus its own intermediate with `intermediateCa`), and every identity's CA bundle holds
   * the roots of all of them. Each name a DNS label (lowercase letters, digits, "-"), no
   * duplicates. Generation "1" has the children `<name>-root-key`, `<name>-root`, ...; any other
   * generation `<name>-ca-<generation>-root-key`, `<name>-ca-<generation>-root`, ..., so adding or
   * removing one renames nothing. A plain list: it decides which resources exist.
   *
   * Default `["1"]`. Changing it adds or deletes the generations' CAs and replaces every
   * identity's delivered CA bundle (not a leaf, unless the issuing generation changes). A rotation:
   * `["1"]`, then `["1", "2"]`, then `issuingGeneration: "2"`, then `["2"]`, one `pulumi up` each.
   */
  generations?: string[];
  /**
   * The generation whose CA signs the leaves; one of `generations`. A plain string.
   *
   * Default: the first of `generations`. Changing it replaces every leaf certificate (not its key):
   * the new leaves chain to that generation's root, which every identity already trusts.
   */
  issuingGeneration?: string;
}

export interface ServerIdentityOptions {
  /**
   * DNS names clients use to reach the server (DNS SANs); each a host name, optionally with one
   * leading "*." label. Default `[<workload>, "localhost"]`: its alias on a Docker network, and the
   * host's loopback. Changing them replaces the server's certificate (not its key).
   */
  dnsNames?: pulumi.Input<pulumi.Input<string>[]>;
  /** IP SANs. Default `["127.0.0.1"]`. Changing them replaces the server's certificate. */
  ipAddresses?: pulumi.Input<pulumi.Input<string>[]>;
}

const PKI_DEFAULTS_KEY_SPEC: KeySpec = KEY_ALGORITHMS[PKI_DEFAULTS.keyAlgorithm];

export interface CheckedArgs {
  keySpec: pulumi.Input<KeySpec>;
  caValidityHours: pulumi.Input<number>;
  intermediateValidityHours: pulumi.Input<number>;
  leafValidityHours: pulumi.Input<number>;
  earlyRenewalHours: pulumi.Input<number>;
  subject: pulumi.Input<Subject>;
  trustDomain: pulumi.Input<string>;
  generations: string[];
  issuingGeneration: string;
}

function keySpecOf(name: unknown): { spec?: KeySpec; problem?: string } {
  if (typeof name !== "string") return { problem: `${JSON.stringify(name)} is not a key algorithm name` };
  const parsed = parseKeyAlgorithm(name);
  return "error" in parsed ? { problem: `${JSON.stringify(name)} ${parsed.error}` } : { spec: parsed.spec };
}

/** Checks the args (before super(): a refused PKI registers nothing, not even itself). */
export function checkArgs(name: string, args: MtlsPkiArgs): CheckedArgs {
  const checks = new ArgChecks(MTLS_PKI_TYPE, name);
  const keyAlgorithm = checks.check(
    "keyAlgorithm",
    args.keyAlgorithm ?? PKI_DEFAULTS.keyAlgorithm,
    (name) => keySpecOf(name).problem,
  );
  // A refused name has no spec; the fallback is never used, since done() throws first.
  const keySpec: pulumi.Input<KeySpec> = isPlain(keyAlgorithm)
    ? (keySpecOf(keyAlgorithm).spec ?? PKI_DEFAULTS_KEY_SPEC)
    : pulumi.output(keyAlgorithm).apply((name) => keySpecOf(name).spec ?? PKI_DEFAULTS_KEY_SPEC);

  const caValidityHours = checks.check(
    "caValidityHours",
    args.caValidityHours ?? PKI_DEFAULTS.caValidityHours,
    hoursProblem,
  );
  const intermediate = args.intermediateCa ?? PKI_DEFAULTS.intermediateCa;
  if (typeof intermediate !== "boolean") {
    checks.add("intermediateCa", `${JSON.stringify(intermediate)} is not true or false`);
  }
  const intermediateValidityHours = checks.check(
    "intermediateValidityHours",
    args.intermediateValidityHours ?? PKI_DEFAULTS.intermediateValidityHours,
    hoursProblem,
  );
  const leafHours = checks.check(
    "leafValidityHours",
    args.leafValidityHours ?? PKI_DEFAULTS.leafValidityHours,
    hoursProblem,
  );
  const earlyRenewalHours = checks.check(
    "earlyRenewalHours",
    args.earlyRenewalHours ?? PKI_DEFAULTS.earlyRenewalHours,
    earlyRenewalProblem,
  );
  const subject = checks.check(
    "subject",
    args.subject ?? { organization: PKI_DEFAULTS.organization },
    (s: Subject) => {
      if (s === null || typeof s !== "object") return `${JSON.stringify(s)} is not a subject object`;
      const problems = subjectProblems(s);
      return problems.length > 0 ? problems.map(([field, p]) => `${field} ${p}`).join("; ") : undefined;
    },
  );
  const trustDomain = checks.check(
    "trustDomain",
    args.trustDomain ?? PKI_DEFAULTS.trustDomain,
    trustDomainProblem,
  );
  const generations = args.generations ?? [FIRST_GENERATION];
  const generationIssues = generationProblems(generations, args.issuingGeneration, {
    generations: "generations",
    issuing: "issuingGeneration",
  });
  for (const problem of generationIssues.generations) checks.add("generations", problem);
  for (const problem of generationIssues.issuing) checks.add("issuingGeneration", problem);
  const issuingGeneration = args.issuingGeneration ?? generations[0] ?? FIRST_GENERATION;

  // How the lifetimes relate: checked now when all are plain, else when they resolve (the leaf
  // validity then carries the check into the certificates that use it).
  const relations = ([ca, mid, leaf, early]: number[]): string[] => {
    const problems: string[] = [];
    if (intermediate && mid! > ca!) {
      problems.push(
        checks.line(
          "intermediateValidityHours",
          `${mid} h outlives the root CA (caValidityHours = ${ca} h); make it shorter`,
        ),
      );
    }
    const [issuerArg, issuerHours] = intermediate
      ? ["intermediateValidityHours", mid]
      : ["caValidityHours", ca];
    if (leaf! > issuerHours!) {
      problems.push(
        checks.line(
          "leafValidityHours",
          `${leaf} h outlives its issuing CA (${issuerArg} = ${issuerHours} h); make it shorter`,
        ),
      );
    }
    if (early! >= leaf!) {
      problems.push(
        checks.line(
          "earlyRenewalHours",
          `${early} h is not shorter than leafValidityHours (${leaf} h), so every run would re-issue every certificate; make it shorter`,
        ),
      );
    }
    return problems;
  };
  const lifetimes = [caValidityHours, intermediateValidityHours, leafHours, earlyRenewalHours];
  let leafValidityHours = leafHours;
  if (lifetimes.every(isPlain)) {
    if (lifetimes.every((hours) => Number.isSafeInteger(hours))) {
      checks.addLines(relations(lifetimes as number[]));
    }
  } else {
    leafValidityHours = pulumi.all(lifetimes).apply((values) => {
      const problems = relations(values);
      if (problems.length > 0) throw new InvalidArgsError(problems);
      return values[2]!;
    });
  }
  checks.done();
  return {
    keySpec,
    caValidityHours,
    intermediateValidityHours,
    leafValidityHours,
    earlyRenewalHours,
    subject,
    trustDomain,
    generations,
    issuingGeneration,
  };
}
