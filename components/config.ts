/**
 * Typed, validated stack configuration, and its mapping onto the library's component args. Only the
 * program (index.ts) reads it; the components know nothing of stack config. Every key is declared
 * (with its description and default) in Pulumi.yaml; the defaults are repeated here because the
 * program must behave the same when the engine did not apply them (unit tests under mocks).
 *
 * The rules each value follows are the components' own (validation.ts); they are checked here too so
 * that a stack user is told the config key and the stack file rather than a component arg.
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
import { canonicalSerial, parseSerial } from "../services/src/server/serial.ts";
import { FIRST_GENERATION, generationProblems } from "./ca-generations.ts";
import { type KeyAlgorithmName, type KeySpec, parseKeyAlgorithm } from "./key-algorithm.ts";
import {
  KUBERNETES_CONFIG_DEFAULTS,
  type KubernetesConfig,
  kubernetesProblems,
  parseKubernetesConfig,
} from "./kubernetes-config.ts";
import { type MtlsPkiArgs, PKI_DEFAULTS } from "./mtls-pki-args.ts";
import { workloadMembers } from "./mtls-workload-args.ts";
import { DEFAULT_BASE_IMAGE } from "./service-image.ts";
import type { Subject } from "./subject.ts";
import {
  countryProblem,
  duplicatesOf,
  MAX_VALIDITY_HOURS,
  nameProblem,
  subjectFieldProblem,
  trustDomainProblem,
} from "./validation.ts";
import { allocateWorkloadSubnets, DEFAULT_WORKLOAD_SUBNET_POOL } from "./workload-subnets.ts";
import { parseWorkloads, WORKLOADS_KEY, type WorkloadConfig } from "./workloads-config.ts";

export { DEMO_APP_IMAGE, type WorkloadCallConfig, type WorkloadConfig } from "./workloads-config.ts";

export const PROJECT = "mtls-pki";

export interface MtlsConfig {
  stack: string;
  /** The algorithm name as configured, normalised (e.g. "ECDSA-P256"). */
  keyAlgorithm: KeyAlgorithmName;
  key: KeySpec;
  caValidityHours: number;
  intermediateCa: boolean;
  intermediateValidityHours: number;
  leafValidityHours: number;
  earlyRenewalHours: number;
  subject: Subject;
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
  /** CA generations every identity trusts, oldest first. */
  caGenerations: string[];
  /** The generation that signs leaves (the first of caGenerations unless set). */
  issuingCa: string;
  /** Serials the server refuses, in canonical form (services/src/server/serial.ts). */
  revokedSerials: string[];
  /**
   * Where the services run: containers on one Docker engine, services on a Docker Swarm, or
   * Deployments on a Kubernetes cluster.
   */
  runtime: Runtime;
  /** Server tasks on a swarm, server pods on Kubernetes (ignored by the docker runtime). */
  serverReplicas: number;
  /** Runtime kubernetes only: where the cluster is and what the pods run (kubernetes-config.ts). */
  kubernetes: KubernetesConfig;
  /**
   * Users' apps behind our sidecars (workloads-config.ts); empty by default. Each one's `subnet` is
   * set: its own, or its slot of `workloadSubnetPool`.
   */
  workloads: WorkloadConfig[];
  /** The pool the workloads' private networks take their subnets from (workload-subnets.ts). */
  workloadSubnetPool: string;
}

