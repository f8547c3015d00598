import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_DEFAULTS, ConfigError, type MtlsConfig, parseConfig } from "../../components/config.ts";

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
