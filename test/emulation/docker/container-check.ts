/**
 * docker.Container's schema as the provider declares it (kreuzwerker `resource_docker_container.go`,
 * v4.x): which inputs force a replacement, which are sets or provider-computed, the defaults the
 * provider fills in, and its validations (with its messages, prefixed with where they apply).
 *
 * Inputs without a rule here are rejected (`rejectUnemulated`), so that a program cannot rely on a
 * property the emulation would silently ignore.
 */
import type { Inputs } from "../engine/provider.ts";
import { containsUnknown, type PropertyRules, rejectUnemulated } from "./diff.ts";

export const CONTAINER_TYPE = "docker:index/container:Container";

const FN = { forceNew: true } as const;
const FN_SET = { forceNew: true, set: true } as const;
const FN_COMPUTED = { forceNew: true, computed: true } as const;
const IN_PLACE = {} as const;

export const CONTAINER_RULES: PropertyRules = {
  name: FN_COMPUTED,
  image: FN,
  command: FN_COMPUTED,
  entrypoints: FN_COMPUTED,
  envs: { forceNew: true, computed: true, set: true },
  user: FN,
  workingDir: FN,
  hostname: FN_COMPUTED,
  domainname: FN,
  labels: { forceNew: true, computed: true, set: true },
  logDriver: FN_COMPUTED,
  logOpts: FN,
  readOnly: FN,
  privileged: FN,
  capabilities: FN_SET,
  securityOpts: { forceNew: true, computed: true, set: true },
  mounts: FN_SET,
  volumes: FN_SET,
  networkMode: FN,
  networksAdvanced: FN_SET,
  ports: FN,
  hosts: FN_SET,
  ulimits: FN_SET,
  dns: FN_SET,
  dnsOpts: FN_SET,
  dnsSearches: FN_SET,
  groupAdds: FN_SET,
  sysctls: FN,
  shmSize: FN_COMPUTED,
  stopSignal: FN_COMPUTED,
  stopTimeout: FN_COMPUTED,
  tty: FN,
  stdinOpen: FN,
  publishAllPorts: FN,
  pidMode: FN,
  ipcMode: FN_COMPUTED,
  usernsMode: FN,
  cpus: FN,
  uploads: FN_SET,
  // Applied in place by Update (ContainerUpdate):
  restart: IN_PLACE,
  maxRetryCount: IN_PLACE,
  memory: IN_PLACE,
  memoryReservation: IN_PLACE,
  memorySwap: IN_PLACE,
  cpuShares: IN_PLACE,
  cpuSet: IN_PLACE,
  mustRun: IN_PLACE,
  // Stored in the state only: changing them touches nothing on the engine. (healthcheck and tmpfs
  // included: the provider's Update does not apply them, the running container keeps the old ones.)
  healthcheck: { computed: true },
  tmpfs: IN_PLACE,
  init: { computed: true },
  start: IN_PLACE,
  wait: IN_PLACE,
  waitTimeout: IN_PLACE,
  attach: IN_PLACE,
  logs: IN_PLACE,
  rm: IN_PLACE,
  removeVolumes: IN_PLACE,
  destroyGraceSeconds: IN_PLACE,
  containerReadRefreshTimeoutMilliseconds: IN_PLACE,
};

/** Properties the provider's Update sends to the engine with ContainerUpdate. */
export const UPDATABLE = [
  "restart",
  "maxRetryCount",
  "memory",
  "memoryReservation",
  "memorySwap",
  "cpuShares",
  "cpuSet",
];

export interface Upload {
  file: string;
  content?: string;
  contentBase64?: string;
  source?: string;
  sourceHash?: string;
  executable?: boolean;
  permissions?: string;
  owner?: string;
  group?: string;
}

export interface Healthcheck {
  tests?: string[];
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: number;
}

