/**
 * The stack key `mtls-pki:workloads`: users' apps behind our sidecars (MtlsWorkload), declared in
 * the stack file. Read by config.ts as one more key of the same one-go report: every problem is a
 * line naming the key (`workloads[1].calls[0].server: ...`), under the header naming the stack file.
 *
 *   mtls-pki:workloads:
 *     - { name: orders, role: server, image: my/orders:1, port: 8080, protocol: http }
 *     - name: billing
 *       role: client
 *       image: my/billing:1
 *       calls: [{ server: orders, localPort: 15001 }]
 *
 * Each workload's private network takes a subnet from `mtls-pki:workloadSubnetPool`
 * (workload-subnets.ts) unless it gives one of its own (`subnet`); config.ts allocates them and
 * reports a collision in the same report.
 */
import { DEFAULT_CLIENT_STATUS_PORT } from "../services/src/contract.ts";
import { nameProblem } from "./validation.ts";

export const WORKLOADS_KEY = "workloads";

/** The demo app's tag: a workload with this image gets the demo built from examples/demo-app. */
export const DEMO_APP_IMAGE = "mtls-demo-app:local";

export interface WorkloadCallConfig {
  /** A server workload's name. */
  server: string;
  localPort: number;
}

export interface WorkloadConfig {
  name: string;
  role: "server" | "client";
  image: string;
  /** Server: the app's plain port (it listens on every interface of its container). */
  port?: number;
  /** Server: http (reverse proxy, XFCC) or tcp. */
  protocol?: "http" | "tcp";
  /** Client: the servers it calls and on which port of their tunnels. */
  calls?: WorkloadCallConfig[];
  /** Further environment of the app. */
  env?: Record<string, string>;
  /** The app's user (MtlsWorkload's `appUser`); unset = its default, 10001:10001. */
  user?: string;
  /** Read-only root filesystem (MtlsWorkload's `appReadOnly`); unset = its default, true. */
  readOnly?: boolean;
  /** The app may reach beyond its private network. */
  egress?: boolean;
  /** The private network's subnet of its own, instead of a slot of the pool. */
  subnet?: string;
}

const KNOWN_FIELDS = [
  "name",
  "role",
  "image",
  "port",
  "protocol",
  "calls",
  "env",
  "user",
  "readOnly",
  "egress",
  "subnet",
];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const quote = (value: unknown) => JSON.stringify(value);
const isPort = (value: unknown) =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;

/**
 * Parses the raw value (JSON, as the engine hands over an object from the stack file). `taken` are
 * names the stack already gives identities (the server and the clients). Problems go to `problems`
 * (without the `mtls-pki:` prefix, which ConfigError adds); the workloads that are fine are returned.
 */
export function parseWorkloads(
  raw: string | undefined,
  taken: readonly string[],
  problems: string[],
): WorkloadConfig[] {
  if (raw === undefined || raw.trim() === "") return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    problems.push(`${WORKLOADS_KEY}: ${quote(raw)} is not a list of workloads`);
    return [];
  }
  if (!Array.isArray(value)) {
    problems.push(`${WORKLOADS_KEY}: ${quote(value)} is not a list of workloads (name, role, image, ...)`);
    return [];
  }
  const before = problems.length;
  const workloads: WorkloadConfig[] = [];
  const names = new Set<string>();
  value.forEach((entry: unknown, index) => {
    const at = `${WORKLOADS_KEY}[${index}]`;
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      problems.push(`${at}: ${quote(entry)} is not a workload (an object with name, role, image, ...)`);
      return;
    }
    const w = entry as Record<string, unknown>;
    for (const field of Object.keys(w).filter((k) => !KNOWN_FIELDS.includes(k))) {
      problems.push(`${at}.${field}: is not a workload field (${KNOWN_FIELDS.join(", ")})`);
    }
    const nameIssue = nameProblem(w.name);
    if (nameIssue) problems.push(`${at}.name: ${nameIssue}`);
    else if (names.has(w.name as string))
      problems.push(`${at}.name: ${quote(w.name)} is used by another workload`);
    else if (taken.includes(w.name as string)) {
      problems.push(
        `${at}.name: ${quote(w.name)} is already the server's or a client's name; choose another`,
      );
    }
    if (typeof w.name === "string") names.add(w.name);
    if (w.role !== "server" && w.role !== "client") {
      problems.push(`${at}.role: ${quote(w.role)} is not server or client`);
    }
    if (typeof w.image !== "string" || w.image.trim() === "") {
      problems.push(
        `${at}.image: ${quote(w.image)} is not an image name (the app's image, e.g. ${DEMO_APP_IMAGE})`,
      );
    }
    const workload: WorkloadConfig = {
      name: w.name as string,
      role: w.role as "server",
      image: w.image as string,
    };
    parseAppFields(at, w, workload, problems);
    if (w.role === "server") {
      if (w.calls !== undefined) problems.push(`${at}.calls: is for a client workload; this is a server`);
      if (!isPort(w.port)) {
        problems.push(`${at}.port: ${quote(w.port)} is not a port (the app's plain port, 1 to 65535)`);
      }
      const protocol = w.protocol ?? "http";
      if (protocol !== "http" && protocol !== "tcp") {
        problems.push(`${at}.protocol: ${quote(protocol)} is not http or tcp`);
      }
      Object.assign(workload, { port: w.port, protocol });
    }
    if (w.role === "client") {
      for (const field of ["port", "protocol"]) {
        if (w[field] !== undefined)
          problems.push(`${at}.${field}: is for a server workload; this is a client`);
      }
      workload.calls = parseCalls(at, w.calls, problems);
    }
    workloads.push(workload);
  });
  // Calls name server workloads: checked once every workload is known.
  const servers = workloads.filter((w) => w.role === "server").map((w) => w.name);
  workloads.forEach((workload, index) => {
    for (const [i, call] of (workload.calls ?? []).entries()) {
      if (!servers.includes(call.server)) {
        problems.push(
          `${WORKLOADS_KEY}[${index}].calls[${i}].server: ${quote(call.server)} is not a server workload of this stack (${servers.length > 0 ? servers.join(", ") : "there is none"})`,
        );
      }
    }
  });
  return problems.length > before ? [] : workloads;
}

