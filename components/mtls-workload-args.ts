/**
 * MtlsWorkload's args: their types (with what each means, its default, its constraints and what
 * changing it replaces), and the checks the constructor runs before declaring anything (one line per
 * problem naming `mtls:docker:MtlsWorkload "<name>"`, the arg and the value; arg-checks.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SERVER_PORT, DEFAULTS, ROLES, type Role, type TlsPolicy } from "../services/src/contract.ts";
import { ArgChecks } from "./arg-checks.ts";
import type { ServiceIdentity } from "./identity.ts";
import {
  DEFAULT_MEMORY_MB,
  DEFAULT_RESTART_POLICY,
  RESTART_POLICIES,
  type RestartPolicy,
} from "./mtls-service-args.ts";
import { nameProblem } from "./validation.ts";

export const MTLS_WORKLOAD_TYPE = "mtls:docker:MtlsWorkload";

/** Protocols the server sidecar speaks to the app: HTTP (reverse proxy, adds XFCC) or raw TCP. */
export const WORKLOAD_PROTOCOLS = ["http", "tcp"] as const;
export type WorkloadProtocol = (typeof WORKLOAD_PROTOCOLS)[number];

/**
 * The environment the component gives the app (the app's own `appEnv` wins): a server app learns the
 * loopback port it must listen on, a client app the loopback address of each tunnel.
 */
export const WORKLOAD_ENV = {
  /** Server workloads: the port the app listens on, on 127.0.0.1 (`appPort`). */
  appPort: "MTLS_APP_PORT",
  /** Client workloads: `MTLS_TUNNEL_<CALL NAME>=127.0.0.1:<localPort>`, the name upper-cased, "-" as "_". */
  tunnelPrefix: "MTLS_TUNNEL_",
} as const;

/** The status port of the server sidecar (the service's default, on loopback). */
const SERVER_STATUS_PORT = Number(DEFAULTS.statusListen.split(":")[1]);
/** Client sidecars share one namespace: tunnel i has its status listener on 127.0.0.1:(9091 + i). */
const FIRST_TUNNEL_STATUS_PORT = Number(DEFAULTS.clientStatusListen.split(":")[1]);

export function tunnelStatusPort(index: number): number {
  return FIRST_TUNNEL_STATUS_PORT + index;
}

export function tunnelEnvName(callName: string): string {
  return `${WORKLOAD_ENV.tunnelPrefix}${callName.toUpperCase().replaceAll("-", "_")}`;
}

/** One server a client workload calls, through a tunnel of its own. */
export interface WorkloadCall {
  /** A DNS label naming the call: the tunnel sidecar is `<workload>-to-<name>`. Required. */
  name: string;
  /** The server's mTLS URL, `https://<alias>:<port>`. Required. */
  serverUrl: string;
  /** The loopback port the app calls (`127.0.0.1:<localPort>`), 1 to 65535, unique per workload. Required. */
  localPort: number;
}

