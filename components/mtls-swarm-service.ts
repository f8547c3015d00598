/**
 * One mTLS service (server or client) as a Docker Swarm service: the same PKI, image, settings and
 * hardening as MtlsService, run as replicated tasks with the identity delivered as swarm secrets.
 *
 * - `<name>-tls-crt`, `<name>-tls-key`, `<name>-ca-crt`: one swarm secret per identity file,
 *   mounted at /etc/mtls/tls.crt, /etc/mtls/tls.key (mode 0400) and /etc/mtls/ca.crt (0444), owned
 *   by the service user 10001:10001: the paths the services read by default. Swarm secrets are
 *   immutable, so a re-issued certificate becomes a new secret. The secrets are auto-named
 *   (`<logical name>-<7 hex>`): with a name of its own the provider would replace a secret
 *   delete-first, which Swarm refuses while a task still uses it. An unchanged file keeps its
 *   secret: a re-issued certificate (same key) makes a new certificate secret and keeps the key
 *   secret. The certificate secret carries the SHA-256 of the chain in a label
 *   (`mtls-pki.chain-sha256`), to tell which certificate it holds without reading it; the key
 *   secret carries nothing that changes with the certificate.
 * - `<name>-policy` (server only): the server's policy file (allow-list, revoked serials, TLS
 *   policy) as a swarm secret at /etc/mtls/policy.json, 0444: a policy edit is a new secret and a
 *   rolling update, like a re-issued certificate.
 * - `<name>`: the docker.Service. A new secret updates it in place and Swarm rolls the tasks one at
 *   a time, each new task started and healthy before an old one stops (`start-first`); a new task
 *   that does not turn healthy rolls the service back. `pulumi up` waits for the rollout
 *   (`convergeConfig`), and Pulumi deletes the old secret only after the service no longer uses it.
 *
 * Hardening, as far as Swarm allows: numeric non-root user, read-only root filesystem, every
 * capability dropped, a memory limit, rotated JSON logs, the image's health check. Not available on
 * a Swarm service spec through this provider: `no-new-privileges` and a swap limit.
 *
 * Endpoint mode `dnsrr`: the service name and aliases resolve to the tasks' own addresses (DNS round
 * robin) instead of a virtual IP, which needs IPVS in the kernel; clients reconnect per round, so
 * requests spread over the tasks. No port is published (see README, "Scaling out").
 */
import { createHash } from "node:crypto";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULTS,
  ENV,
  IDENTITY_DIR,
  IDENTITY_FILES,
  POLICY_FILE,
  SERVICE_GID,
  SERVICE_UID,
} from "../services/src/contract.ts";
import { HEALTHCHECK_ARGS } from "./mtls-service-args.ts";
import {
  checkSwarmArgs,
  MTLS_SWARM_SERVICE_TYPE,
  type MtlsSwarmServiceArgs,
} from "./mtls-swarm-service-args.ts";

export { MTLS_SWARM_SERVICE_TYPE, type MtlsSwarmServiceArgs } from "./mtls-swarm-service-args.ts";

const MB = 1024 * 1024;
const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

export class MtlsSwarmService extends pulumi.ComponentResource {
  readonly certSecret: docker.Secret;
  readonly keySecret: docker.Secret;
  readonly caSecret: docker.Secret;
  /** The server's policy file; undefined for a client. */
  readonly policySecret: docker.Secret | undefined;
  readonly service: docker.Service;
  /** The swarm service's name (also its DNS name on the network). */
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: MtlsSwarmServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const checked = checkSwarmArgs(name, args);
    super(MTLS_SWARM_SERVICE_TYPE, name, {}, opts);
    const parent = { parent: this };
    const serviceLabel = { label: "mtls-pki.service", value: name };
    const chainHash = pulumi.output(args.identity.chainPem).apply(sha256);
    const chainLabels = [serviceLabel, { label: "mtls-pki.chain-sha256", value: chainHash }];

    this.certSecret = new docker.Secret(
      `${name}-tls-crt`,
      { data: pulumi.output(args.identity.chainPem).apply(base64), labels: chainLabels },
      parent,
    );
    this.keySecret = new docker.Secret(
      `${name}-tls-key`,
      // Only the key's own data: a re-issue with the same key keeps this secret.
      { data: pulumi.secret(args.identity.privateKeyPem).apply(base64), labels: [serviceLabel] },
      parent,
    );
    this.caSecret = new docker.Secret(
      `${name}-ca-crt`,
      { data: pulumi.output(args.identity.caBundlePem).apply(base64), labels: [serviceLabel] },
      parent,
    );

    this.policySecret = checked.policy
      ? new docker.Secret(
          `${name}-policy`,
          { data: checked.policy.apply(base64), labels: [serviceLabel] },
          parent,
        )
      : undefined;

    const owner = { fileUid: String(SERVICE_UID), fileGid: String(SERVICE_GID) };
    const mount = (secret: docker.Secret, file: string, fileMode: number) => ({
      secretId: secret.id,
      secretName: secret.name,
      // An absolute path is mounted there (a relative one would land under /run/secrets).
      fileName: `${IDENTITY_DIR}/${file}`,
      fileMode,
      ...owner,
    });
    const env = pulumi.output(checked.env).apply((extra) => ({
      [ENV.certFile]: DEFAULTS.certFile,
      [ENV.keyFile]: DEFAULTS.keyFile,
      [ENV.caFile]: DEFAULTS.caFile,
      ...extra,
    }));
    const rollout = { parallelism: 1, order: "start-first", monitor: "10s" };

    this.service = new docker.Service(
      name,
      {
        labels: [serviceLabel, { label: "mtls-pki.role", value: args.role }],
        taskSpec: {
          containerSpec: {
            image: args.image,
            args: pulumi.output(args.args ?? []).apply((rest) => [args.role, ...rest]),
            env,
            user: `${SERVICE_UID}:${SERVICE_GID}`,
            readOnly: true,
            capDrops: ["ALL"],
            secrets: [
              mount(this.certSecret, IDENTITY_FILES.cert, 0o444),
              mount(this.keySecret, IDENTITY_FILES.key, 0o400),
              mount(this.caSecret, IDENTITY_FILES.ca, 0o444),
              ...(this.policySecret ? [mount(this.policySecret, POLICY_FILE, 0o444)] : []),
            ],
            healthcheck: HEALTHCHECK_ARGS,
            stopGracePeriod: "10s",
          },
          resources: { limits: { memoryBytes: pulumi.output(checked.memoryMb).apply((mb) => mb * MB) } },
          networksAdvanceds: [{ id: args.networkId, aliases: checked.aliases }],
          logDriver: { name: "json-file", options: { "max-size": "10m", "max-file": "3" } },
        },
        mode: { replicated: { replicas: checked.replicas } },
        endpointSpec: { mode: "dnsrr" },
        // One task at a time, the new one healthy before an old one stops; a new task that fails
        // its health check within `monitor` rolls the service back to the previous spec.
        updateConfig: { ...rollout, failureAction: "rollback" },
        rollbackConfig: { ...rollout, failureAction: "pause" },
        ...(args.waitUntilConverged === false ? {} : { convergeConfig: { delay: "1s", timeout: "3m" } }),
      },
      parent,
    );

    this.serviceName = this.service.name;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