function parseCalls(at: string, raw: unknown, problems: string[]): WorkloadCallConfig[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(
      `${at}.calls: ${quote(raw)} is not a list of calls; a client workload calls at least one server ({ server, localPort })`,
    );
    return [];
  }
  const servers = new Set<string>();
  const calls: WorkloadCallConfig[] = [];
  raw.forEach((entry: unknown, i) => {
    const where = `${at}.calls[${i}]`;
    const call = (entry ?? {}) as Record<string, unknown>;
    if (typeof call.server !== "string" || call.server === "") {
      problems.push(`${where}.server: ${quote(call.server)} is not a server workload's name`);
      return;
    }
    if (servers.has(call.server)) {
      problems.push(
        `${where}.server: ${quote(call.server)} is called twice; one call (one tunnel) per server`,
      );
    }
    servers.add(call.server);
    if (!isPort(call.localPort)) {
      problems.push(`${where}.localPort: ${quote(call.localPort)} is not a port (1 to 65535)`);
    } else if (call.localPort === DEFAULT_CLIENT_STATUS_PORT) {
      problems.push(
        `${where}.localPort: ${call.localPort} is the tunnel's status port (127.0.0.1:${DEFAULT_CLIENT_STATUS_PORT}); choose another`,
      );
    }
    calls.push({ server: call.server, localPort: call.localPort as number });
  });
  return calls;
}

/** The fields about the app itself (both roles): env, user, readOnly, egress, subnet. */
function parseAppFields(
  at: string,
  w: Record<string, unknown>,
  workload: WorkloadConfig,
  problems: string[],
): void {
  if (w.env !== undefined) {
    const env = w.env;
    if (env === null || typeof env !== "object" || Array.isArray(env)) {
      problems.push(`${at}.env: ${quote(env)} is not a map of environment variables (NAME: value)`);
    } else {
      const entries = Object.entries(env as Record<string, unknown>);
      for (const [key, value] of entries) {
        if (!ENV_NAME.test(key)) problems.push(`${at}.env.${key}: is not an environment variable name`);
        else if (typeof value !== "string")
          problems.push(`${at}.env.${key}: ${quote(value)} is not a string; quote it in the stack file`);
      }
      workload.env = Object.fromEntries(entries.map(([key, value]) => [key, String(value)]));
    }
  }
  if (w.user !== undefined) {
    if (typeof w.user !== "string" || !/^[A-Za-z0-9_.-]*(:[A-Za-z0-9_.-]+)?$/.test(w.user)) {
      problems.push(
        `${at}.user: ${quote(w.user)} is not a user (uid:gid, a name the image knows, or "" for the image's own)`,
      );
    } else workload.user = w.user;
  }
  for (const field of ["readOnly", "egress"] as const) {
    if (w[field] === undefined) continue;
    if (typeof w[field] !== "boolean")
      problems.push(`${at}.${field}: ${quote(w[field])} is not true or false`);
    else workload[field] = w[field];
  }
  if (w.subnet !== undefined) {
    if (typeof w.subnet !== "string") {
      problems.push(`${at}.subnet: ${quote(w.subnet)} is not an IPv4 network (a.b.c.d/prefix)`);
    } else workload.subnet = w.subnet;
  }
}
