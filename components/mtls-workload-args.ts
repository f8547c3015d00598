/**
 * MtlsWorkload's args: their types (with what each means, its default, its constraints and what
 * changing it replaces), and the checks the constructor runs before declaring anything (one line per
 * problem naming `mtls:docker:MtlsWorkload "<name>"`, the arg and the value; arg-checks.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_CLIENT_STATUS_PORT,
  DEFAULT_SERVER_PORT,
  ROLES,
  type Role,
  SERVICE_GID,
  SERVICE_UID,
  type TlsPolicy,
} from "../services/src/contract.ts";
import { ArgChecks } from "./arg-checks.ts";
import type { ServiceIdentity } from "./identity.ts";
import {
  DEFAULT_MEMORY_MB,
  DEFAULT_RESTART_POLICY,
  RESTART_POLICIES,
  type RestartPolicy,
} from "./mtls-service-args.ts";
import { dnsNameProblem, nameProblem } from "./validation.ts";
import { capacityProblem, parseIpv4Network } from "./workload-subnets.ts";

export const MTLS_WORKLOAD_TYPE = "mtls:docker:MtlsWorkload";

/** Protocols the server sidecar speaks to the app: HTTP (reverse proxy, adds XFCC) or raw TCP. */
export const WORKLOAD_PROTOCOLS = ["http", "tcp"] as const;
export type WorkloadProtocol = (typeof WORKLOAD_PROTOCOLS)[number];

/**
 * The environment the component gives the app (the app's own `appEnv` wins): a server app learns the
 * port it must listen on, a client app the address of each tunnel.
 */
export const WORKLOAD_ENV = {
  /**
   * Server workloads: the port the app listens on (`appPort`), on every interface of its container
   * (0.0.0.0): its only network is the workload's private one, which only its sidecar shares.
   */
  appPort: "MTLS_APP_PORT",
  /**
   * Client workloads: `MTLS_TUNNEL_<CALL NAME>=tunnel-<call name>:<localPort>`, the name upper-cased
   * and "-" as "_": the tunnel sidecar's name on the private network and its port.
   */
  tunnelPrefix: "MTLS_TUNNEL_",
} as const;

/** The app's DNS name on its private network (what the server sidecar forwards to). */
export const APP_ALIAS = "app";

/** A client workload's tunnel for `call`, by its DNS name on the private network. */
export function tunnelAlias(callName: string): string {
  return `tunnel-${callName}`;
}

export function tunnelEnvName(callName: string): string {
  return `${WORKLOAD_ENV.tunnelPrefix}${callName.toUpperCase().replaceAll("-", "_")}`;
}

/** The user the app runs as unless `appUser` says otherwise: the services' own non-root numeric user. */
export const DEFAULT_APP_USER = `${SERVICE_UID}:${SERVICE_GID}`;

/**
 * The longest workload name: the server sidecar reaches the app as `app.<private network>`, and
 * the network's Docker name, `<name>-net-<7 hex>`, must stay one DNS label (63 characters).
 */
const MAX_WORKLOAD_NAME = 51;
/** The longest call name: its tunnel's DNS name, `tunnel-<call name>`, is one DNS label. */
const MAX_CALL_NAME = 63 - "tunnel-".length;

/** One server a client workload calls, through a tunnel of its own. */
export interface WorkloadCall {
  /**
   * A DNS label naming the call, at most 56 characters: the tunnel sidecar is `<workload>-to-<name>`,
   * reached by the app as `tunnel-<name>`. Required.
   */
  name: string;
  /**
   * The server's mTLS URL, `https://<alias>:<port>` on the stack's network; its host must not be one
   * of the workload's own names on its private network (`app`, `tunnel-<call>`). Required.
   */
  serverUrl: string;
  /**
   * The port the app calls the tunnel on (`tunnel-<name>:<localPort>`), 1 to 65535 but not 9091
   * (the tunnel's status listener). Required.
   */
  localPort: number;
}

