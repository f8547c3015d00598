/**
 * MtlsPki's CA generations (staged CA rotation): each generation its own root (and intermediate),
 * named from the generation's name so that adding or removing one renames nothing, generation "1"
 * under the names a PKI had before generations existed; every identity trusts every generation's
 * root and is signed by the issuing one. Real keys and certificates under the emulated tls provider.
 */
import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Identity, MtlsPki, type MtlsPkiArgs } from "../../components/index.ts";
import { type ComponentRun, refusal, runComponents, TYPES } from "./harness.ts";

const CA_TYPES = new Set<string>([TYPES.key, TYPES.selfSigned, TYPES.csr, TYPES.signed]);

async function issue(args: MtlsPkiArgs) {
  let identity: Identity | undefined;
  const run = await runComponents(() => {
    identity = new MtlsPki("corp", { subject: { organization: "Example" }, ...args }).issueClient("billing");
    return {};
  });
  return { run, identity: identity! };
}

/** Names of the CA's own children (not an identity's), sorted. */
function caChildren(run: ComponentRun): string[] {
  const pki = run.child(TYPES.pki, "corp").urn;
  return run.run.registrations
    .filter((r) => r.parent === pki && CA_TYPES.has(r.type))
    .map((r) => r.name)
    .sort();
}

function certificatesOf(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}

function identityOutputs(run: ComponentRun) {
  const outputs = run.engine.resource(TYPES.identity, "corp-billing")?.componentOutputs;
  if (!outputs) throw new Error("no identity outputs");
  return outputs as Record<string, string>;
}

describe("MtlsPki CA generations", () => {
  it("keeps generation 1 under the CA's original names and gives another generation its own, by name", async () => {
    const { run } = await issue({ generations: ["1", "2"], intermediateCa: true });
    expect(caChildren(run)).toEqual(
      [
        "corp-root-key",
        "corp-root",
        "corp-intermediate-key",
        "corp-intermediate-csr",
        "corp-intermediate",
        "corp-ca-2-root-key",
        "corp-ca-2-root",
        "corp-ca-2-intermediate-key",
        "corp-ca-2-intermediate-csr",
        "corp-ca-2-intermediate",
      ].sort(),
    );
    // Distinct subjects, so chain building never confuses the two roots; generation 1's is unchanged.
    expect(run.child(TYPES.selfSigned, "corp-root").inputs.subject).toMatchObject({
      commonName: "Example Root CA",
    });
    expect(run.child(TYPES.selfSigned, "corp-ca-2-root").inputs.subject).toMatchObject({
      commonName: "Example Root CA 2",
    });
    expect(run.child(TYPES.csr, "corp-ca-2-intermediate-csr").inputs.subject).toMatchObject({
      commonName: "Example Intermediate CA 2",
    });
  });

  it("names the remaining generation the same once the first is dropped", async () => {
    const { run } = await issue({ generations: ["2"] });
    expect(caChildren(run)).toEqual(["corp-ca-2-root", "corp-ca-2-root-key"]);
  });

  it("puts every generation's root in the identity's CA bundle and signs with the first by default", async () => {
    const { run } = await issue({ generations: ["1", "2"] });
    const root1 = run.child(TYPES.selfSigned, "corp-root").outputs.certPem as string;
    const root2 = run.child(TYPES.selfSigned, "corp-ca-2-root").outputs.certPem as string;
    const outputs = identityOutputs(run);
    expect(certificatesOf(outputs.caBundlePem!).map((c) => c.fingerprint256)).toEqual([
      new X509Certificate(root1).fingerprint256,
      new X509Certificate(root2).fingerprint256,
    ]);
    expect(run.child(TYPES.signed, "corp-billing-cert").inputs.caCertPem).toBe(root1);
    const leaf = new X509Certificate(outputs.certPem!);
    expect(leaf.verify(new X509Certificate(root1).publicKey)).toBe(true);
    expect(leaf.verify(new X509Certificate(root2).publicKey)).toBe(false);
  });

  it("signs leaves with the issuing generation's intermediate, chained to its root", async () => {
    const { run } = await issue({ generations: ["1", "2"], issuingGeneration: "2", intermediateCa: true });
    const intermediate2 = run.child(TYPES.signed, "corp-ca-2-intermediate").outputs.certPem as string;
    const root2 = run.child(TYPES.selfSigned, "corp-ca-2-root").outputs.certPem as string;
    expect(run.child(TYPES.signed, "corp-billing-cert").inputs.caCertPem).toBe(intermediate2);
    const outputs = identityOutputs(run);
    const [leaf, presented] = certificatesOf(outputs.chainPem!);
    expect(presented?.fingerprint256).toBe(new X509Certificate(intermediate2).fingerprint256);
    expect(leaf?.verify(presented!.publicKey)).toBe(true);
    expect(presented?.verify(new X509Certificate(root2).publicKey)).toBe(true);
    expect(certificatesOf(outputs.caBundlePem!)).toHaveLength(2);
  });

  it("exposes the generations, the issuing one and each root's fingerprint and expiry", async () => {
    const { run } = await issue({ generations: ["1", "2"], issuingGeneration: "2" });
    const outputs = run.engine.resource(TYPES.pki, "corp")?.componentOutputs as Record<string, unknown>;
    expect(outputs.generations).toEqual(["1", "2"]);
    expect(outputs.issuingGeneration).toBe("2");
    const root2 = new X509Certificate(
      run.child(TYPES.selfSigned, "corp-ca-2-root").outputs.certPem as string,
    );
    expect((outputs.roots as Record<string, unknown>)["2"]).toEqual({
      certPem: root2.toString(),
      fingerprintSha256: root2.fingerprint256,
      notAfter: root2.validToDate.toISOString(),
    });
    expect(outputs.rootCertPem).toBe(run.child(TYPES.selfSigned, "corp-ca-2-root").outputs.certPem);
  });
});

describe("MtlsPki CA generations bad input", () => {
  const where = 'mtls:pki:MtlsPki "pki": ';
  it.each<[string, MtlsPkiArgs, string]>([
    [
      "a generation name that is not a DNS label",
      { generations: ["1", "Gen_2"] },
      'generations: "Gen_2" is not a valid generation name',
    ],
    ["a duplicate generation", { generations: ["1", "1"] }, 'generations: "1" is listed more than once'],
    ["no generation", { generations: [] }, "generations: the list is empty"],
    [
      "an issuing generation that is not listed",
      { generations: ["1", "2"], issuingGeneration: "3" },
      'issuingGeneration: "3" is not in generations (1, 2)',
    ],
    [
      "dropping the issuing generation",
      { generations: ["2"], issuingGeneration: "1" },
      'issuingGeneration: "1" is not in generations (2): the issuing generation is dropped last. First set issuingGeneration to "2" and run pulumi up',
    ],
  ])(
    "refuses %s with one line naming the PKI and the arg, before declaring anything",
    async (_what, args, line) => {
      const { message, registrations } = await refusal(() => new MtlsPki("pki", args));
      expect(message).toContain(`${where}${line}`);
      expect(message.split("\n").filter((l) => l.includes(where))).toHaveLength(1);
      expect(registrations).toEqual([]);
    },
  );
});