export interface MtlsWorkloadArgs {
  /**
   * "server": the sidecar accepts mTLS callers and forwards to the app on loopback; "client": one
   * tunnel sidecar per entry of `calls`, which the app reaches on loopback. Required; a plain value.
   * Changing it replaces the sidecars.
   */
  role: Role;
  /**
   * The sidecars' image: `ServiceImage.repoDigest`. Required. Changing it replaces the sidecar
   * containers (and their delivery containers unless `deliveryImage` is set); not the app.
   */
  image: pulumi.Input<string>;
  /**
   * Image of the never-started delivery containers (`ServiceImage.deliveryRepoDigest`). Default:
   * `image`. Changing it replaces the delivery containers only.
   */
  deliveryImage?: pulumi.Input<string>;
  /**
   * Image of the namespace owner, a do-nothing container (`node -e`, handling SIGTERM) that holds the
   * network: any image with `node` on PATH. Default: `deliveryImage`, else `image`; the delivery
   * image is best, as it does not change with the services' code. Changing it replaces the owner
   * and therefore every container of the workload (Docker fixes the namespace a container joins).
   */
  pauseImage?: pulumi.Input<string>;
  /**
   * The workload's identity (server: `pki.issueServer(...)`, client: `pki.issueClient(...)`),
   * delivered into each sidecar as MtlsService delivers it. Required. A re-issued certificate
   * replaces only the delivery containers.
   */
  identity: ServiceIdentity;
  /**
   * The Docker network the namespace owner joins (`ServiceNetwork.name`). Required. Changing it
   * replaces the owner and every container of the workload.
   */
  networkName: pulumi.Input<string>;
  /**
   * DNS names of the workload on the network (a server's should be among its certificate's DNS
   * names). Default none. Changing them replaces the owner and every container of the workload.
   */
  aliases?: pulumi.Input<pulumi.Input<string>[]>;
  /** The user's image: the app. Required. Changing it replaces the app container only. */
  appImage: pulumi.Input<string>;
  /** The app's command (its image's CMD otherwise). Default: the image's. Changing it replaces the app container. */
  appCommand?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Further environment of the app; a key here wins over the component's own (`WORKLOAD_ENV`).
   * Default none. Changing it replaces the app container.
   */
  appEnv?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * User the app runs as (`uid:gid` or a name the image knows): running as non-root is the image's
   * choice, so it is an arg. Default: the image's own user. Changing it replaces the app container.
   */
  appUser?: pulumi.Input<string>;
  /**
   * Run the app with a read-only root filesystem (images that write only to volumes or not at all).
   * Default false. Changing it replaces the app container.
   */
  appReadOnly?: pulumi.Input<boolean>;
  /**
   * Drop every Linux capability of the app (an app that binds a port below 1024 or changes users
   * needs some: set false). Default true. Changing it replaces the app container.
   */
  appDropCapabilities?: pulumi.Input<boolean>;
  /** The app's memory limit in MB, at least 6, no swap on top. Default 256. Changing it updates the app in place. */
  appMemoryMb?: pulumi.Input<number>;
  /**
   * Server only: the plain port the app listens on, on 127.0.0.1 inside the shared namespace, 1 to
   * 65535, neither `port` nor the sidecar's status port 9090. Required for a server. Changing it
   * replaces the sidecar and the app.
   */
  appPort?: number;
  /**
   * Server only: "http" (the sidecar is a reverse proxy and adds `x-forwarded-client-cert`) or
   * "tcp" (bytes piped both ways). Default "http". Changing it replaces the sidecar.
   */
  protocol?: WorkloadProtocol;
  /** Server only: the sidecar's mTLS port. Default 8443. Changing it replaces the sidecar. */
  port?: number;
  /**
   * Server only: client names (certificate CNs) let in. Default: every client of the CA. Delivered
   * in the sidecar's policy file: changing it replaces only the sidecar's delivery container.
   */
  allowedClients?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Server only: "modern" or "intermediate". Default "modern". Delivered in the policy file:
   * changing it replaces only the sidecar's delivery container.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
  /**
   * Server only: serials (hex) of client certificates the sidecar refuses, as MtlsService's
   * `revokedSerials`. Default none. Changing it replaces only the sidecar's delivery container.
   */
  revokedSerials?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Server only: publish the mTLS port on the host's 127.0.0.1 (through the owner); `hostPort` left
   * out lets Docker pick. Default: not published. Changing it replaces the owner and every container.
   */
  publish?: { hostPort?: pulumi.Input<number> };
  /**
   * Client only: the servers the app calls, one tunnel sidecar each; at least one, names and local
   * ports unique. Required for a client. Adding or removing one adds or removes that sidecar;
   * changing one replaces that sidecar.
   */
  calls?: WorkloadCall[];
  /**
   * Docker restart policy of the sidecars and the app. Default "always", as for MtlsService (they
   * come back after an unclean engine restart). Changing it updates them in place.
   */
  restart?: pulumi.Input<RestartPolicy>;
}

const quote = (value: unknown) => JSON.stringify(value);
const isPort = (value: unknown) =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;

export interface CheckedWorkloadArgs {
  appMemoryMb: pulumi.Input<number>;
  restart: pulumi.Input<RestartPolicy>;
  protocol: WorkloadProtocol;
  port: number;
  calls: WorkloadCall[];
}

