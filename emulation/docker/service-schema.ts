/**
 * docker.Service's schema (kreuzwerker `resource_docker_service.go`), reduced to the inputs a
 * hardened replicated service uses. Only `name` forces a replacement (delete-first when the program
 * names it, create-first when auto-named); everything else is applied in place by a service update,
 * after which Swarm rolls the tasks per `updateConfig`. Any other input or nested field is refused,
 * and so are `mode.global` (a replacement the emulation does not model), published ports (ingress
 * needs IPVS; see docs/PROVIDER-FACTS.md) and the deprecated `networksAdvanceds[].name`.
 */
import type { Inputs } from "../engine/provider.ts";
import { containsUnknown, isUnknownValue } from "../engine/values.ts";
import { parseGoDuration } from "./container-schema.ts";
import { type PropertyRules, rejectUnemulated } from "./diff.ts";

export const SERVICE_TYPE = "docker:index/service:Service";

export const SERVICE_RULES: PropertyRules = {
  name: { forceNew: true, computed: true },
  labels: { set: true },
  taskSpec: {},
  mode: { computed: true },
  updateConfig: {},
  rollbackConfig: {},
  endpointSpec: { computed: true },
  convergeConfig: {},
};

/** Modelled fields of each nested block, by path; anything else is refused. */
const FIELDS: Record<string, readonly string[]> = {
  taskSpec: ["containerSpec", "resources", "networksAdvanceds", "restartPolicy", "logDriver", "forceUpdate"],
  "taskSpec.logDriver": ["name", "options"],
  "taskSpec.containerSpec": [
    "image",
    "args",
    "commands",
    "env",
    "user",
    "readOnly",
    "capAdds",
    "capDrops",
    "healthcheck",
    "secrets",
    "stopGracePeriod",
  ],
  "taskSpec.containerSpec.healthcheck": ["tests", "interval", "timeout", "startPeriod", "retries"],
  "taskSpec.containerSpec.secrets": ["secretId", "secretName", "fileName", "fileUid", "fileGid", "fileMode"],
  "taskSpec.resources": ["limits"],
  "taskSpec.resources.limits": ["memoryBytes", "nanoCpus"],
  "taskSpec.networksAdvanceds": ["id", "aliases"],
  "taskSpec.restartPolicy": ["condition", "delay", "maxAttempts", "window"],
  mode: ["replicated"],
  "mode.replicated": ["replicas"],
  updateConfig: ["parallelism", "delay", "failureAction", "monitor", "maxFailureRatio", "order"],
  rollbackConfig: ["parallelism", "delay", "failureAction", "monitor", "maxFailureRatio", "order"],
  endpointSpec: ["mode"],
  convergeConfig: ["delay", "timeout"],
};

/** Why a field is refused, where it matters to the user. */
const REASONS: Record<string, string> = {
  "taskSpec.networksAdvanceds.name":
    "deprecated by the provider (it plans a replacement after a refresh); use id",
  "endpointSpec.ports":
    "not emulated: ingress publishing needs IPVS and cannot bind 127.0.0.1; call the service from a container on its network",
  "mode.global": "not emulated (a global service is replaced, not updated)",
};

export interface ServiceSecretRef {
  secretId: string;
  secretName?: string;
  fileName: string;
  fileUid?: string;
  fileGid?: string;
  fileMode?: number;
}

function fail(name: string, where: string, message: string): never {
  throw new Error(`${SERVICE_TYPE} "${name}": ${where}: ${message}`);
}

function walk(name: string, path: string, value: unknown, where: string): void {
  const fields = FIELDS[path];
  if (!fields || value === undefined || value === null || isUnknownValue(value)) return;
  const blocks = Array.isArray(value) ? value : [value];
  blocks.forEach((block, index) => {
    if (isUnknownValue(block) || typeof block !== "object" || block === null) return;
    const here = Array.isArray(value) ? `${where}[${index}]` : where;
    for (const [key, field] of Object.entries(block as Record<string, unknown>)) {
      if (field === undefined || field === null) continue;
      if (!fields.includes(key)) {
        fail(name, `${here}.${key}`, REASONS[`${path}.${key}`] ?? "field not emulated");
      }
      walk(name, `${path}.${key}`, field, `${here}.${key}`);
    }
  });
}

