/**
 * Typed, validated stack configuration. Every key is declared (with its description and default) in
 * Pulumi.yaml; the defaults are repeated here because the program must behave the same when the
 * engine did not apply them (unit tests under mocks, other programs reusing these components).
 *
 * Every bad value yields one line naming the key and the stack file; all lines are reported at once,
 * before any resource is declared, so a user fixes the whole stack file in one go.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_SERVER_NAME,
  DEFAULT_SERVER_PORT,
  TLS_POLICIES,
  type TlsPolicy,
} from "../services/src/contract.ts";
import { RESERVED_NAMES } from "./certificate-authority.ts";
import { type KeySpec, parseKeyAlgorithm } from "./key-algorithm.ts";

export const PROJECT = "mtls-pki";

export interface SubjectConfig {
  organization: string;
  organizationalUnit?: string;
  country?: string;
  province?: string;
  locality?: string;
}

export interface MtlsConfig {
  stack: string;
  /** The algorithm name as configured, normalised (e.g. "ECDSA-P256"). */
  keyAlgorithm: string;
  key: KeySpec;
  caValidityHours: number;
  intermediateCa: boolean;
  intermediateValidityHours: number;
  leafValidityHours: number;
  earlyRenewalHours: number;
  subject: SubjectConfig;
  trustDomain: string;
  server: { name: string; port: number };
  clients: string[];
  /** Clients the server lets in; defaults to every configured client. */
  allowedClients: string[];
  tlsPolicy: TlsPolicy;
  /** Host port on 127.0.0.1 the server is published on; undefined = not published. */
  publishPort: number | undefined;
  /** Base image of the services' image (a Node >= 24 image). */
  baseImage: string;
}

/** Defaults, mirrored in Pulumi.yaml (a unit test keeps the two in step). */
export const CONFIG_DEFAULTS = {
  keyAlgorithm: "ECDSA-P256",
  caValidityHours: 43800, // 5 years
  intermediateCa: false,
  intermediateValidityHours: 17520, // 2 years
  leafValidityHours: 720, // 30 days
  earlyRenewalHours: 240, // renew in the last 10 days
  organization: "mtls-pki",
  trustDomain: "mtls.internal",
  serverName: DEFAULT_SERVER_NAME,
  serverPort: DEFAULT_SERVER_PORT,
  clients: ["client-a"],
  tlsPolicy: "modern",
  publishPort: 0,
  baseImage: "node:24-slim",
  organizationalUnit: "",
  country: "",
  province: "",
  locality: "",
  allowedClients: [],
} as const;

/** Thrown for bad stack configuration; its message lists every problem, one per line. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(stack: string, problems: string[]) {
    const file = `Pulumi.${stack}.yaml`;
    super(
      `Invalid configuration for stack "${stack}" (${file}):\n${problems.map((p) => `  - ${PROJECT}:${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Reads one raw config value (as the engine hands it over: a string, or undefined when unset). */
export type RawConfig = (key: string) => string | undefined;

// A DNS label: it becomes a container alias, a DNS SAN and a SPIFFE path segment.
const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// SPIFFE trust domain: lowercase letters, digits, dots, dashes and underscores.
const TRUST_DOMAIN_PATTERN = /^[a-z0-9._-]{1,255}$/;
const HOURS_IN_YEAR = 8766;

