/**
 * MtlsService's args: their types (with what each means, its default, its constraints and what
 * changing it replaces), and the checks the constructor runs before declaring anything (see
 * arg-checks.ts for how a refusal reads). The typed server and client args become the service's
 * environment here.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_SERVER_PORT,
  ENV,
  HEALTHCHECK,
  ROLES,
  type Role,
  TLS_POLICIES,
  type TlsPolicy,
} from "../services/src/contract.ts";
import { parseSerial } from "../services/src/server/serial.ts";
import { ArgChecks } from "./arg-checks.ts";
import type { ServiceIdentity } from "./identity.ts";
import { dnsNameProblem } from "./validation.ts";

export const MTLS_SERVICE_TYPE = "mtls:docker:MtlsService";

/** A network a service container joins beside its `networkName`. */
export interface ServiceNetworkAttachment {
  /** The network's Docker name. */
  name: pulumi.Input<string>;
  /** The container's DNS names on that network. */
  aliases?: pulumi.Input<pulumi.Input<string>[]>;
}

/** The health check the image ships (services/Dockerfile HEALTHCHECK), exec form: no shell needed. */
export const HEALTHCHECK_COMMAND = ["CMD", ...HEALTHCHECK.command];

/**
 * The health check as the docker provider takes it, from the services' contract. Canonical Go
 * duration strings ("5s"), the form the provider reads them back in, so no perpetual diff.
 */
export const HEALTHCHECK_ARGS = {
  tests: HEALTHCHECK_COMMAND,
  interval: `${HEALTHCHECK.intervalSeconds}s`,
  timeout: `${HEALTHCHECK.timeoutSeconds}s`,
  startPeriod: `${HEALTHCHECK.startPeriodSeconds}s`,
  retries: HEALTHCHECK.retries,
};

export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
/**
 * "always", not "unless-stopped": after dockerd dies uncleanly (SIGKILL, OOM kill, crash) and starts
 * again without `live-restore`, it stops every container it finds still running, and that stop marks
 * them as stopped by hand (moby daemon/daemon.go restore() -> shutdownContainer -> killWithSignal in
 * daemon/kill.go, which sets HasBeenManuallyStopped whenever the daemon is not shutting down). The
 * restart manager then restarts "always" containers but not "unless-stopped" ones
 * (restartmanager.ShouldRestart), so with "unless-stopped" the services stay down until someone acts.
 * The price: a container an operator stopped with `docker stop` comes back at the next daemon start.
 */
export const DEFAULT_RESTART_POLICY: RestartPolicy = "always";

export const DEFAULT_MEMORY_MB = 256;
/** Docker refuses a memory limit below 6 MB. */
const MIN_MEMORY_MB = 6;

