/**
 * MtlsPki for every Pulumi language: the library's PKI (mtls-pki.ts in components/), with the
 * identities it issues named in its args instead of issued by methods, and each identity's
 * material as outputs. Other languages cannot call `issueServer()` / `issueClient()` on a remote
 * component, nor receive an `Identity` object: they get maps keyed by identity name.
 *
 * Children: the library's `MtlsPki` of the same name (and below it, with the same names as in a
 * TypeScript program, the CA and one `Identity` per issued name).
 */
import * as pulumi from "@pulumi/pulumi";
import { ArgChecks, isPlain } from "../components/arg-checks.ts";
import type { Identity } from "../components/identity.ts";
import { MtlsPki as LibraryMtlsPki } from "../components/mtls-pki.ts";
import {
  checkArgs as checkPkiArgs,
  type MtlsPkiArgs as LibraryMtlsPkiArgs,
  MTLS_PKI_TYPE,
  type ServerIdentityOptions,
} from "../components/mtls-pki-args.ts";
import { dnsNameProblem, ipAddressProblem, nameProblem } from "../components/validation.ts";
import type { ServiceRole } from "./enums.ts";
import { plainPart, refusals } from "./precheck.ts";

export interface ServerIdentity extends ServerIdentityOptions {
  /**
   * The server's name: its certificate's common name and SPIFFE path, and the key of its entry in
   * `identities` and `privateKeys`. A DNS label (lowercase letters, digits, "-"), unique among the
   * PKI's servers and clients, not "root" or "intermediate". Required. Its identity is the child
   * `<pki>-<name>`; changing the name replaces that identity.
   */
  name: string;
}

export interface MtlsPkiArgs extends LibraryMtlsPkiArgs {
  /**
   * The server identities to issue (server_auth), each with its SANs. A plain list: it decides which
   * identities exist. Default none. Adding or removing one adds or deletes that identity only.
   */
  servers?: ServerIdentity[];
  /**
   * Names of the client identities to issue (client_auth; the name is the certificate's common
   * name, which servers' `allowedClients` list). Same naming rules as a server's name. A plain list:
   * it decides which identities exist. Default none. Adding or removing one adds or deletes that
   * identity only.
   */
  clients?: string[];
}

/** One issued identity: what a workload presents and trusts, and what a person looks up. */
export interface IssuedIdentity {
  /** The name it was issued for (certificate CN, SPIFFE path). */
  workload: string;
  /** "server" or "client". */
  profile: ServiceRole;
  /** The leaf certificate alone (PEM). */
  certPem: string;
  /** Leaf followed by the intermediates (PEM): what the workload presents; `MtlsService` `identity.chainPem`. */
  chainPem: string;
  /** The CA bundle it trusts for its peers: the root of every CA generation (PEM); `identity.caBundlePem`. */
  caBundlePem: string;
  /** `spiffe://<trustDomain>/<name>`, the certificate's URI SAN. */
  spiffeId: string;
  /** Serial number in upper-case hex, as OpenSSL and the services print it (what `revokedSerials` takes). */
  serialNumber: string;
  /** SHA-256 fingerprint of the certificate, colon-separated upper-case hex. */
  fingerprintSha256: string;
  /** Expiry, ISO 8601 UTC. */
  notAfter: string;
  /** Start of the early-renewal window (`notAfter` minus `earlyRenewalHours`), ISO 8601 UTC: the first `pulumi up` from then on re-issues it. */
  renewalDueAt: string;
}

/** One CA generation's root, as a person looks it up; nothing secret. */
export interface CaRoot {
  /** The root certificate (PEM). */
  certPem: string;
  /** SHA-256 fingerprint of the root, colon-separated upper-case hex. */
  fingerprintSha256: string;
  /** The root's expiry, ISO 8601 UTC. */
  notAfter: string;
}

export const MTLS_PKI_PLUGIN_TYPE = "mtls-pki:index:MtlsPki";

const quote = (value: unknown) => JSON.stringify(value);

function listProblem(values: unknown, check: (value: unknown) => string | undefined): string | undefined {
  if (!Array.isArray(values)) return `${quote(values)} is not a list`;
  return values.map(check).find((problem) => problem !== undefined);
}

/**
 * Checks the names and SANs to issue, as `issueServer` / `issueClient` do, naming the arg and the
 * entry (`servers[1].name`). SANs given as Outputs are checked by the library when they resolve.
 */
