/**
 * One mTLS service (server or client) as a hardened container, with its identity delivered so that a
 * re-issued certificate does not replace the service container:
 *
 * - `<name>-identity`: a named volume, mounted read-only at /etc/mtls in the service;
 * - `<name>-delivery`: a container that is created but never started, with the volume mounted
 *   read-write and the identity files as `uploads` (owned by the service's uid/gid, key 0400,
 *   certificates 0444). Docker writes the uploads of a created container through its mounts, so the
 *   files land in the volume. Uploads force replacement, so a new certificate replaces only this
 *   container; the service notices the new files and swaps its TLS context without a restart;
 * - `<name>`: the service container. None of its inputs carries certificate material, so nothing
 *   about a re-issue changes it; it `dependsOn` the delivery container so that on first deploy the
 *   files are in the volume before it starts (the services also wait for missing files).
 *
 * Args are checked in the constructor before anything is declared (see arg-checks.ts); a bad one
 * throws one line naming `mtls:docker:MtlsService "<name>"`, the arg and the value.
 *
 * Hardening: non-root numeric user, read-only root filesystem, every capability dropped,
 * no-new-privileges, memory limit without swap, rotated JSON logs, a restart policy, and a health
 * check against the status listener (which also makes `pulumi up` wait for readiness).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_SERVER_PORT,
  DEFAULTS,
  ENV,
  IDENTITY_DIR,
  IDENTITY_FILES,
  ROLES,
  type Role,
  SERVICE_GID,
  SERVICE_UID,
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
  /** "server" or "client": the image's first argument. A plain value. Changing it replaces the container. */
  role: Role;
  /**
   * The identity to deliver: an `Identity` from `MtlsPki`, or any object with `chainPem`,
   * `privateKeyPem` (kept secret) and `caBundlePem`. A new certificate replaces only the delivery
   * container; the service reloads the files without a restart.
   */
  identity: ServiceIdentity;
  /** Name of the Docker network to join (a user-defined bridge: `ServiceNetwork.name`). Required. */
  networkName: pulumi.Input<string>;
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
  /** Arguments after the role, e.g. `["--once"]` for a single client round. Default none. */
  args?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Further environment (names from the services' contract, `ENV`); the identity paths and the
   * typed args above are set by the component, and a key given here wins. Changing it replaces
   * the service container.
   */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Publish the container's mTLS port on the host, bound to 127.0.0.1 only. `hostPort` 1 to 65535;
   * `containerPort` defaults to `port` (else 8443). Default: not published. Changing it replaces the
   * service container.
   */
  publish?: { hostPort: pulumi.Input<number>; containerPort?: pulumi.Input<number> };
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

/** The environment the service reads its identity from: the files this component delivers. */
function identityEnv(): Record<string, string> {
  return {
    [ENV.certFile]: DEFAULTS.certFile,
    [ENV.keyFile]: DEFAULTS.keyFile,
    [ENV.caFile]: DEFAULTS.caFile,
  };
}

function envList(entries: Record<string, string>): string[] {
  return Object.entries({ ...identityEnv(), ...entries })
    .map(([key, value]) => `${key}=${value}`)
    .sort();
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

interface CheckedServiceArgs {
  env: pulumi.Input<Record<string, pulumi.Input<string>>>;
  aliases: pulumi.Input<pulumi.Input<string>[]> | undefined;
  ports: pulumi.Input<docker.types.input.ContainerPort[]>;
  memoryMb: pulumi.Input<number>;
  restart: pulumi.Input<RestartPolicy>;
}

/** Checks the args (before super(): a refused service registers nothing, not even itself). */
function checkArgs(name: string, args: MtlsServiceArgs): CheckedServiceArgs {
  const checks = new ArgChecks(MTLS_SERVICE_TYPE, name);
  if (!CONTAINER_NAME.test(name)) {
    checks.add("name", `${quote(name)} is not a Docker container name (letters, digits, "_", "." and "-")`);
  }
  if (!(ROLES as readonly string[]).includes(args.role)) {
    checks.add("role", `${quote(args.role)} is not one of ${ROLES.join(", ")}`);
  }
  for (const key of ["image", "networkName"] as const) {
    checks.check(key, args[key], (value) =>
      typeof value === "string" && value.trim() !== ""
        ? undefined
        : `${quote(value)} is empty; it is required`,
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
    const hostPort = checks.check("publish.hostPort", args.publish.hostPort, portProblem);
    const containerPort = checks.check(
      "publish.containerPort",
      args.publish.containerPort ?? port ?? DEFAULT_SERVER_PORT,
      portProblem,
    );
    ports = [{ internal: containerPort, external: hostPort, ip: "127.0.0.1" }];
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

export class MtlsService extends pulumi.ComponentResource {
  readonly volume: docker.Volume;
  readonly delivery: docker.Container;
  readonly container: docker.Container;
  /** The Docker name of the service container. */
  readonly containerName: pulumi.Output<string>;
  /** The Docker name of the volume holding the identity files. */
  readonly volumeName: pulumi.Output<string>;

  constructor(name: string, args: MtlsServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const checked = checkArgs(name, args);
    super(MTLS_SERVICE_TYPE, name, {}, opts);
    const parent = { parent: this };
    const owner = { owner: String(SERVICE_UID), group: String(SERVICE_GID) };

    this.volume = new docker.Volume(`${name}-identity`, {}, parent);

    this.delivery = new docker.Container(
      `${name}-delivery`,
      {
        image: args.deliveryImage ?? args.image,
        // Never started: it exists only so Docker writes the uploads into the volume.
        start: false,
        mustRun: false,
        networkMode: "none",
        mounts: [{ type: "volume", source: this.volume.name, target: IDENTITY_DIR }],
        uploads: [
          {
            file: `${IDENTITY_DIR}/${IDENTITY_FILES.cert}`,
            content: args.identity.chainPem,
            permissions: "0444",
            ...owner,
          },
          {
            file: `${IDENTITY_DIR}/${IDENTITY_FILES.key}`,
            content: pulumi.secret(args.identity.privateKeyPem),
            permissions: "0400",
            ...owner,
          },
          {
            file: `${IDENTITY_DIR}/${IDENTITY_FILES.ca}`,
            content: args.identity.caBundlePem,
            permissions: "0444",
            ...owner,
          },
        ],
      },
      parent,
    );

    this.container = new docker.Container(
      name,
      {
        name: args.containerName,
        image: args.image,
        command: pulumi.output(args.args ?? []).apply((rest) => [args.role, ...rest]),
        envs: pulumi.output(checked.env).apply(envList),
        user: `${SERVICE_UID}:${SERVICE_GID}`,
        mounts: [{ type: "volume", source: this.volume.name, target: IDENTITY_DIR, readOnly: true }],
        networksAdvanced: [{ name: args.networkName, aliases: checked.aliases }],
        ports: checked.ports,
        labels: [
          { label: "mtls-pki.service", value: name },
          { label: "mtls-pki.role", value: args.role },
        ],
        readOnly: true,
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        restart: checked.restart,
        memory: checked.memoryMb,
        // Equal to the memory limit: no swap on top of it.
        memorySwap: checked.memoryMb,
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
        // Canonical Go duration strings: the provider reads them back in that form.
        healthcheck: {
          tests: HEALTHCHECK_COMMAND,
          interval: "5s",
          timeout: "3s",
          startPeriod: "10s",
          retries: 3,
        },
        wait: args.waitUntilHealthy ?? true,
        waitTimeout: 60,
      },
      {
        parent: this,
        dependsOn: [this.delivery],
        // The provider stores a changed healthcheck without applying it; replacing is the only way
        // a new one takes effect. Delete first, as the provider does for its own replacements.
        replaceOnChanges: ["healthcheck"],
        deleteBeforeReplace: true,
      },
    );

    this.containerName = this.container.name;
    this.volumeName = this.volume.name;
    this.registerOutputs({ containerName: this.containerName, volumeName: this.volumeName });
  }
}