export interface MtlsServiceArgs {
  /**
   * Image to run: `ServiceImage.repoDigest` (the local image id), so that a rebuilt image replaces
   * the service container. Required. Changing it replaces the service container and, unless
   * `deliveryImage` is set, the delivery container (which re-writes the same identity files).
   */
  image: pulumi.Input<string>;
  /**
   * Image of the delivery container, which is created but never started: any local image works.
   * `ServiceImage.deliveryRepoDigest` does not change with the services' code.
   *
   * Default: `image`. Changing it replaces the delivery container only.
   */
  deliveryImage?: pulumi.Input<string>;
  /**
   * "server" or "client": the image's first argument. Required; a plain value. Changing it
   * replaces the service container.
   */
  role: Role;
  /**
   * The identity to deliver: an `Identity` from `MtlsPki`, or any object with `chainPem`,
   * `privateKeyPem` (kept secret) and `caBundlePem`. Required. Changing any of them (a new
   * certificate) replaces only the delivery container; the service reloads the files without a
   * restart.
   */
  identity: ServiceIdentity;
  /**
   * Name of the Docker network to join (a user-defined bridge: `ServiceNetwork.name`). Required.
   * Changing it replaces the service container.
   */
  networkName: pulumi.Input<string>;
  /**
   * Further networks the container joins, each by name with its own DNS aliases there (MtlsWorkload
   * puts its sidecars on the workload's private network this way). Default none. Changing them
   * replaces the service container.
   */
  additionalNetworks?: ServiceNetworkAttachment[];
  /**
   * DNS names of this container on the network; a server's should be among its certificate's DNS
   * names. Default none. Changing them replaces the service container.
   */
  aliases?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Server only: the port it listens on for mTLS, on every interface of the container
   * (`MTLS_LISTEN=0.0.0.0:<port>`), 1 to 65535. Default: the service's own, 8443. Changing it
   * replaces the service container.
   */
  port?: pulumi.Input<number>;
  /**
   * Server only: the client names (certificate CNs) let in; at least one name, none containing ",".
   * Delivered in the server's policy file (`policy.json`, beside the identity), which the server
   * reloads without a restart.
   *
   * Default: every client whose certificate chains to the CA bundle. Changing it replaces only the
   * delivery container; the server applies the new list to the next request on every connection.
   */
  allowedClients?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Server only: "modern" (TLS 1.3 only) or "intermediate" (also TLS 1.2 with forward-secret AEAD
   * suites). Delivered in the policy file, like `allowedClients`.
   *
   * Default: the service's own, "modern". Changing it replaces only the delivery container; new
   * handshakes get the new policy, established connections keep the version they negotiated.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
  /**
   * Server only: serial numbers (hex) of client certificates to refuse whatever their name, e.g. a
   * leaked key's certificate. Case, colons, a `serial=` or `0x` prefix and leading zeros do not
   * matter (`openssl x509 -serial -noout` output works as it is); delivered in canonical form.
   *
   * Default none. Changing it replaces only the delivery container; a revoked caller is refused
   * (403, reason `revoked`) from its next request, on open connections too.
   */
  revokedSerials?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Client only: the server's URL, `https://<server alias>:<port>`. Default: the service's own,
   * `https://mtls-server:8443`. Changing it replaces the service container.
   */
  serverUrl?: pulumi.Input<string>;
  /**
   * Arguments after the role (the services take their settings from `env`). Default none. Changing them
   * replaces the service container.
   */
  args?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Further environment (names from the services' contract, `ENV`); the identity paths and the
   * typed args above are set by the component, and a key given here wins. Default none. Changing
   * it replaces the service container.
   */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Server only: publish the mTLS port on the host, bound to 127.0.0.1 only, through a front
   * container (`<name>`, tcp-front.ts) that owns the host port and forwards each connection, bytes as
   * they are, to the server's first alias (or `<name>` when it has none); the server container is
   * then `<name>-service`. `hostPort` 1 to 65535, or left out for a free port Docker picks (read it
   * back from `front.ports`); `containerPort` is the front's own port, default `port` (else 8443).
   *
   * Default: not published. Changing it replaces the front, delete-first (a short outage of host
   * callers); a new image or setting of the server replaces only the server container, create-first,
   * so host callers see no gap.
   */
  publish?: { hostPort?: pulumi.Input<number>; containerPort?: pulumi.Input<number> };
  /**
   * Image the front of a published server runs (any image with Node 22.18 or later; the front runs
   * an inline script, no file of the image): `ServiceImage.deliveryRepoDigest`, the base image
   * alone, does not change with the services' code, so a new services version leaves the front (and
   * the published port) alone. Default: `deliveryImage`, else `image` (then a new services version
   * replaces the front too: a short outage of host callers). Changing it replaces the front.
   */
  frontImage?: pulumi.Input<string>;
  /** Memory limit in MB, at least 6, with no swap on top. Default 256. Changing it updates the container in place. */
  memoryMb?: pulumi.Input<number>;
  /**
   * Docker restart policy. Default "always", so that the service comes back by itself after the
   * Docker daemon crashes and restarts (with "unless-stopped" the daemon treats the containers it
   * stopped while recovering as stopped on purpose and leaves them down); a container stopped with
   * `docker stop` also starts again when the daemon restarts. Changing it updates the container in
   * place (no restart of the service).
   */
  restart?: pulumi.Input<RestartPolicy>;
  /**
   * Make `pulumi up` wait until the container reports healthy (up to 60 s). Default true. Changing
   * it updates nothing in Docker.
   */
  waitUntilHealthy?: pulumi.Input<boolean>;
  /**
   * Docker container name of the service container. Default: auto-named `<name>-<7 hex>`, which lets
   * a replacement start beside the old container (create-first: the new one healthy before the old
   * one drains, no gap). A fixed name cannot exist twice, so with one the container is replaced
   * delete-first: an outage while the new one starts. Changing it replaces the container.
   */
  containerName?: pulumi.Input<string>;
}

// Docker's rule for container names (the component name prefixes the auto-name).
const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const quote = (value: unknown) => JSON.stringify(value);
const portProblem = (value: unknown) =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535
    ? undefined
    : `${quote(value)} is not a port (a whole number from 1 to 65535)`;

function allowListProblem(names: unknown): string | undefined {
  if (!Array.isArray(names)) return `${quote(names)} is not a list of client names`;
  if (names.length === 0) {
    return "[] names no client; list at least one, or leave allowedClients out to let every client of the CA in";
  }
  const bad = names.find((n) => typeof n !== "string" || n.trim() === "" || n.includes(","));
  return bad === undefined ? undefined : `${quote(bad)} is not a client name (empty, or contains ",")`;
}

function serialsProblem(serials: unknown): string | undefined {
  if (!Array.isArray(serials)) return `${quote(serials)} is not a list of serial numbers`;
  for (const serial of serials) {
    if (typeof serial !== "string") return `${quote(serial)} is not a serial number written as a string`;
    const parsed = parseSerial(serial);
    if (!parsed.ok) return `${quote(serial)} ${parsed.problem}`;
  }
  return undefined;
}

/**
 * The server's policy file (services/src/server/policy-file.ts): only the keys given, so a key
 * left out leaves the server's environment in force, as the services document. Serials in
 * canonical form, sorted, so a serial written another way (or a reordered list) is no change.
 */
export function policyFileText(policy: {
  allowedClients?: readonly string[];
  tlsPolicy?: TlsPolicy;
  revokedSerials: readonly string[];
}): string {
  const revoked = new Set<string>();
  for (const serial of policy.revokedSerials) {
    const parsed = parseSerial(serial);
    if (parsed.ok) revoked.add(parsed.serial);
  }
  const content = {
    ...(policy.allowedClients !== undefined ? { allowedClients: [...policy.allowedClients] } : {}),
    revokedSerials: [...revoked].sort(),
    ...(policy.tlsPolicy !== undefined ? { tlsPolicy: policy.tlsPolicy } : {}),
  };
  return `${JSON.stringify(content, null, 2)}\n`;
}

export interface CheckedServiceArgs {
  env: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** A server's policy file (JSON text); undefined for a client. */
  policy: pulumi.Output<string> | undefined;
  aliases: pulumi.Input<pulumi.Input<string>[]> | undefined;
  /** A published server's front: its ports, and the `alias:port` it forwards to. */
  front:
    | { containerPort: pulumi.Input<number>; hostPort?: pulumi.Input<number>; target: pulumi.Output<string> }
    | undefined;
  memoryMb: pulumi.Input<number>;
  restart: pulumi.Input<RestartPolicy>;
}

/**
 * Checks the args (before super(): a refused service registers nothing, not even itself). A
 * component with args of its own (MtlsSwarmService) passes its `checks`, so that every problem is
 * reported at once under its type.
 */
export function checkArgs(
  name: string,
  args: MtlsServiceArgs,
  checks = new ArgChecks(MTLS_SERVICE_TYPE, name),
): CheckedServiceArgs {
  if (!CONTAINER_NAME.test(name)) {
    checks.add("name", `${quote(name)} is not a Docker container name (letters, digits, "_", "." and "-")`);
  }
  if (!(ROLES as readonly string[]).includes(args.role)) {
    checks.add("role", `${quote(args.role)} is not one of ${ROLES.join(", ")}`);
  }
  for (const key of ["image", "networkName"] as const) {
    checks.check(key, args[key] ?? "", (value) =>
      typeof value === "string" && value.trim() !== ""
        ? undefined
        : `${quote(value)} is empty; it is required`,
    );
  }
  (args.additionalNetworks ?? []).forEach((network, index) => {
    checks.check(`additionalNetworks[${index}].name`, network.name ?? "", (value) =>
      typeof value === "string" && value.trim() !== ""
        ? undefined
        : `${quote(value)} is empty; give the network's name`,
    );
  });
  const identity = args.identity as Partial<ServiceIdentity> | undefined;
  for (const field of ["chainPem", "privateKeyPem", "caBundlePem"] as const) {
    // Presence only: a PEM's content is never quoted (the key is a secret).
    if (identity?.[field] === undefined) checks.add(`identity.${field}`, "is missing");
  }
  const serverOnly = {
    port: args.port,
    allowedClients: args.allowedClients,
    tlsPolicy: args.tlsPolicy,
    revokedSerials: args.revokedSerials,
  };
  for (const [key, value] of Object.entries(serverOnly)) {
    if (value !== undefined && args.role !== "server")
      checks.add(key, `is for a server; this is a ${args.role}`);
  }
  if (args.serverUrl !== undefined && args.role !== "client") {
    checks.add("serverUrl", `is for a client; this is a ${args.role}`);
  }
  const port = args.port === undefined ? undefined : checks.check("port", args.port, portProblem);
  const allowedClients =
    args.allowedClients === undefined
      ? undefined
      : checks.check("allowedClients", args.allowedClients, allowListProblem);
  const tlsPolicy =
    args.tlsPolicy === undefined
      ? undefined
      : checks.check("tlsPolicy", args.tlsPolicy, (value) =>
          (TLS_POLICIES as readonly string[]).includes(value)
            ? undefined
            : `${quote(value)} is not one of ${TLS_POLICIES.join(", ")}`,
        );
  const revokedSerials = checks.check("revokedSerials", args.revokedSerials ?? [], serialsProblem);
  const serverUrl =
    args.serverUrl === undefined
      ? undefined
      : checks.check("serverUrl", args.serverUrl, (value) =>
          URL.canParse(value) && new URL(value).protocol === "https:"
            ? undefined
            : `${quote(value)} is not an https:// URL`,
        );
  const aliases =
    args.aliases === undefined
      ? undefined
      : checks.check("aliases", args.aliases, (names) =>
          Array.isArray(names) ? names.map(dnsNameProblem).find((p) => p !== undefined) : "is not a list",
        );
  const memoryMb = checks.check("memoryMb", args.memoryMb ?? DEFAULT_MEMORY_MB, (value) =>
    Number.isInteger(value) && value >= MIN_MEMORY_MB
      ? undefined
      : `${quote(value)} is not a whole number of MB of at least ${MIN_MEMORY_MB}`,
  );
  const restart = checks.check("restart", args.restart ?? DEFAULT_RESTART_POLICY, (value) =>
    (RESTART_POLICIES as readonly string[]).includes(value)
      ? undefined
      : `${quote(value)} is not one of ${RESTART_POLICIES.join(", ")}`,
  );
  if (args.publish && args.role !== "server")
    checks.add("publish", `is for a server; this is a ${args.role}`);
  let front: CheckedServiceArgs["front"];
  if (args.publish) {
    const hostPort =
      args.publish.hostPort === undefined
        ? undefined
        : checks.check("publish.hostPort", args.publish.hostPort, portProblem);
    const containerPort = checks.check(
      "publish.containerPort",
      args.publish.containerPort ?? port ?? DEFAULT_SERVER_PORT,
      portProblem,
    );
    // The front forwards to the server's first alias: a DNS name both the old and the new server
    // container answer during a create-first replacement (a container name would be only one).
    const target = pulumi
      .all([pulumi.output(aliases), pulumi.output(port ?? DEFAULT_SERVER_PORT)])
      .apply(([names, listenPort]) => `${names?.[0] ?? name}:${listenPort}`);
    front = { containerPort, ...(hostPort === undefined ? {} : { hostPort }), target };
  }
  checks.done();

  // The typed args become the service's environment; `env` may still override any of them.
  const typed: Record<string, pulumi.Input<string>> = {};
  if (port !== undefined) typed[ENV.listen] = pulumi.interpolate`0.0.0.0:${port}`;
  if (serverUrl !== undefined) typed[ENV.serverUrl] = serverUrl;
  const env = pulumi
    .all([pulumi.output(typed), pulumi.output(args.env ?? {})])
    .apply(([fromArgs, extra]) => ({ ...fromArgs, ...extra }));
  // The access policy is not environment: Docker fixes a container's environment at creation, so
  // a policy there would replace the server for every edit. It goes in the policy file instead.
  const policy =
    args.role === "server"
      ? pulumi
          .all([pulumi.output(allowedClients), pulumi.output(tlsPolicy), pulumi.output(revokedSerials)])
          .apply(([clients, tls, serials]) =>
            policyFileText({
              ...(clients !== undefined ? { allowedClients: clients } : {}),
              ...(tls !== undefined ? { tlsPolicy: tls } : {}),
              revokedSerials: serials,
            }),
          )
      : undefined;
  // A published server without aliases gets its component name as one, for its front to forward to.
  const networkAliases =
    front && aliases === undefined
      ? [name]
      : front
        ? pulumi.output(aliases).apply((a) => (a?.length ? a : [name]))
        : aliases;
  return { env, policy, aliases: networkAliases, front, memoryMb, restart };
}