const DURATIONS = ["delay", "monitor", "interval", "timeout", "startPeriod", "window", "stopGracePeriod"];

function checkDurations(name: string, where: string, block: Record<string, unknown> | undefined): void {
  if (!block || containsUnknown(block)) return;
  for (const key of DURATIONS) {
    const value = block[key];
    if (typeof value === "string" && parseGoDuration(value) === undefined) {
      fail(name, `${where}.${key}`, `'${value}' is not a valid duration`);
    }
  }
}

const ORDERS = ["stop-first", "start-first"];
const FAILURE_ACTIONS = ["pause", "continue", "rollback"];

/** The provider's validations and defaults; `name` stays as given (autonaming happens at create). */
export function checkService(name: string, inputs: Inputs): Inputs {
  rejectUnemulated(SERVICE_TYPE, SERVICE_RULES, inputs);
  for (const key of Object.keys(FIELDS).filter((k) => !k.includes("."))) {
    walk(name, key, inputs[key], key);
  }
  const taskSpec = inputs.taskSpec as Record<string, unknown> | undefined;
  if (!taskSpec) fail(name, "taskSpec", "missing required property 'taskSpec'");
  const containerSpec = taskSpec.containerSpec as Record<string, unknown> | undefined;
  if (!isUnknownValue(containerSpec)) {
    if (!containerSpec?.image)
      fail(name, "taskSpec.containerSpec.image", "missing required property 'image'");
    checkDurations(name, "taskSpec.containerSpec", containerSpec);
    checkDurations(
      name,
      "taskSpec.containerSpec.healthcheck",
      containerSpec.healthcheck as Record<string, unknown>,
    );
    ((containerSpec.secrets ?? []) as ServiceSecretRef[]).forEach((ref, index) => {
      if (containsUnknown(ref)) return;
      const where = `taskSpec.containerSpec.secrets[${index}]`;
      if (!ref.fileName) fail(name, `${where}.fileName`, "missing required property 'fileName'");
      for (const field of ["fileUid", "fileGid"] as const) {
        const value = ref[field];
        if (value !== undefined && !/^\d+$/.test(value))
          fail(name, `${where}.${field}`, `'${value}' is not a numeric id`);
      }
    });
  }
  checkDurations(name, "taskSpec.restartPolicy", taskSpec.restartPolicy as Record<string, unknown>);
  for (const key of ["updateConfig", "rollbackConfig"] as const) {
    const block = inputs[key] as Record<string, unknown> | undefined;
    if (!block || containsUnknown(block)) continue;
    checkDurations(name, key, block);
    if (block.order !== undefined && !ORDERS.includes(block.order as string)) {
      fail(name, `${key}.order`, `'${String(block.order)}' is not one of ${ORDERS.join(", ")}`);
    }
    const actions = key === "updateConfig" ? FAILURE_ACTIONS : ["pause", "continue"];
    if (block.failureAction !== undefined && !actions.includes(block.failureAction as string)) {
      fail(
        name,
        `${key}.failureAction`,
        `'${String(block.failureAction)}' is not one of ${actions.join(", ")}`,
      );
    }
  }
  const replicas = (inputs.mode as { replicated?: { replicas?: unknown } } | undefined)?.replicated?.replicas;
  if (typeof replicas === "number" && (!Number.isInteger(replicas) || replicas < 0)) {
    fail(name, "mode.replicated.replicas", `'${replicas}' cannot be lower than 0`);
  }
  const endpointMode = (inputs.endpointSpec as { mode?: unknown } | undefined)?.mode;
  if (
    endpointMode !== undefined &&
    !containsUnknown(endpointMode) &&
    !["vip", "dnsrr"].includes(endpointMode as string)
  ) {
    fail(name, "endpointSpec.mode", `'${String(endpointMode)}' is not one of vip, dnsrr`);
  }
  // The provider's defaults, as its Read fills them in.
  return {
    ...inputs,
    mode: { replicated: { replicas: replicas ?? 1 } },
    endpointSpec: { mode: endpointMode ?? "vip" },
  };
}
