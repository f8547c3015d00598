/**
 * Hardening of every workload that holds an mTLS identity (lib/workloads.ts says which those are
 * and reads each runtime into one shape). Mandatory: what keeps a compromised service from
 * becoming root on the host, where every identity's key lives. Advisory: the rest of the
 * defence in depth.
 */
import type { ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { configWith, message } from "../lib/define";
import { describe, StackIndex } from "../lib/stack-graph";
import { DEFAULT_APP_VARIABLES, UNKNOWN, type Workload, workloadsOf } from "../lib/workloads";

const appVariablesSchema = {
  appVariables: {
    type: "array" as const,
    items: { type: "string" as const },
    default: DEFAULT_APP_VARIABLES,
    description:
      'MTLS_ variables that do not make a workload hold an identity (those the sidecar components give to an app); a trailing "*" matches a prefix.',
  },
};

interface Check {
  name: string;
  description: string;
  enforcementLevel: "mandatory" | "advisory";
  remediationSteps: string;
  extraConfig?: Record<string, unknown>;
  /** The problem with this workload, or undefined when it passes (or cannot be judged yet). */
  problem(w: Workload, config: Record<string, unknown>): { problem: string; fix: string } | undefined;
}

function policy(check: Check): StackValidationPolicy {
  return {
    name: check.name,
    description: check.description,
    enforcementLevel: check.enforcementLevel,
    remediationSteps: check.remediationSteps,
    configSchema: { properties: { ...appVariablesSchema, ...(check.extraConfig ?? {}) } as never },
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const config = configWith<Record<string, unknown>>(args, {
        appVariables: DEFAULT_APP_VARIABLES,
        ...Object.fromEntries(
          Object.entries(check.extraConfig ?? {}).map(([k, v]) => [k, (v as { default: unknown }).default]),
        ),
      });
      const index = new StackIndex(args.resources);
      for (const w of workloadsOf(index, { appVariables: config.appVariables as string[] })) {
        const found = check.problem(w, config);
        if (!found) continue;
        report(
          message({
            problem: `${describe(w.resource)} (a ${w.runtime} that holds an identity: ${w.identity}) ${found.problem}`,
            fix: found.fix,
          }),
          w.resource.urn,
        );
      }
    },
  };
}

const rootUser = (user: string) => {
  const uid = user.split(":")[0] ?? "";
  return uid === "0" || uid === "root";
};

export const nonRoot = policy({
  name: "workload-non-root",
  description: "Workloads that hold an mTLS identity run as a non-root user.",
  enforcementLevel: "mandatory",
  remediationSteps: 'Set user to a numeric non-root uid:gid (the services\' image uses "10001:10001").',
  problem: (w) => {
    if (w.user === UNKNOWN) return undefined;
    if (w.user === undefined) {
      return {
        problem: "sets no user, so it runs as the image's user (root unless the image says otherwise)",
        fix: 'set user: "10001:10001" (a numeric non-root uid:gid)',
      };
    }
    return rootUser(w.user)
      ? { problem: `runs as ${w.user}`, fix: "set user to a numeric non-root uid:gid" }
      : undefined;
  },
});

export const capabilitiesDropped = policy({
  name: "workload-capabilities-dropped",
  description:
    "Workloads that hold an mTLS identity drop every Linux capability (and are not privileged); only configured ones may be added back.",
  enforcementLevel: "mandatory",
  remediationSteps:
    'Docker: capabilities: { drops: ["ALL"] } and no privileged; swarm: capDrops: ["ALL"]. Add back only what the service needs (allowedCapabilities).',
  extraConfig: {
    allowedCapabilities: {
      type: "array",
      items: { type: "string" },
      default: [],
      description: "Capabilities a workload may add back (e.g. NET_BIND_SERVICE).",
    },
  },
  problem: (w, config) => {
    if (w.privileged === true) return { problem: "is privileged", fix: "remove privileged: true" };
    if (w.capabilityDrops === UNKNOWN || w.capabilityAdds === UNKNOWN) return undefined;
    const drops = w.capabilityDrops.map((c) => c.toUpperCase().replace(/^CAP_/, ""));
    if (!drops.includes("ALL")) {
      return {
        problem: `does not drop every capability (drops: [${w.capabilityDrops.join(", ")}])`,
        fix: w.runtime === "swarm service" ? 'set capDrops: ["ALL"]' : 'set capabilities: { drops: ["ALL"] }',
      };
    }
    const allowed = (config.allowedCapabilities as string[]).map((c) => c.toUpperCase().replace(/^CAP_/, ""));
    const extra = w.capabilityAdds.filter((c) => !allowed.includes(c.toUpperCase().replace(/^CAP_/, "")));
    return extra.length > 0
      ? {
          problem: `adds the capabilities ${extra.join(", ")} back`,
          fix: "remove them, or list them in this policy's allowedCapabilities",
        }
      : undefined;
  },
});