/** Parses and validates the whole configuration; throws ConfigError listing every problem. */
export function parseConfig(raw: RawConfig, stack: string): MtlsConfig {
  const problems: string[] = [];
  const reader = new ValueReader(raw, problems);

  const keyAlgorithmRaw = reader.string("keyAlgorithm", CONFIG_DEFAULTS.keyAlgorithm);
  const parsedKey = parseKeyAlgorithm(keyAlgorithmRaw);
  if ("error" in parsedKey)
    problems.push(`keyAlgorithm: ${JSON.stringify(keyAlgorithmRaw)} ${parsedKey.error}`);

  const caValidityHours = reader.hours("caValidityHours", CONFIG_DEFAULTS.caValidityHours);
  const intermediateCa = reader.boolean("intermediateCa", CONFIG_DEFAULTS.intermediateCa);
  const intermediateValidityHours = reader.hours(
    "intermediateValidityHours",
    CONFIG_DEFAULTS.intermediateValidityHours,
  );
  const leafValidityHours = reader.hours("leafValidityHours", CONFIG_DEFAULTS.leafValidityHours);
  const earlyRenewalHours = reader.integer("earlyRenewalHours", CONFIG_DEFAULTS.earlyRenewalHours, 0);

  // A certificate must not outlive the one that signed it: its chain would expire under it.
  if (intermediateCa && intermediateValidityHours > caValidityHours) {
    problems.push(
      `intermediateValidityHours: ${intermediateValidityHours} h outlives the root CA (caValidityHours = ${caValidityHours} h); make it shorter`,
    );
  }
  const issuerKey = intermediateCa ? "intermediateValidityHours" : "caValidityHours";
  const issuerHours = intermediateCa ? intermediateValidityHours : caValidityHours;
  if (leafValidityHours > issuerHours) {
    problems.push(
      `leafValidityHours: ${leafValidityHours} h outlives its issuing CA (${issuerKey} = ${issuerHours} h); make it shorter`,
    );
  }
  if (earlyRenewalHours >= leafValidityHours) {
    problems.push(
      `earlyRenewalHours: ${earlyRenewalHours} h is not shorter than leafValidityHours (${leafValidityHours} h), so every run would re-issue every certificate; make it shorter`,
    );
  }

  const subject: SubjectConfig = {
    organization: reader.subjectField("organization", CONFIG_DEFAULTS.organization),
  };
  const organizationalUnit = reader.optionalSubjectField("organizationalUnit");
  if (organizationalUnit) subject.organizationalUnit = organizationalUnit;
  const province = reader.optionalSubjectField("province");
  if (province) subject.province = province;
  const locality = reader.optionalSubjectField("locality");
  if (locality) subject.locality = locality;
  const country = reader.optionalString("country");
  if (country !== undefined && country !== "") {
    if (/^[A-Z]{2}$/.test(country)) subject.country = country;
    else
      problems.push(
        `country: ${JSON.stringify(country)} is not a two-letter ISO 3166 code in capitals (e.g. "DE")`,
      );
  }

  const trustDomain = reader.string("trustDomain", CONFIG_DEFAULTS.trustDomain);
  if (!TRUST_DOMAIN_PATTERN.test(trustDomain)) {
    problems.push(
      `trustDomain: ${JSON.stringify(trustDomain)} is not a SPIFFE trust domain (lowercase letters, digits, ".", "-", "_")`,
    );
  }

  const serverName = reader.name("serverName", CONFIG_DEFAULTS.serverName);
  const serverPort = reader.integer("serverPort", CONFIG_DEFAULTS.serverPort, 1, 65535);
  const clients = reader.names("clients", CONFIG_DEFAULTS.clients);
  if (clients.length === 0) problems.push("clients: the list is empty; name at least one client");
  for (const duplicate of duplicatesOf(clients)) {
    problems.push(`clients: ${JSON.stringify(duplicate)} is listed more than once; names must be unique`);
  }
  if (clients.includes(serverName)) {
    problems.push(
      `clients: ${JSON.stringify(serverName)} is also the serverName; a client and the server need distinct names`,
    );
  }
  // Empty (the default) means every configured client.
  const listed = reader.names("allowedClients", []);
  const allowedClients = listed.length > 0 ? listed : clients;
  for (const name of allowedClients) {
    if (!clients.includes(name)) {
      problems.push(
        `allowedClients: ${JSON.stringify(name)} is not one of the configured clients (${clients.join(", ")})`,
      );
    }
  }

  const tlsPolicy = reader.string("tlsPolicy", CONFIG_DEFAULTS.tlsPolicy);
  if (!(TLS_POLICIES as readonly string[]).includes(tlsPolicy)) {
    problems.push(`tlsPolicy: ${JSON.stringify(tlsPolicy)} is not one of ${TLS_POLICIES.join(", ")}`);
  }
  const publishPort = reader.integer("publishPort", CONFIG_DEFAULTS.publishPort, 0, 65535);
  const baseImage = reader.string("baseImage", CONFIG_DEFAULTS.baseImage);
  if (baseImage.trim() === "") problems.push("baseImage: is empty; name a Node >= 24 image");

  if (problems.length > 0 || "error" in parsedKey) throw new ConfigError(stack, problems);

  return {
    stack,
    keyAlgorithm: parsedKey.name,
    key: parsedKey.spec,
    caValidityHours,
    intermediateCa,
    intermediateValidityHours,
    leafValidityHours,
    earlyRenewalHours,
    subject,
    trustDomain,
    server: { name: serverName, port: serverPort },
    clients,
    allowedClients,
    tlsPolicy: tlsPolicy as TlsPolicy,
    publishPort: publishPort === 0 ? undefined : publishPort,
    baseImage,
  };
}

