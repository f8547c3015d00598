/**
 * docker.Container's schema (kreuzwerker `resource_docker_container.go`, v4.x), reduced to the
 * inputs the program uses: which force a replacement, which are sets or provider-computed, the
 * provider's defaults and validations (its messages, prefixed with where they apply). Any other
 * input is refused (`rejectUnemulated`), so a program cannot rely on one the emulation ignores.
 */
import type { Inputs } from "../engine/provider.ts";
import { containsUnknown, isUnknownValue } from "../engine/values.ts";
import { type PropertyRules, rejectUnemulated } from "./diff.ts";

export const CONTAINER_TYPE = "docker:index/container:Container";

const FN = { forceNew: true } as const;
const FN_SET = { forceNew: true, set: true } as const;
const FN_COMPUTED = { forceNew: true, computed: true } as const;
const FN_COMPUTED_SET = { forceNew: true, computed: true, set: true } as const;
const IN_PLACE = {} as const;

export const CONTAINER_RULES: PropertyRules = {
  name: FN_COMPUTED,
  image: FN,
  command: FN_COMPUTED,
  entrypoints: FN_COMPUTED,
  envs: FN_COMPUTED_SET,
  user: FN,
  labels: FN_COMPUTED_SET,
  logDriver: FN_COMPUTED,
  logOpts: FN,
  readOnly: FN,
  capabilities: FN_SET,
  securityOpts: FN_COMPUTED_SET,
  sysctls: FN,
  mounts: FN_SET,
  networkMode: FN,
  networksAdvanced: FN_SET,
  ports: FN,
  uploads: FN_SET,
  // Applied in place by Update (ContainerUpdate); mustRun false -> true starts the container.
  restart: IN_PLACE,
  memory: IN_PLACE,
  memorySwap: IN_PLACE,
  mustRun: IN_PLACE,
  // State only: the provider's Update does not apply a new healthcheck (the container keeps the old).
  healthcheck: { computed: true },
  start: IN_PLACE,
  // State only: read back at delete, where it is the stop timeout (0 when unset: SIGTERM, then
  // SIGKILL at once).
  destroyGraceSeconds: IN_PLACE,
  wait: IN_PLACE,
  waitTimeout: IN_PLACE,
};

/** Properties the provider's Update sends to the engine with ContainerUpdate. */
export const UPDATABLE = ["restart", "memory", "memorySwap"];

export interface Upload {
  file: string;
  content: string;
  permissions?: string;
  owner?: string;
  group?: string;
}

export interface Healthcheck {
  tests?: string[];
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  retries?: number;
}

export interface Port {
  internal: number;
  external?: number;
  ip?: string;
  protocol?: string;
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds; undefined when the text is not a duration. */
export function parseGoDuration(text: string): number | undefined {
  if (text === "0") return 0;
  if (!/^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g))
    total += Number(n) * UNITS[unit!]!;
  return total;
}

function fail(name: string, where: string, message: string): never {
  throw new Error(`${CONTAINER_TYPE} "${name}": ${where}: ${message}`);
}

function matches(name: string, where: string, value: unknown, pattern: RegExp): void {
  if (typeof value === "string" && !pattern.test(value)) {
    fail(name, where, `'${value}' doesn't match the pattern '${pattern.source}'`);
  }
}

/** The fields of nested blocks the emulation models; any other field is refused. */
const FIELDS: Record<string, readonly string[]> = {
  uploads: ["file", "content", "permissions", "owner", "group"],
  mounts: ["type", "source", "target", "readOnly"],
  networksAdvanced: ["name", "aliases"],
  ports: ["internal", "external", "ip", "protocol"],
  capabilities: ["adds", "drops"],
  healthcheck: ["tests", "interval", "timeout", "startPeriod", "retries"],
};

