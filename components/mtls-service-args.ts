/**
 * MtlsService's args: their types (with what each means, its default, its constraints and what
 * changing it replaces), and the checks the constructor runs before declaring anything (see
 * arg-checks.ts for how a refusal reads). The typed server and client args become the service's
 * environment here.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_SERVER_PORT,
  ENV,
  ROLES,
  type Role,
  TLS_POLICIES,
  type TlsPolicy,
} from "../services/src/contract.ts";
import { ArgChecks } from "./arg-checks.ts";
import type { ServiceIdentity } from "./identity.ts";
import { dnsNameProblem } from "./validation.ts";

export const MTLS_SERVICE_TYPE = "mtls:docker:MtlsService";

/** The health check the image ships (services/Dockerfile HEALTHCHECK), exec form: no shell needed. */
export const HEALTHCHECK_COMMAND = ["CMD", "node", "/app/src/healthcheck.ts"];

export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;
export type RestartPolicy = (typeof RESTART_POLICIES)[number];

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
   * Name of the Docker network to join (a user-defined bridge: `ServiceNetwork.name`). Required,
   * unless `namespaceOwnerId` is given (then it must be left out). Changing it replaces the service
   * container.
   */
  networkName?: pulumi.Input<string>;
  /**
   * Sidecar use (`MtlsWorkload` sets it): the id of a running container whose network namespace the
   * service joins (`networkMode: "container:<id>"`) instead of attaching to `networkName`; that
   * container holds the network attachment, the aliases and any published port, so `aliases` and
   * `publish` must be left out. Give the container's `id` output, never its name: Docker stores the
   * id, and a name would read back as a change on every `pulumi up`. Default: not joined. Changing
   * it (or a replaced owner, whose id changes) replaces the service container.
   */
  namespaceOwnerId?: pulumi.Input<string>;
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
   * Default: every client whose certificate chains to the CA bundle. Changing it replaces the
   * service container.
   */
  allowedClients?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Server only: "modern" (TLS 1.3 only) or "intermediate" (also TLS 1.2 with forward-secret AEAD
   * suites). Default: the service's own, "modern". Changing it replaces the service container.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
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
   * Publish the container's mTLS port on the host, bound to 127.0.0.1 only. `hostPort` 1 to 65535,
   * or left out for a free port Docker picks (read it back from `container.ports`);
   * `containerPort` defaults to `port` (else 8443). Default: not published. Changing it replaces the
   * service container.
   */
  publish?: { hostPort?: pulumi.Input<number>; containerPort?: pulumi.Input<number> };
  /** Memory limit in MB, at least 6, with no swap on top. Default 256. Changing it updates the container in place. */
  memoryMb?: pulumi.Input<number>;
  /** Docker restart policy. Default "unless-stopped". Changing it updates the container in place. */
  restart?: pulumi.Input<RestartPolicy>;
  /**
   * Make `pulumi up` wait until the container reports healthy (up to 60 s). Default true. Changing
   * it updates nothing in Docker.
   */
  waitUntilHealthy?: pulumi.Input<boolean>;
  /** Docker container name. Default: auto-named `<name>-<7 hex>`. Changing it replaces the container. */
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

export interface CheckedServiceArgs {
  env: pulumi.Input<Record<string, pulumi.Input<string>>>;
  aliases: pulumi.Input<pulumi.Input<string>[]> | undefined;
  ports: pulumi.Input<docker.types.input.ContainerPort[]>;
  memoryMb: pulumi.Input<number>;
  restart: pulumi.Input<RestartPolicy>;
}

/** Checks the args (before super(): a refused service registers nothing, not even itself). */
export function checkArgs(name: string, args: MtlsServiceArgs): CheckedServiceArgs {
  const checks = new ArgChecks(MTLS_SERVICE_TYPE, name);
  if (!CONTAINER_NAME.test(name)) {
    checks.add("name", `${quote(name)} is not a Docker container name (letters, digits, "_", "." and "-")`);
  }
  if (!(ROLES as readonly string[]).includes(args.role)) {
    checks.add("role", `${quote(args.role)} is not one of ${ROLES.join(", ")}`);
  }
  const required =
    args.namespaceOwnerId === undefined ? (["image", "networkName"] as const) : (["image"] as const);
  for (const key of required) {
    checks.check(key, args[key] ?? "", (value) =>
      typeof value === "string" && value.trim() !== ""
        ? undefined
        : `${quote(value)} is empty; it is required`,
    );
  }
  if (args.namespaceOwnerId !== undefined) {
    // Joined to another container's namespace: that container owns the network and its ports.
    const joined = { networkName: args.networkName, aliases: args.aliases, publish: args.publish };
    for (const [key, value] of Object.entries(joined)) {
      if (value !== undefined) {
        checks.add(key, "is set on the namespace owner when namespaceOwnerId is given; leave it out here");
      }
    }
    checks.check("namespaceOwnerId", args.namespaceOwnerId, (value) =>
      typeof value === "string" && value.trim() !== ""
        ? undefined
        : `${quote(value)} is empty; give the owner container's id`,
    );
  }
  const identity = args.identity as Partial<ServiceIdentity> | undefined;
  for (const field of ["chainPem", "privateKeyPem", "caBundlePem"] as const) {
    // Presence only: a PEM's content is never quoted (the key is a secret).
    if (identity?.[field] === undefined) checks.add(`identity.${field}`, "is missing");
  }
  const serverOnly = { port: args.port, allowedClients: args.allowedClients, tlsPolicy: args.tlsPolicy };
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
  const restart = checks.check("restart", args.restart ?? "unless-stopped", (value) =>
    (RESTART_POLICIES as readonly string[]).includes(value)
      ? undefined
      : `${quote(value)} is not one of ${RESTART_POLICIES.join(", ")}`,
  );
  let ports: pulumi.Input<docker.types.input.ContainerPort[]> = [];
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
    ports = [
      { internal: containerPort, ...(hostPort === undefined ? {} : { external: hostPort }), ip: "127.0.0.1" },
    ];
  }
  checks.done();

  // The typed args become the service's environment; `env` may still override any of them.
  const typed: Record<string, pulumi.Input<string>> = {};
  if (port !== undefined) typed[ENV.listen] = pulumi.interpolate`0.0.0.0:${port}`;
  if (allowedClients !== undefined) {
    typed[ENV.allowedClients] = pulumi.output(allowedClients).apply((names) => names.join(","));
  }
  if (tlsPolicy !== undefined) typed[ENV.tlsPolicy] = tlsPolicy;
  if (serverUrl !== undefined) typed[ENV.serverUrl] = serverUrl;
  const env = pulumi
    .all([pulumi.output(typed), pulumi.output(args.env ?? {})])
    .apply(([fromArgs, extra]) => ({ ...fromArgs, ...extra }));
  return { env, aliases, ports, memoryMb, restart };
}
