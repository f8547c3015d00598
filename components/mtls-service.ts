/**
 * One mTLS service (server or client) as a hardened container, with its identity delivered so that a
 * re-issued certificate does not replace the service container:
 *
 * - `<name>-identity`: a named volume, mounted read-only at /etc/mtls in the service;
 * - `<name>-delivery`: a container that is created but never started, with the volume mounted
 *   read-write and the identity files as `uploads` (owned by the service's uid/gid, key 0400,
 *   certificates 0444), and for a server its access policy (`policy.json`, 0444: allow-list,
 *   revoked serials, TLS policy), so a policy edit replaces only this container too. Docker writes the uploads of a created container through its mounts, so the
 *   files land in the volume. Uploads force replacement, so a new certificate replaces only this
 *   container; the service notices the new files and swaps its TLS context without a restart;
 * - `<name>`: the service container. None of its inputs carries certificate material or policy, so
 *   neither a re-issue nor a policy edit changes it; it `dependsOn` the delivery container so that on first deploy the
 *   files are in the volume before it starts (the services also wait for missing files).
 *   Replaced create-first (unless `containerName` fixes its name): a new image or setting starts a
 *   new container beside the old one, under the same aliases, healthy before the old one is stopped;
 *   the old one then gets SIGTERM and `destroyGraceSeconds` to drain (its listener closes, callers
 *   that still resolve its address are refused and go on to the new one; requests in flight finish);
 * - a published server: `<name>` is its front (tcp-front.ts), which owns the host port and forwards
 *   to the server's alias, and the service container is `<name>-service`, so that it can be
 *   replaced create-first like any other (two containers cannot publish one port).
 *
 * Args (mtls-service-args.ts) are checked in the constructor before anything is declared; a bad one
 * throws one line naming `mtls:docker:MtlsService "<name>"`, the arg and the value.
 *
 * Hardening: non-root numeric user, read-only root filesystem, every capability dropped,
 * no-new-privileges, memory limit without swap, rotated JSON logs, a restart policy, and a health
 * check against the status listener (which also makes `pulumi up` wait for readiness).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULTS,
  ENV,
  IDENTITY_DIR,
  IDENTITY_FILES,
  SERVICE_GID,
  SERVICE_UID,
} from "../services/src/contract.ts";
import { checkArgs, HEALTHCHECK_ARGS, MTLS_SERVICE_TYPE, type MtlsServiceArgs } from "./mtls-service-args.ts";
import { declareTcpFront } from "./tcp-front.ts";

export {
  DEFAULT_MEMORY_MB,
  HEALTHCHECK_COMMAND,
  MTLS_SERVICE_TYPE,
  type MtlsServiceArgs,
  RESTART_POLICIES,
  type RestartPolicy,
  type ServiceNetworkAttachment,
} from "./mtls-service-args.ts";

/** The environment the service reads its identity (and a server its policy) from: the files this component delivers. */
function identityEnv(role: string): Record<string, string> {
  return {
    [ENV.certFile]: DEFAULTS.certFile,
    [ENV.keyFile]: DEFAULTS.keyFile,
    [ENV.caFile]: DEFAULTS.caFile,
    ...(role === "server" ? { [ENV.policyFile]: DEFAULTS.policyFile } : {}),
  };
}

/**
 * How long Docker waits, when Pulumi deletes an old service container, between its SIGTERM and a
 * SIGKILL: the services' drain deadline (MTLS_SHUTDOWN_TIMEOUT_MS, 10 s by default) and a margin.
 * Without it the provider stops a container with no wait at all, cutting the requests in flight.
 */
export const SERVICE_STOP_GRACE_SECONDS = Math.ceil(DEFAULTS.shutdownTimeoutMs / 1000) + 5;

function envList(role: string, entries: Record<string, string>): string[] {
  return Object.entries({ ...identityEnv(role), ...entries })
    .map(([key, value]) => `${key}=${value}`)
    .sort();
}

export class MtlsService extends pulumi.ComponentResource {
  readonly volume: docker.Volume;
  readonly delivery: docker.Container;
  readonly container: docker.Container;
  /** A published server's front: owns the host port, forwards to the server's alias. */
  readonly front: docker.Container | undefined;
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
          // A server's access policy travels with its identity: a new certificate and a new policy
          // written by one `up` arrive together, and the server reloads each on its own.
          ...(checked.policy
            ? [{ file: DEFAULTS.policyFile, content: checked.policy, permissions: "0444", ...owner }]
            : []),
        ],
      },
      parent,
    );

    this.container = new docker.Container(
      checked.front ? `${name}-service` : name,
      {
        name: args.containerName,
        image: args.image,
        command: pulumi.output(args.args ?? []).apply((rest) => [args.role, ...rest]),
        envs: pulumi.output(checked.env).apply((entries) => envList(args.role, entries)),
        user: `${SERVICE_UID}:${SERVICE_GID}`,
        mounts: [{ type: "volume", source: this.volume.name, target: IDENTITY_DIR, readOnly: true }],
        networksAdvanced: [
          { name: args.networkName, aliases: checked.aliases },
          ...(args.additionalNetworks ?? []).map((network) => ({
            name: network.name,
            ...(network.aliases === undefined ? {} : { aliases: network.aliases }),
          })),
        ],
        // On more than one network, the container is the one place where they meet: it must not
        // route packets from one to the other (Docker containers inherit forwarding from the host).
        ...(args.additionalNetworks?.length ? { sysctls: { "net.ipv4.ip_forward": "0" } } : {}),
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
        healthcheck: HEALTHCHECK_ARGS,
        wait: args.waitUntilHealthy ?? true,
        waitTimeout: 60,
        destroyGraceSeconds: SERVICE_STOP_GRACE_SECONDS,
      },
      {
        parent: this,
        dependsOn: [this.delivery],
        // The provider stores a changed healthcheck without applying it; replacing is the only way
        // a new one takes effect.
        replaceOnChanges: ["healthcheck"],
        // Create-first, overriding the provider's delete-first (the engine takes the program's
        // value: pkg/resource/deploy/step_generator.go), unless a fixed name forbids two at once.
        deleteBeforeReplace: args.containerName !== undefined,
      },
    );

    this.front = checked.front
      ? declareTcpFront(
          name,
          {
            image: args.frontImage ?? args.deliveryImage ?? args.image,
            networkName: args.networkName,
            containerPort: checked.front.containerPort,
            ...(checked.front.hostPort === undefined ? {} : { hostPort: checked.front.hostPort }),
            target: checked.front.target,
            labels: [
              { label: "mtls-pki.service", value: name },
              { label: "mtls-pki.role", value: "front" },
            ],
          },
          // After the server: on a first deploy (and when a published server gets its front) the
          // front forwards to a server that is already healthy.
          { parent: this, dependsOn: [this.container] },
        )
      : undefined;

    this.containerName = this.container.name;
    this.volumeName = this.volume.name;
    this.registerOutputs({ containerName: this.containerName, volumeName: this.volumeName });
  }
}