export interface Port {
  internal: number;
  external?: number;
  ip?: string;
  protocol?: string;
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration, in nanoseconds; undefined when the text is not a duration. */
export function parseGoDuration(text: string): number | undefined {
  if (text === "0") return 0;
  const match = /^([-+]?)((?:\d*\.?\d*(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match) return undefined;
  let total = 0;
  for (const part of match[2]!.matchAll(/(\d*\.?\d*)(ns|us|µs|ms|s|m|h)/g)) {
    if (part[1] === "" || part[1] === ".") return undefined;
    total += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  }
  return match[1] === "-" ? -total : total;
}

function fail(name: string, where: string, message: string): never {
  throw new Error(`${CONTAINER_TYPE} "${name}": ${where}: ${message}`);
}

function matches(name: string, where: string, value: unknown, pattern: RegExp): void {
  if (typeof value === "string" && !pattern.test(value)) {
    fail(name, where, `'${value}' doesn't match the pattern '${pattern.source}'`);
  }
}

function atLeast(name: string, where: string, value: unknown, min: number): void {
  if (typeof value === "number" && value < min) fail(name, where, `'${value}' cannot be lower than ${min}`);
}

function checkUpload(name: string, upload: Upload, index: number): Upload {
  const where = `uploads[${index}]`;
  if (containsUnknown(upload)) return upload;
  const given = [upload.content, upload.contentBase64, upload.source].filter(
    (v) => v !== undefined && v !== "",
  );
  if (given.length === 0) {
    fail(
      name,
      where,
      "error with upload content: one of 'content', 'content_base64', or 'source' must be set",
    );
  }
  if (given.length > 1) {
    fail(
      name,
      where,
      "error with upload content: only one of 'content', 'content_base64', or 'source' can be set",
    );
  }
  if (upload.contentBase64 !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(upload.contentBase64)) {
    // The provider echoes the value; uploads carry private keys, so this message does not.
    fail(name, `${where}.contentBase64`, "value is not base64 decodeable");
  }
  matches(name, `${where}.permissions`, upload.permissions, /^0[0-7]{3}$/);
  for (const field of ["owner", "group"] as const) {
    const value = upload[field];
    // The provider resolves names in the user database of the machine running Pulumi, not in the
    // image; the emulation takes the stricter reading and accepts numeric ids only.
    if (value !== undefined && !/^\d+$/.test(value)) {
      fail(name, `${where}.${field}`, `'${value}' is not a numeric id (names are not emulated)`);
    }
  }
  return { ...upload, executable: upload.executable ?? false };
}

function checkHealthcheck(name: string, healthcheck: Healthcheck): Healthcheck {
  const checked: Healthcheck = {
    ...healthcheck,
    interval: healthcheck.interval ?? "0s",
    timeout: healthcheck.timeout ?? "0s",
    startPeriod: healthcheck.startPeriod ?? "0s",
    startInterval: healthcheck.startInterval ?? "0s",
    retries: healthcheck.retries ?? 0,
  };
  for (const field of ["interval", "timeout", "startPeriod", "startInterval"] as const) {
    const value = checked[field]!;
    if (containsUnknown(value)) continue;
    const ns = parseGoDuration(value);
    if (ns === undefined) fail(name, `healthcheck.${field}`, `'${value}' is not a valid duration`);
    if (ns < 0) fail(name, `healthcheck.${field}`, `'${value}' duration must not be negative`);
  }
  atLeast(name, "healthcheck.retries", checked.retries, 0);
  return checked;
}

/** The provider's defaults and validations; `name` stays as given (autonaming happens at create). */
export function checkContainer(name: string, inputs: Inputs): Inputs {
  rejectUnemulated(CONTAINER_TYPE, CONTAINER_RULES, inputs);
  if (inputs.image === undefined || inputs.image === "")
    fail(name, "image", "missing required property 'image'");
  matches(name, "restart", inputs.restart, /^(no|on-failure|always|unless-stopped)$/);
  matches(name, "cpuSet", inputs.cpuSet, /^\d+([,-]\d+)*$/);
  for (const field of ["memory", "memoryReservation", "shmSize", "cpuShares", "maxRetryCount"]) {
    atLeast(name, field, inputs[field], 0);
  }
  atLeast(name, "memorySwap", inputs.memorySwap, -1);
  if (Array.isArray(inputs.command) && inputs.command.some((arg) => arg === "")) {
    fail(name, "command", "values for command may not be empty");
  }
  for (const [index, mount] of ((inputs.mounts ?? []) as { type?: unknown }[]).entries()) {
    matches(name, `mounts[${index}].type`, mount.type, /^(bind|volume|tmpfs)$/);
  }
  const checked: Inputs = {
    ...inputs,
    restart: inputs.restart ?? "no",
    mustRun: inputs.mustRun ?? true,
    start: inputs.start ?? true,
    wait: inputs.wait ?? false,
    waitTimeout: inputs.waitTimeout ?? 60,
    attach: inputs.attach ?? false,
    logs: inputs.logs ?? false,
    rm: inputs.rm ?? false,
    removeVolumes: inputs.removeVolumes ?? true,
    readOnly: inputs.readOnly ?? false,
    privileged: inputs.privileged ?? false,
    publishAllPorts: inputs.publishAllPorts ?? false,
    tty: inputs.tty ?? false,
    stdinOpen: inputs.stdinOpen ?? false,
    networkMode: inputs.networkMode ?? "bridge",
    memoryReservation: inputs.memoryReservation ?? 0,
    containerReadRefreshTimeoutMilliseconds: inputs.containerReadRefreshTimeoutMilliseconds ?? 15000,
  };
  if (Array.isArray(inputs.ports)) {
    checked.ports = (inputs.ports as Port[]).map((port) => ({
      ...port,
      ip: port.ip || "0.0.0.0",
      protocol: port.protocol ?? "tcp",
    }));
  }
  if (Array.isArray(inputs.uploads)) {
    checked.uploads = (inputs.uploads as Upload[]).map((upload, index) => checkUpload(name, upload, index));
  }
  if (inputs.healthcheck && typeof inputs.healthcheck === "object" && !containsUnknown(inputs.healthcheck)) {
    checked.healthcheck = checkHealthcheck(name, inputs.healthcheck as Healthcheck);
  }
  return checked;
}