function checkIdentities(checks: ArgChecks, servers: unknown, clients: unknown): void {
  const seen = new Set<string>();
  const checkName = (arg: string, value: unknown) => {
    const problem = nameProblem(value);
    if (problem) checks.add(arg, problem);
    else if (seen.has(value as string)) {
      checks.add(arg, `${quote(value)} is already issued by this PKI; identity names must be unique`);
    }
    if (typeof value === "string") seen.add(value);
  };
  if (!Array.isArray(servers)) checks.add("servers", `${quote(servers)} is not a list of servers`);
  else {
    servers.forEach((server: unknown, index) => {
      const where = `servers[${index}]`;
      if (server === null || typeof server !== "object") {
        checks.add(where, `${quote(server)} is not a server ({ name, dnsNames?, ipAddresses? })`);
        return;
      }
      const { name, dnsNames, ipAddresses } = server as Partial<ServerIdentity>;
      checkName(`${where}.name`, name);
      if (dnsNames !== undefined && isPlain(dnsNames)) {
        checks.add(`${where}.dnsNames`, listProblem(dnsNames, dnsNameProblem));
      }
      if (ipAddresses !== undefined && isPlain(ipAddresses)) {
        checks.add(`${where}.ipAddresses`, listProblem(ipAddresses, ipAddressProblem));
      }
    });
  }
  if (!Array.isArray(clients)) checks.add("clients", `${quote(clients)} is not a list of client names`);
  else {
    clients.forEach((client: unknown, index) => {
      checkName(`clients[${index}]`, client);
    });
  }
}

/**
 * A PKI: a root CA (optionally an intermediate that signs the leaves), per CA generation, and the
 * server and client identities named in `servers` and `clients`, each a key and a certificate.
 * Outputs every identity's certificates and facts in `identities`, and its private key only in
 * `privateKeys`, which is secret.
 */
export class MtlsPki extends pulumi.ComponentResource {
  /** The issuing generation's root certificate (PEM): what new leaves chain to. */
  readonly rootCertPem: pulumi.Output<string>;
  /** The CA bundle every identity trusts: the root of every generation, in the order listed (PEM). */
  readonly caBundlePem: pulumi.Output<string>;
  /** Certificate of the CA that signs leaves: the intermediate when there is one, else the root (PEM). */
  readonly issuingCertPem: pulumi.Output<string>;
  /** The CA generations trusted, oldest first. */
  readonly generations: pulumi.Output<string[]>;
  /** The generation that signs leaves. */
  readonly issuingGeneration: pulumi.Output<string>;
  /** Each generation's root, by generation name. */
  readonly roots: pulumi.Output<Record<string, CaRoot>>;
  /** Every issued identity, by name: certificates and facts, no key. */
  readonly identities: pulumi.Output<Record<string, IssuedIdentity>>;
  /** Every issued identity's private key (PKCS#8 PEM), by name; secret. For `MtlsService` `identity.privateKeyPem`. */
  readonly privateKeys: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: MtlsPkiArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const { servers = [], clients = [], ...pkiArgs } = args;
    // Every plain arg checked before anything is declared, with the library's messages.
    const checks = new ArgChecks(MTLS_PKI_TYPE, name);
    checks.addLines(refusals(() => checkPkiArgs(name, plainPart(pkiArgs))));
    checkIdentities(checks, servers, clients);
    checks.done();
    super(MTLS_PKI_PLUGIN_TYPE, name, {}, opts);

    const pki = new LibraryMtlsPki(name, pkiArgs, { parent: this });
    const issued = new Map<string, Identity>();
    for (const server of servers) {
      const options: ServerIdentityOptions = {};
      if (server.dnsNames !== undefined) options.dnsNames = server.dnsNames;
      if (server.ipAddresses !== undefined) options.ipAddresses = server.ipAddresses;
      issued.set(server.name, pki.issueServer(server.name, options));
    }
    for (const client of clients) issued.set(client, pki.issueClient(client));

    this.rootCertPem = pki.rootCertPem;
    this.caBundlePem = pki.caBundlePem;
    this.issuingCertPem = pki.issuingCertPem;
    this.generations = pulumi.output([...pki.generations]);
    this.issuingGeneration = pulumi.output(pki.issuingGeneration);
    this.roots = pulumi.output(pki.roots) as pulumi.Output<Record<string, CaRoot>>;
    this.identities = pulumi.output(
      Object.fromEntries(
        [...issued].map(([workload, identity]) => [
          workload,
          {
            workload: identity.workload,
            profile: identity.profile,
            certPem: identity.certPem,
            chainPem: identity.chainPem,
            caBundlePem: identity.caBundlePem,
            spiffeId: identity.spiffeId,
            serialNumber: identity.serialNumber,
            fingerprintSha256: identity.fingerprintSha256,
            notAfter: identity.notAfter,
            renewalDueAt: identity.renewalDueAt,
          },
        ]),
      ),
    ) as pulumi.Output<Record<string, IssuedIdentity>>;
    this.privateKeys = pulumi.secret(
      pulumi.output(
        Object.fromEntries([...issued].map(([workload, identity]) => [workload, identity.privateKeyPem])),
      ),
    ) as pulumi.Output<Record<string, string>>;

    this.registerOutputs({
      rootCertPem: this.rootCertPem,
      caBundlePem: this.caBundlePem,
      issuingCertPem: this.issuingCertPem,
      generations: this.generations,
      issuingGeneration: this.issuingGeneration,
      roots: this.roots,
      identities: this.identities,
      privateKeys: this.privateKeys,
    });
  }
}