function duplicatesOf(values: string[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) duplicates.add(value);
    seen.add(value);
  }
  return [...duplicates];
}

/** Reads typed values from the raw config, recording a problem (and returning the default) on bad input. */
class ValueReader {
  private readonly raw: RawConfig;
  private readonly problems: string[];

  constructor(raw: RawConfig, problems: string[]) {
    this.raw = raw;
    this.problems = problems;
  }

  optionalString(key: string): string | undefined {
    const value = this.raw(key);
    return value === undefined ? undefined : value.trim();
  }

  string(key: string, fallback: string): string {
    return this.optionalString(key) ?? fallback;
  }

  integer(key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.optionalString(key);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      this.problems.push(`${key}: ${JSON.stringify(text)} is not a whole number`);
      return fallback;
    }
    if (value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
      this.problems.push(`${key}: ${value} is out of range; it must be ${range}`);
      return fallback;
    }
    return value;
  }

  /** A validity in hours: at least one hour, at most 100 years (beyond that it is surely a typo). */
  hours(key: string, fallback: number): number {
    return this.integer(key, fallback, 1, 100 * HOURS_IN_YEAR);
  }

  boolean(key: string, fallback: boolean): boolean {
    const text = this.optionalString(key);
    if (text === undefined) return fallback;
    if (text === "true") return true;
    if (text === "false") return false;
    this.problems.push(`${key}: ${JSON.stringify(text)} is not true or false`);
    return fallback;
  }

  subjectField(key: string, fallback: string): string {
    return this.optionalSubjectField(key) ?? fallback;
  }

  optionalSubjectField(key: string): string | undefined {
    const value = this.optionalString(key);
    if (value === undefined || value === "") return undefined;
    // X.520 upper bound for O/OU/L/ST (ub-organization-name etc. are 64).
    if (value.length > 64) {
      this.problems.push(`${key}: is ${value.length} characters long; X.509 allows at most 64`);
      return undefined;
    }
    return value;
  }

  name(key: string, fallback: string): string {
    const value = this.string(key, fallback);
    this.checkName(key, value);
    return value;
  }

  /** A list of names: a YAML/JSON array, or a comma-separated string as `pulumi config set` makes it. */
  names(key: string, fallback: readonly string[]): string[] {
    const text = this.optionalString(key);
    if (text === undefined) return [...fallback];
    let values: unknown;
    if (text.startsWith("[")) {
      try {
        values = JSON.parse(text);
      } catch {
        this.problems.push(`${key}: ${JSON.stringify(text)} is not a list of names`);
        return [...fallback];
      }
    } else {
      values = text === "" ? [] : text.split(",").map((part) => part.trim());
    }
    if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
      this.problems.push(`${key}: ${JSON.stringify(text)} is not a list of names`);
      return [...fallback];
    }
    for (const value of values as string[]) this.checkName(key, value);
    return values as string[];
  }

  private checkName(key: string, value: string): void {
    if ((RESERVED_NAMES as readonly string[]).includes(value)) {
      this.problems.push(
        `${key}: ${JSON.stringify(value)} is reserved for the CA's own certificates; choose another name`,
      );
    } else if (!NAME_PATTERN.test(value)) {
      this.problems.push(
        `${key}: ${JSON.stringify(value)} is not a valid name (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit: it becomes a DNS name)`,
      );
    }
  }
}

/**
 * Reads the stack's configuration through Pulumi. Values are read as the raw strings the engine
 * passes (arrays arrive as JSON), so every type error gets this module's message, naming the stack.
 */
export function loadConfig(): MtlsConfig {
  const config = new pulumi.Config(PROJECT);
  const stack = pulumi.getStack();
  try {
    return parseConfig((key) => config.get(key), stack);
  } catch (error) {
    // RunError makes the CLI print the message alone, without a stack trace.
    if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}
