import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  CONFIG_DEFAULTS,
  ConfigError,
  type MtlsConfig,
  parseConfig,
  pkiArgs,
  unmatchedRevocationWarnings,
} from "../../components/config.ts";

const parseWith = (values: Record<string, string>, stack = "dev"): MtlsConfig =>
  parseConfig((key) => values[key], stack);

/** The problems a config raises, or a failure if it raises none. */
function problemsOf(values: Record<string, string>, stack = "dev"): string {
  try {
    parseWith(values, stack);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(values)} to be refused`);
}

describe("stack configuration", () => {
  it("applies secure defaults when nothing is set", () => {
    const config = parseWith({});
    expect(config.key).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    expect(config.keyAlgorithm).toBe("ECDSA-P256");
    expect(config.intermediateCa).toBe(false);
    expect(config.server).toEqual({ name: "mtls-server", port: 8443 });
    expect(config.clients).toEqual(["client-a"]);
    expect(config.allowedClients).toEqual(["client-a"]);
    expect(config.tlsPolicy).toBe("modern");
    expect(config.publishPort).toBeUndefined();
    expect(config.caGenerations).toEqual(["1"]);
    expect(config.issuingCa).toBe("1");
    expect(config.revokedSerials).toEqual([]);
  });

  it.each([
    ["ECDSA-P256", { algorithm: "ECDSA", ecdsaCurve: "P256" }],
    ["ecdsa_p384", { algorithm: "ECDSA", ecdsaCurve: "P384" }],
    ["RSA-2048", { algorithm: "RSA", rsaBits: 2048 }],
    ["rsa3072", { algorithm: "RSA", rsaBits: 3072 }],
    ["RSA-4096", { algorithm: "RSA", rsaBits: 4096 }],
    ["ed25519", { algorithm: "ED25519" }],
  ])("accepts key algorithm %s", (name, spec) => {
    expect(parseWith({ keyAlgorithm: name }).key).toEqual(spec);
  });

  it("names the key and the stack file in every message", () => {
    const message = problemsOf({ keyAlgorithm: "DSA" }, "staging");
    expect(message).toContain('stack "staging" (Pulumi.staging.yaml)');
    expect(message).toContain('mtls-pki:keyAlgorithm: "DSA" is not a supported key algorithm');
  });

  it("refuses curve P-224, the provider's silent default", () => {
    expect(problemsOf({ keyAlgorithm: "ECDSA-P224" })).toMatch(
      /keyAlgorithm: "ECDSA-P224" uses curve P-224, which TLS stacks refuse/,
    );
  });

  it("refuses RSA below 2048 bits", () => {
    expect(problemsOf({ keyAlgorithm: "RSA-1024" })).toMatch(
      /keyAlgorithm: "RSA-1024" is RSA below 2048 bits/,
    );
  });

  it("refuses a leaf that would outlive its CA", () => {
    expect(problemsOf({ caValidityHours: "100", leafValidityHours: "200", earlyRenewalHours: "10" })).toMatch(
      /leafValidityHours: 200 h outlives its issuing CA \(caValidityHours = 100 h\)/,
    );
  });

  it("refuses a leaf that would outlive the intermediate, and an intermediate outliving the root", () => {
    const message = problemsOf({
      intermediateCa: "true",
      caValidityHours: "1000",
      intermediateValidityHours: "2000",
      leafValidityHours: "1500",
    });
    expect(message).toMatch(/intermediateValidityHours: 2000 h outlives the root CA/);
    expect(message).not.toMatch(/leafValidityHours/);
    expect(
      problemsOf({ intermediateCa: "true", intermediateValidityHours: "100", leafValidityHours: "200" }),
    ).toMatch(/leafValidityHours: 200 h outlives its issuing CA \(intermediateValidityHours = 100 h\)/);
  });

  it("refuses an early-renewal window not shorter than the validity", () => {
    expect(problemsOf({ leafValidityHours: "24", earlyRenewalHours: "24" })).toMatch(
      /earlyRenewalHours: 24 h is not shorter than leafValidityHours \(24 h\)/,
    );
  });

  it("refuses duplicate and invalid names", () => {
    expect(problemsOf({ clients: '["a","b","a"]' })).toMatch(/clients: "a" is listed more than once/);
    expect(problemsOf({ clients: '["Bad_Name"]' })).toMatch(/clients: "Bad_Name" is not a valid name/);
    expect(problemsOf({ serverName: "-server" })).toMatch(/serverName: "-server" is not a valid name/);
    expect(problemsOf({ clients: '["mtls-server"]' })).toMatch(
      /clients: "mtls-server" is also the serverName/,
    );
    expect(problemsOf({ clients: '["root"]' })).toMatch(/clients: "root" is reserved/);
    expect(problemsOf({ clients: "[]" })).toMatch(/clients: the list is empty/);
  });

  it("refuses values of the wrong type, naming each key once", () => {
    const message = problemsOf({ serverPort: "http", intermediateCa: "yes", caValidityHours: "0" });
    expect(message).toMatch(/serverPort: "http" is not a whole number/);
    expect(message).toMatch(/intermediateCa: "yes" is not true or false/);
    expect(message).toMatch(/caValidityHours: 0 is out of range/);
    expect(message.split("\n")).toHaveLength(4);
  });

  it("refuses an allow-list naming an unknown client, a bad policy, trust domain or country", () => {
    expect(problemsOf({ clients: "a,b", allowedClients: "c" })).toMatch(
      /allowedClients: "c" is not one of the configured clients \(a, b\)/,
    );
    expect(problemsOf({ tlsPolicy: "old" })).toMatch(/tlsPolicy: "old" is not one of modern, intermediate/);
    expect(problemsOf({ trustDomain: "Example.COM" })).toMatch(
      /trustDomain: "Example.COM" is not a SPIFFE trust domain/,
    );
    expect(problemsOf({ country: "Germany" })).toMatch(
      /country: "Germany" is not a two-letter ISO 3166 code/,
    );
  });

  it("reads the CA generations, signs with the first unless issuingCa is set, and hands both to MtlsPki", () => {
    const staged = parseWith({ caGenerations: '["1","2"]' });
    expect(staged.issuingCa).toBe("1");
    expect(pkiArgs(staged)).toMatchObject({ generations: ["1", "2"], issuingGeneration: "1" });
    const switched = parseWith({ caGenerations: "1, 2", issuingCa: "2" });
    expect(pkiArgs(switched)).toMatchObject({ generations: ["1", "2"], issuingGeneration: "2" });
    expect(parseWith({ caGenerations: '["2"]' }).issuingCa).toBe("2");
    // A stack file's `caGenerations: [1, 2]` reaches the program as YAML numbers.
    expect(parseWith({ caGenerations: "[1, 2]", issuingCa: "2" }).caGenerations).toEqual(["1", "2"]);
  });

  it.each([
    [{ caGenerations: '["1","Two"]' }, 'caGenerations: "Two" is not a valid generation name'],
    [{ caGenerations: '["1","1"]' }, 'caGenerations: "1" is listed more than once; names must be unique'],
    [{ caGenerations: "[]" }, "caGenerations: the list is empty"],
    [{ caGenerations: "[1.5]" }, 'caGenerations: "1.5" is not a valid generation name'],
    [
      { caGenerations: '["1", true]' },
      `caGenerations: ${JSON.stringify('["1", true]')} is not a list of generation names`,
    ],
    [{ caGenerations: '["1","2"]', issuingCa: "3" }, 'issuingCa: "3" is not in caGenerations (1, 2)'],
  ])("refuses bad CA generations %j with one line naming the key", (values, line) => {
    const message = problemsOf(values, "prod");
    expect(message).toContain('stack "prod" (Pulumi.prod.yaml)');
    expect(message).toContain(`mtls-pki:${line}`);
    expect(message.split("\n")).toHaveLength(2);
  });

  it("refuses dropping the issuing generation, saying which step comes first", () => {
    expect(problemsOf({ caGenerations: '["2"]', issuingCa: "1" })).toContain(
      'mtls-pki:issuingCa: "1" is not in caGenerations (2): the issuing generation is dropped last. ' +
        'First set issuingCa to "2" and run pulumi up (leaves are re-issued by it), then remove "1" from caGenerations',
    );
  });

  it("reads revoked serials as openssl and Node print them, each once in the services' canonical form", () => {
    expect(
      parseWith({ revokedSerials: '["serial=0A1B2C", "0a:1b:2c", "00A1B2C", "ff:01"]' }).revokedSerials,
    ).toEqual(["A1B2C", "FF01"]);
  });

  it("refuses a malformed serial, and a serial YAML read as a number, with one line each", () => {
    const message = problemsOf({ revokedSerials: '["0A:1G", 1234]' });
    expect(message).toContain('mtls-pki:revokedSerials: "0A:1G" is not a hexadecimal serial number');
    expect(message).toContain(
      'mtls-pki:revokedSerials: 1234 is a number; quote it in the stack file ("1234")',
    );
    expect(message.split("\n")).toHaveLength(3);
  });

  it("warns about a revoked serial that matches no certificate of the stack, and about nothing else", () => {
    const config = parseWith({ revokedSerials: '["0a:1b", "FF01"]' });
    const warnings = unmatchedRevocationWarnings(config, ["00FF01", "1234"]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^mtls-pki:revokedSerials \(Pulumi\.dev\.yaml\): A1B matches no certificate/);
    expect(unmatchedRevocationWarnings(config, ["A1B", "FF01"])).toEqual([]);
  });

  it("accepts a comma-separated client list as `pulumi config set` writes it", () => {
    expect(parseWith({ clients: "billing, reports" }).clients).toEqual(["billing", "reports"]);
  });

  it("declares every key in Pulumi.yaml with a description and the same default", () => {
    const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8"));
    const declared = project.config as Record<string, { default?: unknown; description?: string }>;
    for (const [key, value] of Object.entries(CONFIG_DEFAULTS)) {
      expect(declared[key], key).toBeDefined();
      expect(declared[key]?.default, key).toEqual(value);
    }
    for (const [key, entry] of Object.entries(declared)) {
      expect(entry.description, key).toBeTruthy();
    }
  });

  it("gives every declared key a default, since the Pulumi CLI requires a declared key without one", () => {
    const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8"));
    for (const [key, entry] of Object.entries(project.config as Record<string, { default?: unknown }>)) {
      expect(entry.default, key).not.toBeUndefined();
    }
  });

  it("reads the defaults as the CLI passes them (arrays as JSON) exactly as when nothing is set", () => {
    const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8"));
    const passed = Object.fromEntries(
      Object.entries(project.config as Record<string, { default: unknown }>).map(([key, entry]) => [
        key,
        typeof entry.default === "object" ? JSON.stringify(entry.default) : String(entry.default),
      ]),
    );
    expect(parseWith(passed)).toEqual(parseWith({}));
  });

  it("reads every key Pulumi.yaml declares (no declared key is ignored)", () => {
    const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8"));
    const read = new Set<string>();
    parseConfig((key) => {
      read.add(key);
      return undefined;
    }, "dev");
    expect([...read].sort()).toEqual(Object.keys(project.config).sort());
  });
});