export const RUNTIMES = ["docker", "swarm", "kubernetes"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Defaults, mirrored in Pulumi.yaml (a unit test keeps the two in step). */
export const CONFIG_DEFAULTS = {
  ...PKI_DEFAULTS,
  serverName: DEFAULT_SERVER_NAME,
  serverPort: DEFAULT_SERVER_PORT,
  clients: ["client-a"],
  tlsPolicy: "modern",
  publishPort: 0,
  baseImage: DEFAULT_BASE_IMAGE,
  organizationalUnit: "",
  country: "",
  province: "",
  locality: "",
  allowedClients: [],
  caGenerations: [FIRST_GENERATION],
  // Empty: the first of caGenerations (a declared key needs a default, see Pulumi.yaml).
  issuingCa: "",
  revokedSerials: [],
  runtime: "docker",
  serverReplicas: 2,
  workloads: [],
  workloadSubnetPool: DEFAULT_WORKLOAD_SUBNET_POOL,
  ...KUBERNETES_CONFIG_DEFAULTS,
} as const;

/** The key naming the pool of the workloads' subnets. */
export const WORKLOAD_SUBNET_POOL_KEY = "workloadSubnetPool";

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

  const subject: Subject = {
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
    const problem = countryProblem(country);
    if (problem) problems.push(`country: ${problem}`);
    else subject.country = country;
  }

  const trustDomain = reader.string("trustDomain", CONFIG_DEFAULTS.trustDomain);
  const trustDomainIssue = trustDomainProblem(trustDomain);
  if (trustDomainIssue) problems.push(`trustDomain: ${trustDomainIssue}`);

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
  const runtime = reader.string("runtime", CONFIG_DEFAULTS.runtime);
  if (!(RUNTIMES as readonly string[]).includes(runtime)) {
    problems.push(`runtime: ${JSON.stringify(runtime)} is not one of ${RUNTIMES.join(", ")}`);
  }
  const serverReplicas = reader.integer("serverReplicas", CONFIG_DEFAULTS.serverReplicas, 1);
  if (runtime === "swarm" && publishPort !== 0) {
    problems.push(
      `publishPort: ${publishPort} cannot be used with runtime swarm: the swarm routing mesh publishes on every interface of every node and cannot bind 127.0.0.1; leave it 0 and call the server from a container on the overlay network`,
    );
  }

  // `caGenerations: [1, 2]` in a stack file is YAML numbers: whole numbers name generations as well.
  const caGenerations = reader
    .list("caGenerations", CONFIG_DEFAULTS.caGenerations, "generation names", { numbers: true })
    .map((name) =>
      typeof name === "number" && Number.isSafeInteger(name) && name >= 0 ? String(name) : name,
    )
    .map((name) => (typeof name === "number" ? JSON.stringify(name) : name));
  const issuingSet = reader.string("issuingCa", CONFIG_DEFAULTS.issuingCa);
  const generationIssues = generationProblems(caGenerations, issuingSet === "" ? undefined : issuingSet, {
    generations: "caGenerations",
    issuing: "issuingCa",
  });
  problems.push(...generationIssues.generations.map((p) => `caGenerations: ${p}`));
  problems.push(...generationIssues.issuing.map((p) => `issuingCa: ${p}`));
  const issuingCa = issuingSet === "" ? (caGenerations[0] ?? FIRST_GENERATION) : issuingSet;

  const revokedSerials: string[] = [];
  for (const serial of reader.list("revokedSerials", CONFIG_DEFAULTS.revokedSerials, "serial numbers", {
    numbers: true,
  })) {
    if (typeof serial !== "string") {
      problems.push(
        `revokedSerials: ${JSON.stringify(serial)} is a number; quote it in the stack file ("${serial}"): YAML reads unquoted digits as a number, which loses leading zeros and digits`,
      );
      continue;
    }
    const parsed = parseSerial(serial);
    if (parsed.ok) revokedSerials.push(parsed.serial);
    else problems.push(`revokedSerials: ${JSON.stringify(serial)} ${parsed.problem}`);
  }

  // Workloads (sidecars): their own reader, the same report.
  const workloads = parseWorkloads(raw(WORKLOADS_KEY), [serverName, ...clients], problems);
  if (runtime === "swarm" && workloads.length > 0) {
    problems.push(
      `${WORKLOADS_KEY}: cannot be used with runtime swarm yet: workloads run as containers on one Docker engine or as pods on Kubernetes; use runtime docker or kubernetes for workloads`,
    );
  }
  // Each workload's private network: its own subnet, or a stable slot of the pool. The scope keeps
  // two stacks with the same workload names on one host apart.
  const workloadSubnetPool = reader.string(WORKLOAD_SUBNET_POOL_KEY, CONFIG_DEFAULTS.workloadSubnetPool);
  const allocation = allocateWorkloadSubnets(
    workloadSubnetPool,
    `${PROJECT}/${stack}`,
    workloads.map((w, index) => ({
      name: w.name,
      ...(w.subnet === undefined ? {} : { subnet: w.subnet }),
      members: workloadMembers(w.role, w.calls),
      where: `${WORKLOADS_KEY}[${index}]`,
    })),
    WORKLOAD_SUBNET_POOL_KEY,
  );
  // On Kubernetes a workload is one pod: no private network, so no subnet to allocate.
  if (runtime !== "kubernetes") {
    problems.push(...allocation.problems);
    for (const workload of workloads) workload.subnet = allocation.subnets[workload.name];
  }
  const kubernetes = parseKubernetesConfig((key, fallback) => reader.string(key, fallback), stack, problems);
  if (runtime === "kubernetes") {
    problems.push(
      ...kubernetesProblems({
        publishPort,
        workloads,
        workloadSubnetPoolSet: raw(WORKLOAD_SUBNET_POOL_KEY) !== undefined,
        image: kubernetes.image,
      }),
    );
  }

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
    caGenerations,
    issuingCa,
    revokedSerials: [...new Set(revokedSerials)],
    runtime: runtime as Runtime,
    serverReplicas,
    workloads,
    workloadSubnetPool,
    kubernetes,
  };
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
    return this.integer(key, fallback, 1, MAX_VALIDITY_HOURS);
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
    const problem = subjectFieldProblem(value);
    if (problem) {
      this.problems.push(`${key}: ${problem}`);
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
    const values = this.list(key, fallback, "names");
    for (const value of values) this.checkName(key, value);
    return values;
  }

  /**
   * A list of strings: a YAML/JSON array, or a comma-separated string. With `numbers`, numeric
   * entries are returned as they are (so the caller can say why they are wrong) instead of
   * refusing the whole list.
   */
  list(key: string, fallback: readonly string[], noun: string): string[];
  list(
    key: string,
    fallback: readonly string[],
    noun: string,
    options: { numbers: true },
  ): Array<string | number>;
  list(
    key: string,
    fallback: readonly string[],
    noun: string,
    options?: { numbers: true },
  ): Array<string | number> {
    const text = this.optionalString(key);
    if (text === undefined) return [...fallback];
    let values: unknown;
    if (text.startsWith("[")) {
      try {
        values = JSON.parse(text);
      } catch {
        this.problems.push(`${key}: ${JSON.stringify(text)} is not a list of ${noun}`);
        return [...fallback];
      }
    } else {
      values = text === "" ? [] : text.split(",").map((part) => part.trim());
    }
    const allowed = (v: unknown) =>
      typeof v === "string" || (options?.numbers === true && typeof v === "number");
    if (!Array.isArray(values) || !values.every(allowed)) {
      this.problems.push(`${key}: ${JSON.stringify(text)} is not a list of ${noun}`);
      return [...fallback];
    }
    return values as Array<string | number>;
  }

  private checkName(key: string, value: string): void {
    const problem = nameProblem(value);
    if (problem) this.problems.push(`${key}: ${problem}`);
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

/** The stack's PKI as MtlsPki args. */
export function pkiArgs(config: MtlsConfig): MtlsPkiArgs {
  return {
    keyAlgorithm: config.keyAlgorithm,
    caValidityHours: config.caValidityHours,
    intermediateCa: config.intermediateCa,
    intermediateValidityHours: config.intermediateValidityHours,
    leafValidityHours: config.leafValidityHours,
    earlyRenewalHours: config.earlyRenewalHours,
    subject: config.subject,
    trustDomain: config.trustDomain,
    generations: config.caGenerations,
    issuingGeneration: config.issuingCa,
  };
}

/**
 * The revoked serials (canonical) that match no certificate the stack issues now, each with the
 * warning to print: a typo revokes nothing, which is worth saying, but a serial of a certificate
 * this stack has already replaced (the leaked-key procedure) is expected, so this never fails.
 */
export function unmatchedRevocationWarnings(
  config: Pick<MtlsConfig, "stack" | "revokedSerials">,
  issuedSerials: readonly string[],
): string[] {
  const issued = new Set(issuedSerials.map((serial) => canonicalSerial(serial)));
  return config.revokedSerials
    .filter((serial) => !issued.has(serial))
    .map(
      (serial) =>
        `${PROJECT}:revokedSerials (Pulumi.${config.stack}.yaml): ${serial} matches no certificate this stack issues now; ` +
        "fine for a certificate it has already replaced (keep it until that one's notAfter), otherwise check the serial for a typo",
    );
}