function refuseUnmodelledFields(name: string, inputs: Inputs): void {
  for (const [property, fields] of Object.entries(FIELDS)) {
    const value = inputs[property];
    const blocks = (Array.isArray(value) ? value : value ? [value] : []) as Record<string, unknown>[];
    blocks.forEach((block, index) => {
      if (isUnknownValue(block)) return;
      const extra = Object.keys(block).filter((k) => !fields.includes(k) && block[k] != null);
      const where = Array.isArray(value) ? `${property}[${index}]` : property;
      if (extra.length > 0) fail(name, where, `field(s) not emulated: ${extra.join(", ")}`);
    });
  }
}

function checkUpload(name: string, upload: Upload, index: number): void {
  const where = `uploads[${index}]`;
  if (containsUnknown(upload)) return;
  if (upload.content === undefined || upload.content === "") {
    fail(
      name,
      where,
      "error with upload content: one of 'content', 'content_base64', or 'source' must be set",
    );
  }
  matches(name, `${where}.permissions`, upload.permissions, /^0[0-7]{3}$/);
  for (const field of ["owner", "group"] as const) {
    // The provider resolves names on the machine running Pulumi, not in the image: numeric ids only.
    const value = upload[field];
    if (value !== undefined && !/^\d+$/.test(value))
      fail(name, `${where}.${field}`, `'${value}' is not a numeric id (names are not emulated)`);
  }
}

/** The provider's defaults and validations; `name` stays as given (autonaming happens at create). */
export function checkContainer(name: string, inputs: Inputs): Inputs {
  rejectUnemulated(CONTAINER_TYPE, CONTAINER_RULES, inputs);
  refuseUnmodelledFields(name, inputs);
  if (inputs.image === undefined || inputs.image === "")
    fail(name, "image", "missing required property 'image'");
  matches(name, "restart", inputs.restart, /^(no|on-failure|always|unless-stopped)$/);
  if (typeof inputs.memory === "number" && inputs.memory < 0)
    fail(name, "memory", `'${inputs.memory}' cannot be lower than 0`);
  if (typeof inputs.memorySwap === "number" && inputs.memorySwap < -1) {
    fail(name, "memorySwap", `'${inputs.memorySwap}' cannot be lower than -1`);
  }
  if (Array.isArray(inputs.command) && inputs.command.some((arg) => arg === "")) {
    fail(name, "command", "values for command may not be empty");
  }
  for (const [index, mount] of ((inputs.mounts ?? []) as Record<string, unknown>[]).entries()) {
    if (mount.type !== "volume" && !containsUnknown(mount.type))
      fail(name, `mounts[${index}].type`, `'${String(mount.type)}' is not emulated (volume only)`);
  }
  ((inputs.uploads ?? []) as Upload[]).forEach((upload, index) => {
    checkUpload(name, upload, index);
  });
  const healthcheck = inputs.healthcheck as Healthcheck | undefined;
  if (healthcheck && !containsUnknown(healthcheck)) {
    for (const field of ["interval", "timeout", "startPeriod"] as const) {
      const value = healthcheck[field];
      if (value !== undefined && parseGoDuration(value) === undefined)
        fail(name, `healthcheck.${field}`, `'${value}' is not a valid duration`);
    }
  }
  const checked: Inputs = {
    ...inputs,
    restart: inputs.restart ?? "no",
    mustRun: inputs.mustRun ?? true,
    start: inputs.start ?? true,
    wait: inputs.wait ?? false,
    waitTimeout: inputs.waitTimeout ?? 60,
    readOnly: inputs.readOnly ?? false,
    networkMode: inputs.networkMode ?? "bridge",
  };
  if (Array.isArray(inputs.ports)) {
    checked.ports = (inputs.ports as Port[]).map((port) => ({
      ...port,
      ip: port.ip || "0.0.0.0",
      protocol: port.protocol ?? "tcp",
    }));
  }
  if (healthcheck && !containsUnknown(healthcheck)) {
    checked.healthcheck = { interval: "0s", timeout: "0s", startPeriod: "0s", retries: 0, ...healthcheck };
  }
  return checked;
}