/** Checks the args (before super(): a refused workload registers nothing, not even itself). */
export function checkWorkloadArgs(name: string, args: MtlsWorkloadArgs): CheckedWorkloadArgs {
  const checks = new ArgChecks(MTLS_WORKLOAD_TYPE, name);
  // The name prefixes every child, and a client's call names become container names too.
  checks.add("name", nameProblem(name));
  if (!(ROLES as readonly string[]).includes(args.role)) {
    checks.add("role", `${quote(args.role)} is not one of ${ROLES.join(", ")}`);
  }
  for (const key of ["image", "networkName", "appImage"] as const) {
    checks.check(key, args[key] ?? "", (value) =>
      typeof value === "string" && value.trim() !== ""
        ? undefined
        : `${quote(value)} is empty; it is required`,
    );
  }
  const identity = args.identity as Partial<ServiceIdentity> | undefined;
  for (const field of ["chainPem", "privateKeyPem", "caBundlePem"] as const) {
    if (identity?.[field] === undefined) checks.add(`identity.${field}`, "is missing");
  }
  const serverOnly = {
    appPort: args.appPort,
    protocol: args.protocol,
    port: args.port,
    allowedClients: args.allowedClients,
    tlsPolicy: args.tlsPolicy,
    revokedSerials: args.revokedSerials,
    publish: args.publish,
  };
  const clientOnly = { calls: args.calls };
  for (const [key, value] of Object.entries(args.role === "server" ? clientOnly : serverOnly)) {
    if (value !== undefined)
      checks.add(key, `is for a ${args.role === "server" ? "client" : "server"}; this is a ${args.role}`);
  }

  const protocol = args.protocol ?? "http";
  if (!(WORKLOAD_PROTOCOLS as readonly string[]).includes(protocol)) {
    checks.add("protocol", `${quote(protocol)} is not one of ${WORKLOAD_PROTOCOLS.join(", ")}`);
  }
  const port = args.port ?? DEFAULT_SERVER_PORT;
  if (!isPort(port)) checks.add("port", `${quote(port)} is not a port (a whole number from 1 to 65535)`);
  if (args.role === "server") {
    if (args.appPort === undefined)
      checks.add("appPort", "is missing; a server workload needs the app's port");
    else if (!isPort(args.appPort)) {
      checks.add("appPort", `${quote(args.appPort)} is not a port (a whole number from 1 to 65535)`);
    } else if (args.appPort === port || args.appPort === SERVER_STATUS_PORT) {
      checks.add(
        "appPort",
        `${args.appPort} is taken in the shared namespace by the sidecar (mTLS ${port}, status ${SERVER_STATUS_PORT}); give the app another port`,
      );
    }
  }

  const calls = args.calls ?? [];
  if (args.role === "client") {
    if (calls.length === 0) checks.add("calls", "is empty; a client workload calls at least one server");
    const names = new Set<string>();
    const ports = new Set<number>();
    calls.forEach((call, index) => {
      const where = `calls[${index}]`;
      const problem = nameProblem(call.name);
      if (problem) checks.add(`${where}.name`, problem);
      else if (names.has(call.name))
        checks.add(`${where}.name`, `${quote(call.name)} is listed more than once`);
      names.add(call.name);
      if (!URL.canParse(call.serverUrl) || new URL(call.serverUrl).protocol !== "https:") {
        checks.add(`${where}.serverUrl`, `${quote(call.serverUrl)} is not an https:// URL`);
      }
      const statusPorts = calls.map((_, i) => tunnelStatusPort(i));
      if (!isPort(call.localPort)) {
        checks.add(
          `${where}.localPort`,
          `${quote(call.localPort)} is not a port (a whole number from 1 to 65535)`,
        );
      } else if (ports.has(call.localPort)) {
        checks.add(`${where}.localPort`, `${call.localPort} is already the local port of another call`);
      } else if (statusPorts.includes(call.localPort)) {
        checks.add(
          `${where}.localPort`,
          `${call.localPort} is taken by a tunnel's status listener (${statusPorts.join(", ")}); give another port`,
        );
      }
      ports.add(call.localPort);
    });
  }

  const appMemoryMb = checks.check("appMemoryMb", args.appMemoryMb ?? DEFAULT_MEMORY_MB, (value) =>
    Number.isInteger(value) && value >= 6
      ? undefined
      : `${quote(value)} is not a whole number of MB of at least 6`,
  );
  const restart = checks.check("restart", args.restart ?? DEFAULT_RESTART_POLICY, (value) =>
    (RESTART_POLICIES as readonly string[]).includes(value)
      ? undefined
      : `${quote(value)} is not one of ${RESTART_POLICIES.join(", ")}`,
  );
  if (args.publish?.hostPort !== undefined) {
    checks.check("publish.hostPort", args.publish.hostPort, (value) =>
      isPort(value) ? undefined : `${quote(value)} is not a port (a whole number from 1 to 65535)`,
    );
  }
  checks.done();
  return { appMemoryMb, restart, protocol, port, calls };
}

/** The app's environment: what the component tells it, then the user's `appEnv` on top. */
export function appEnvironment(
  args: MtlsWorkloadArgs,
  checked: CheckedWorkloadArgs,
): pulumi.Output<string[]> {
  const own: Record<string, string> = {};
  if (args.role === "server" && args.appPort !== undefined) own[WORKLOAD_ENV.appPort] = String(args.appPort);
  for (const call of checked.calls) own[tunnelEnvName(call.name)] = `127.0.0.1:${call.localPort}`;
  return pulumi.output(args.appEnv ?? {}).apply((extra) =>
    Object.entries({ ...own, ...extra })
      .map(([key, value]) => `${key}=${value}`)
      .sort(),
  );
}