export const noNewPrivileges = policy({
  name: "workload-no-new-privileges",
  description:
    "Docker containers that hold an mTLS identity set no-new-privileges (a swarm service spec cannot, through the docker provider: not checked there).",
  enforcementLevel: "mandatory",
  remediationSteps: 'Add securityOpts: ["no-new-privileges:true"] to the container.',
  problem: (w) =>
    w.noNewPrivileges === false
      ? { problem: "does not set no-new-privileges", fix: 'add "no-new-privileges:true" to securityOpts' }
      : undefined,
});

export const readOnlyRoot = policy({
  name: "workload-read-only-root",
  description: "Workloads that hold an mTLS identity run with a read-only root filesystem.",
  enforcementLevel: "advisory",
  remediationSteps: "Set readOnly: true (docker.Container, or taskSpec.containerSpec of a swarm service).",
  problem: (w) =>
    w.readOnlyRoot === false
      ? { problem: "has a writable root filesystem", fix: "set readOnly: true" }
      : undefined,
});

export const memoryLimit = policy({
  name: "workload-memory-limit",
  description: "Workloads that hold an mTLS identity have a memory limit.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Docker: set memory (MB) and memorySwap to the same value; swarm: taskSpec.resources.limits.memoryBytes.",
  problem: (w) =>
    w.memoryBytes !== UNKNOWN && !(w.memoryBytes && w.memoryBytes > 0)
      ? {
          problem: "has no memory limit",
          fix:
            w.runtime === "swarm service"
              ? "set taskSpec.resources.limits.memoryBytes"
              : "set memory (MB) and memorySwap to the same value",
        }
      : undefined,
});

export const noHostNetwork = policy({
  name: "workload-no-host-network",
  description: "Workloads that hold an mTLS identity do not share the host's network namespace.",
  enforcementLevel: "advisory",
  remediationSteps:
    "Attach the workload to a user-defined network (networksAdvanced) and publish only the ports callers need.",
  problem: (w) =>
    w.hostNetwork === true
      ? {
          problem: 'uses the host network (networkMode "host"), so its status listener is open to the host',
          fix: "attach it to a user-defined network instead",
        }
      : undefined,
});

const ALL_INTERFACES = ["0.0.0.0", "::", "[::]"];

export const publishLoopback = policy({
  name: "workload-publish-loopback",
  description:
    "Workloads that hold an mTLS identity publish ports on a given host address (e.g. 127.0.0.1), not on every interface, unless allowPublishOnAllInterfaces is configured.",
  enforcementLevel: "advisory",
  remediationSteps:
    'Give every published port an ip (docker.Container ports[].ip, e.g. "127.0.0.1"); swarm publishes on every interface, so publish nothing there, or set allowPublishOnAllInterfaces.',
  extraConfig: {
    allowPublishOnAllInterfaces: {
      type: "boolean",
      default: false,
      description: "Allow ports published on every interface (0.0.0.0, or any port of a swarm service).",
    },
  },
  problem: (w, config) => {
    if (w.publishedOn === UNKNOWN || config.allowPublishOnAllInterfaces === true) return undefined;
    const all = w.publishedOn.filter((ip) => ALL_INTERFACES.includes(ip));
    if (all.length === 0) return undefined;
    return {
      problem:
        w.runtime === "swarm service"
          ? "publishes ports, which swarm opens on every interface of every node"
          : "publishes a port on every interface (0.0.0.0: ports[].ip not set, or set to it)",
      fix:
        w.runtime === "swarm service"
          ? "publish nothing and call it from the overlay network, or set allowPublishOnAllInterfaces"
          : 'set ports[].ip to "127.0.0.1" (or the one address callers use)',
    };
  },
});
