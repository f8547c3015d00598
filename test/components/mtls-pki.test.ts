/**
 * MtlsPki and the identities it issues: the child contract (types, names derived from the component
 * name, parents, the inputs that decide what a certificate is), the identity's registered outputs
 * (the key only as a secret), and bad args refused before anything is declared. Runs as `pulumi up`
 * under the emulated engine and tls provider: real keys and certificates, no Docker.
 */
import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { type Identity, MtlsPki, type MtlsPkiArgs } from "../../components/index.ts";
import { type ComponentRun, refusal, runComponents, TYPES } from "./harness.ts";

const HOUR_MS = 3_600_000;

function componentOutputs(run: ComponentRun, type: string, name: string): Record<string, unknown> {
  const state = run.engine.resource(type, name);
  if (!state?.componentOutputs) throw new Error(`no registered outputs for ${type} "${name}"`);
  return state.componentOutputs;
}

function plain(value: unknown): unknown {
  return pulumi.runtime.isRpcSecret(value) ? pulumi.runtime.unwrapRpcSecret(value) : value;
}

describe("MtlsPki with an intermediate CA", () => {
  let run: ComponentRun;
  const args: MtlsPkiArgs = {
    keyAlgorithm: "ecdsa_p384",
    caValidityHours: 2000,
    intermediateCa: true,
    intermediateValidityHours: 1000,
    leafValidityHours: 100,
    earlyRenewalHours: 30,
    subject: { organization: "Example", organizationalUnit: "Platform", country: "DE" },
    trustDomain: "prod.example.internal",
  };
  beforeAll(async () => {
    run = await runComponents(() => {
      const pki = new MtlsPki("corp", args);
      pki.issueServer("api", { dnsNames: ["api", "api.example.internal"], ipAddresses: ["10.0.0.5"] });
      pki.issueClient("billing");
      return { root: pki.rootCertPem };
    });
  });

  it("declares the CA and one Identity per workload, named after the component, with the right parents", () => {
    const pki = run.child(TYPES.pki, "corp");
    const api = run.child(TYPES.identity, "corp-api");
    const billing = run.child(TYPES.identity, "corp-billing");
    const tree = run.run.registrations.map((r) => [
      `${r.type} ${r.name}`,
      run.run.registrations.find((p) => p.urn === r.parent)?.name,
    ]);
    expect(tree.sort()).toEqual(
      [
        [`${TYPES.pki} corp`, undefined],
        [`${TYPES.key} corp-root-key`, "corp"],
        [`${TYPES.selfSigned} corp-root`, "corp"],
        [`${TYPES.key} corp-intermediate-key`, "corp"],
        [`${TYPES.csr} corp-intermediate-csr`, "corp"],
        [`${TYPES.signed} corp-intermediate`, "corp"],
        [`${TYPES.identity} corp-api`, "corp"],
        [`${TYPES.key} corp-api-key`, "corp-api"],
        [`${TYPES.csr} corp-api-csr`, "corp-api"],
        [`${TYPES.signed} corp-api-cert`, "corp-api"],
        [`${TYPES.identity} corp-billing`, "corp"],
        [`${TYPES.key} corp-billing-key`, "corp-billing"],
        [`${TYPES.csr} corp-billing-csr`, "corp-billing"],
        [`${TYPES.signed} corp-billing-cert`, "corp-billing"],
      ].sort(),
    );
    expect(api.parent).toBe(pki.urn);
    expect(billing.parent).toBe(pki.urn);
  });

  it("keeps the CA's previous type as an alias, so stacks created before the library keep their resources", () => {
    expect(run.child(TYPES.pki, "corp").options.aliases).toEqual([{ type: "mtls:pki:CertificateAuthority" }]);
  });

  it("spells out the key algorithm on every key (never the provider's P-224 default)", () => {
    for (const name of ["corp-root-key", "corp-intermediate-key", "corp-api-key", "corp-billing-key"]) {
      const inputs = run.child(TYPES.key, name).inputs;
      expect(inputs.algorithm, name).toBe("ECDSA");
      expect(inputs.ecdsaCurve, name).toBe("P384");
    }
  });

  it("makes a root that can sign with the path length 1 and the CA validity, and an intermediate under it", () => {
    const root = run.child(TYPES.selfSigned, "corp-root").inputs;
    expect(root.isCaCertificate).toBe(true);
    expect(root.allowedUses).toEqual(["cert_signing", "crl_signing"]);
    expect(root.validityPeriodHours).toBe(2000);
    expect(root.maxPathLength).toBe(1);
    expect(root.subject).toEqual({
      commonName: "Example Root CA",
      organization: "Example",
      organizationalUnit: "Platform",
      country: "DE",
    });
    const intermediate = run.child(TYPES.signed, "corp-intermediate").inputs;
    expect(intermediate.isCaCertificate).toBe(true);
    expect(intermediate.validityPeriodHours).toBe(1000);
  });

  it("issues leaves with the leaf validity and early renewal, signed by the intermediate", () => {
    const intermediatePem = run.child(TYPES.signed, "corp-intermediate").outputs.certPem;
    for (const name of ["corp-api-cert", "corp-billing-cert"]) {
      const inputs = run.child(TYPES.signed, name).inputs;
      expect(inputs.validityPeriodHours, name).toBe(100);
      expect(inputs.earlyRenewalHours, name).toBe(30);
      expect(inputs.caCertPem, name).toBe(intermediatePem);
      expect(inputs.isCaCertificate, name).toBeUndefined();
    }
  });

  it("gives the server server_auth, the DNS names and IPs asked for, and its SPIFFE ID", () => {
    expect(run.child(TYPES.signed, "corp-api-cert").inputs.allowedUses).toEqual([
      "digital_signature",
      "server_auth",
    ]);
    expect(run.child(TYPES.csr, "corp-api-csr").inputs).toMatchObject({
      subject: { commonName: "api", organization: "Example" },
      dnsNames: ["api", "api.example.internal"],
      ipAddresses: ["10.0.0.5"],
      uris: ["spiffe://prod.example.internal/api"],
    });
  });

  it("gives a client client_auth, CN = its name and only its SPIFFE ID", () => {
    expect(run.child(TYPES.signed, "corp-billing-cert").inputs.allowedUses).toEqual([
      "digital_signature",
      "client_auth",
    ]);
    expect(run.child(TYPES.csr, "corp-billing-csr").inputs).toMatchObject({
      subject: { commonName: "billing" },
      dnsNames: [],
      ipAddresses: [],
      uris: ["spiffe://prod.example.internal/billing"],
    });
  });

  it("registers the identity's outputs: leaf, chain, CA bundle, the key as a secret, and facts read from the leaf", () => {
    const outputs = componentOutputs(run, TYPES.identity, "corp-api");
    expect(Object.keys(outputs).sort()).toEqual([
      "caBundlePem",
      "certPem",
      "chainPem",
      "fingerprintSha256",
      "notAfter",
      "privateKeyPem",
      "renewalDueAt",
      "serialNumber",
      "spiffeId",
    ]);
    expect(pulumi.runtime.isRpcSecret(outputs.privateKeyPem)).toBe(true);
    expect(plain(outputs.privateKeyPem)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    for (const key of ["certPem", "chainPem", "caBundlePem", "serialNumber", "notAfter"]) {
      expect(pulumi.runtime.isRpcSecret(outputs[key]), key).toBe(false);
    }
    const leaf = new X509Certificate(outputs.certPem as string);
    const intermediatePem = run.child(TYPES.signed, "corp-intermediate").outputs.certPem as string;
    const rootPem = run.child(TYPES.selfSigned, "corp-root").outputs.certPem as string;
    expect(outputs.chainPem).toBe(`${(outputs.certPem as string).trim()}\n${intermediatePem.trim()}\n`);
    expect(outputs.caBundlePem).toBe(`${rootPem.trim()}\n`);
    expect(outputs.serialNumber).toBe(leaf.serialNumber.toUpperCase());
    expect(outputs.fingerprintSha256).toBe(leaf.fingerprint256);
    expect(outputs.notAfter).toBe(leaf.validToDate.toISOString());
    // earlyRenewalHours is 30: the window opens 30 hours before expiry.
    expect(outputs.renewalDueAt).toBe(new Date(leaf.validToDate.getTime() - 30 * HOUR_MS).toISOString());
    expect(leaf.validToDate.getTime() - leaf.validFromDate.getTime()).toBe(100 * HOUR_MS);
    expect(outputs.spiffeId).toBe("spiffe://prod.example.internal/api");
  });

  it("registers the PKI's outputs: the root, the CA bundle and the generations, no key", () => {
    const outputs = componentOutputs(run, TYPES.pki, "corp");
    expect(Object.keys(outputs).sort()).toEqual([
      "caBundlePem",
      "generations",
      "issuingCertPem",
      "issuingGeneration",
      "rootCertPem",
      "roots",
    ]);
    expect(outputs.generations).toEqual(["1"]);
    expect(outputs.issuingGeneration).toBe("1");
    expect(JSON.stringify(outputs)).not.toContain("PRIVATE KEY");
  });
});

describe("MtlsPki defaults", () => {
  it("uses ECDSA-P256, a root alone, 30-day leaves renewed 10 days ahead, and the server's default names", async () => {
    let identity: Identity | undefined;
    const run = await runComponents(() => {
      identity = new MtlsPki("pki").issueServer("mtls-server");
      return {};
    });
    expect(identity?.workload).toBe("mtls-server");
    expect(run.child(TYPES.key, "pki-root-key").inputs).toMatchObject({
      algorithm: "ECDSA",
      ecdsaCurve: "P256",
    });
    expect(run.child(TYPES.selfSigned, "pki-root").inputs.validityPeriodHours).toBe(43800);
    expect(run.child(TYPES.selfSigned, "pki-root").inputs.maxPathLength).toBeUndefined();
    expect(run.run.registrations.some((r) => r.name.startsWith("pki-intermediate"))).toBe(false);
    expect(run.child(TYPES.signed, "pki-mtls-server-cert").inputs).toMatchObject({
      validityPeriodHours: 720,
      earlyRenewalHours: 240,
    });
    expect(run.child(TYPES.csr, "pki-mtls-server-csr").inputs).toMatchObject({
      subject: { commonName: "mtls-server", organization: "mtls-pki" },
      dnsNames: ["mtls-server", "localhost"],
      ipAddresses: ["127.0.0.1"],
      uris: ["spiffe://mtls.internal/mtls-server"],
    });
  });

  it("adds key_encipherment to RSA leaves only", async () => {
    const run = await runComponents(() => {
      new MtlsPki("pki", { keyAlgorithm: "RSA-2048" }).issueClient("c");
      return {};
    });
    expect(run.child(TYPES.key, "pki-c-key").inputs).toMatchObject({ algorithm: "RSA", rsaBits: 2048 });
    expect(run.child(TYPES.signed, "pki-c-cert").inputs.allowedUses).toEqual([
      "digital_signature",
      "key_encipherment",
      "client_auth",
    ]);
  });
});

describe("MtlsPki bad input", () => {
  const where = 'mtls:pki:MtlsPki "pki": ';
  it.each<[string, MtlsPkiArgs, string]>([
    ["an unknown algorithm", { keyAlgorithm: "DSA" }, 'keyAlgorithm: "DSA" is not a supported key algorithm'],
    ["P-224", { keyAlgorithm: "ECDSA-P224" }, 'keyAlgorithm: "ECDSA-P224" uses curve P-224'],
    ["RSA below 2048", { keyAlgorithm: "RSA-1024" }, 'keyAlgorithm: "RSA-1024" is RSA below 2048 bits'],
    [
      "a leaf outliving its CA",
      { caValidityHours: 100, leafValidityHours: 200 },
      "leafValidityHours: 200 h outlives its issuing CA (caValidityHours = 100 h)",
    ],
    [
      "a leaf outliving the intermediate",
      { intermediateCa: true, intermediateValidityHours: 50, leafValidityHours: 60 },
      "leafValidityHours: 60 h outlives its issuing CA (intermediateValidityHours = 50 h)",
    ],
    [
      "an early renewal not shorter than the validity",
      { leafValidityHours: 24, earlyRenewalHours: 24 },
      "earlyRenewalHours: 24 h is not shorter than leafValidityHours (24 h)",
    ],
    ["a fractional validity", { caValidityHours: 1.5 }, "caValidityHours: 1.5 is not a whole number"],
    [
      "a bad trust domain",
      { trustDomain: "Not A Domain" },
      'trustDomain: "Not A Domain" is not a SPIFFE trust domain',
    ],
    [
      "a bad country",
      { subject: { organization: "x", country: "Germany" } },
      'subject: country "Germany" is not a two-letter',
    ],
  ])(
    "refuses %s with one line naming the PKI, the arg and the value, before declaring anything",
    async (_what, args, line) => {
      const { message, registrations } = await refusal(() => new MtlsPki("pki", args));
      expect(message).toContain(`${where}${line}`);
      expect(registrations).toEqual([]);
    },
  );

  it.each<[string, (pki: MtlsPki) => void, string, string[]]>([
    [
      "an invalid client name",
      (pki) => pki.issueClient("Billing_1"),
      'issueClient name: "Billing_1" is not a valid name',
      [],
    ],
    ["a reserved name", (pki) => pki.issueServer("root"), 'issueServer name: "root" is reserved', []],
    [
      "an invalid DNS name",
      (pki) => pki.issueServer("api", { dnsNames: ["api", "bad name"] }),
      'issueServer dnsNames: "bad name" is not a DNS name',
      [],
    ],
    [
      "an invalid IP address",
      (pki) => pki.issueServer("api", { ipAddresses: ["300.1.1.1"] }),
      'issueServer ipAddresses: "300.1.1.1" is not an IPv4 or IPv6 address',
      [],
    ],
    [
      "a duplicate identity name",
      (pki) => {
        pki.issueServer("api");
        pki.issueClient("api");
      },
      'issueClient name: "api" is already issued by this PKI',
      ["pki-api"],
    ],
  ])("refuses %s with one line, declaring nothing for that identity", async (_what, issue, line, issued) => {
    // The program catches the error and carries on, so the run shows exactly what was declared.
    let refused: Error | undefined;
    const run = await runComponents(() => {
      const pki = new MtlsPki("pki");
      try {
        issue(pki);
      } catch (error) {
        refused = error as Error;
      }
      return {};
    });
    expect(refused?.name).toBe("InvalidArgsError");
    expect(refused?.message.startsWith(`${where}${line}`), refused?.message).toBe(true);
    expect(refused?.message.split("\n")).toHaveLength(1);
    const identities = run.run.registrations.filter((r) => r.type === TYPES.identity).map((r) => r.name);
    expect(identities).toEqual(issued);
    // The identity's own children are absent too.
    const children = run.run.registrations.filter(
      (r) => r.name.startsWith("pki-") && !r.name.startsWith("pki-root"),
    );
    expect(children.map((r) => r.name).sort()).toEqual(
      issued.flatMap((n) => [n, `${n}-cert`, `${n}-csr`, `${n}-key`]).sort(),
    );
  });

  it("checks an Output-valued arg when it resolves, failing the run with the same line", async () => {
    const { message } = await refusal(() =>
      new MtlsPki("pki", { keyAlgorithm: pulumi.output("RSA-1024") }).issueClient("c"),
    );
    expect(message).toContain(`${where}keyAlgorithm: "RSA-1024" is RSA below 2048 bits`);
  });

  it("never quotes a secret Output's value", async () => {
    const { message } = await refusal(() =>
      new MtlsPki("pki", { trustDomain: pulumi.secret("Secret Domain") }).issueClient("c"),
    );
    expect(message).toContain(`${where}trustDomain: [secret] is not a valid value`);
    expect(message).not.toContain("Secret Domain");
  });
});