export interface MtlsWorkloadArgs {
  /**
   * "server": the sidecar accepts mTLS callers and forwards to the app on the workload's private
   * network; "client": one tunnel sidecar per entry of `calls`, which the app reaches on that
   * network. Required; a plain value. Changing it replaces the sidecars.
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
   * The workload's identity (server: `pki.issueServer(...)`, client: `pki.issueClient(...)`),
   * delivered into each sidecar as MtlsService delivers it. Required. A re-issued certificate
   * replaces only the delivery containers.
   */
  identity: ServiceIdentity;
  /**
   * The stack's Docker network (`ServiceNetwork.name`): the sidecars join it beside the workload's
   * private network; the app never does. Required. Changing it replaces the sidecars.
   */
  networkName: pulumi.Input<string>;
  /**
   * Server only: DNS names of the server sidecar on `networkName` (they should be among its
   * certificate's DNS names). Default none. Changing them replaces the sidecar.
   */
  aliases?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The IPv4 subnet of the workload's private network, as CIDR (/8 to /29, with room for twice its
   * containers: each may briefly run twice while it is replaced). `allocateWorkloadSubnets` picks
   * stable ones from a pool. Default: Docker picks one from its default address pools (a whole /16
   * or /20 each, about 30 per host). A plain value. Changing it replaces the private network and
   * every container of the workload.
   */
  subnet?: string;
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
   * User the app runs as: `uid:gid` or a name the image knows. Default "10001:10001", the services'
   * own non-root user (an image that needs another, or root, says so here; "" keeps the image's
   * own user). Changing it replaces the app container.
   */
  appUser?: pulumi.Input<string>;
  /**
   * Run the app with a read-only root filesystem. Default true; an app that writes to its image's
   * filesystem needs false. Changing it replaces the app container.
   */
  appReadOnly?: pulumi.Input<boolean>;
  /**
   * Drop every Linux capability of the app (an app that binds a port below 1024 or changes users
   * needs some: set false). Default true. Changing it replaces the app container.
   */
  appDropCapabilities?: pulumi.Input<boolean>;
  /**
   * Let the app reach beyond its private network (other hosts, the internet): it also joins
   * `<name>-egress`, a bridge network of its own that Docker routes out through the host. No
   * container of another network reaches the app either way. Default false: the app reaches only
   * its sidecars. A plain value. Changing it replaces the app container and adds or removes the
   * egress network.
   */
  appEgress?: boolean;
  /** The app's memory limit in MB, at least 6, no swap on top. Default 256. Changing it updates the app in place. */
  appMemoryMb?: pulumi.Input<number>;
  /**
   * Server only: the plain port the app listens on, on every interface of its container, 1 to
   * 65535. Required for a server. Changing it replaces the sidecar and the app.
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
   * Server only: publish the sidecar's mTLS port on the host's 127.0.0.1; `hostPort` left out lets
   * Docker pick. Default: not published. Changing it replaces the sidecar.
   */
  publish?: { hostPort?: pulumi.Input<number> };
  /**
   * Client only: the servers the app calls, one tunnel sidecar each; at least one, names unique.
   * Required for a client. Adding or removing one adds or removes that sidecar (and replaces the
   * app, whose environment lists the tunnels); changing one replaces that sidecar.
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

/** Containers on the workload's private network: the app and its sidecars. */
export function workloadMembers(role: string, calls: readonly unknown[] | undefined): number {
  return 1 + (role === "server" ? 1 : (calls?.length ?? 0));
}

/** Checks the args (before super(): a refused workload registers nothing, not even itself). */
export function checkWorkloadArgs(name: string, args: MtlsWorkloadArgs): CheckedWorkloadArgs {
  const checks = new ArgChecks(MTLS_WORKLOAD_TYPE, name);
  // The name prefixes every child, and a client's call names become container names too.
  checks.add("name", nameProblem(name));
  if (typeof name === "string" && name.length > MAX_WORKLOAD_NAME && nameProblem(name) === undefined) {
    checks.add(
      "name",
      `${quote(name)} has ${name.length} characters, more than ${MAX_WORKLOAD_NAME}: the private network's name, <name>-net-<7 hex>, must stay one DNS label`,
    );
  }
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
    aliases: args.aliases,
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
    }
  }

  const calls = args.calls ?? [];
  if (args.role === "client") {
    if (calls.length === 0) checks.add("calls", "is empty; a client workload calls at least one server");
    const names = new Set<string>();
    const privateNames = new Set([APP_ALIAS, ...calls.map((call) => tunnelAlias(call.name))]);
    calls.forEach((call, index) => {
      const where = `calls[${index}]`;
      const problem = nameProblem(call.name);
      if (problem) checks.add(`${where}.name`, problem);
      else if (call.name.length > MAX_CALL_NAME) {
        checks.add(
          `${where}.name`,
          `${quote(call.name)} has ${call.name.length} characters, more than ${MAX_CALL_NAME}: its tunnel's name, tunnel-<name>, must stay one DNS label`,
        );
      } else if (names.has(call.name))
        checks.add(`${where}.name`, `${quote(call.name)} is listed more than once`);
      names.add(call.name);
      if (!URL.canParse(call.serverUrl) || new URL(call.serverUrl).protocol !== "https:") {
        checks.add(`${where}.serverUrl`, `${quote(call.serverUrl)} is not an https:// URL`);
      } else if (privateNames.has(new URL(call.serverUrl).hostname)) {
        // The tunnel is on the private network too: that name would resolve to the workload's own
        // app or tunnel there, not to the server.
        checks.add(
          `${where}.serverUrl`,
          `${quote(call.serverUrl)} names ${quote(new URL(call.serverUrl).hostname)}, a name on the workload's private network (${[...privateNames].join(", ")}); reach the server by another of its names`,
        );
      }
      if (!isPort(call.localPort)) {
        checks.add(
          `${where}.localPort`,
          `${quote(call.localPort)} is not a port (a whole number from 1 to 65535)`,
        );
      } else if (call.localPort === DEFAULT_CLIENT_STATUS_PORT) {
        checks.add(
          `${where}.localPort`,
          `${call.localPort} is the tunnel's status port (127.0.0.1:${DEFAULT_CLIENT_STATUS_PORT}); give another port`,
        );
      }
    });
  }

  if (args.subnet !== undefined) {
    const subnet = parseIpv4Network(args.subnet);
    if (typeof subnet === "string") checks.add("subnet", subnet);
    else checks.add("subnet", capacityProblem(subnet, workloadMembers(args.role, args.calls)));
  }
  if (args.appEgress !== undefined && typeof args.appEgress !== "boolean") {
    checks.add("appEgress", `${quote(args.appEgress)} is not true or false (a plain value)`);
  }
  if (args.aliases !== undefined) {
    checks.check("aliases", args.aliases, (names) =>
      Array.isArray(names) ? names.map(dnsNameProblem).find((p) => p !== undefined) : "is not a list",
    );
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
  for (const call of checked.calls)
    own[tunnelEnvName(call.name)] = `${tunnelAlias(call.name)}:${call.localPort}`;
  return pulumi.output(args.appEnv ?? {}).apply((extra) =>
    Object.entries({ ...own, ...extra })
      .map(([key, value]) => `${key}=${value}`)
      .sort(),
  );
}
