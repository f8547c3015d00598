/**
 * One mTLS service (server or client) on Kubernetes: the same PKI, image, settings and hardening as
 * MtlsService, run as a Deployment with the identity delivered as a `kubernetes.io/tls` Secret.
 *
 * - `<name>-tls`: the Secret (tls.crt = the chain, tls.key, ca.crt = the CA bundle), auto-named
 *   `<name>-tls-<suffix>`. @pulumi/kubernetes replaces a Secret whose data changes (its provider
 *   arg `enableSecretMutable` is off by default), and an auto-named one create-first: a re-issued
 *   certificate is a new Secret beside the old one. It carries the chain's SHA-256 as an
 *   annotation (`mtls-pki/chain-sha256`), to tell which certificate it holds without reading it.
 * - `<name>-policy` (server only): the policy file (allow-list, revoked serials, TLS policy) as a
 *   ConfigMap, auto-named and replaced on change the same way (`enableConfigMapMutable`).
 * - `<name>`: the Deployment. Its pods mount both in one projected volume at /etc/mtls (0400,
 *   group 10001). A new Secret or ConfigMap name changes the pod template, so the Deployment rolls:
 *   one new pod at a time (`maxSurge` 1), ready on /readyz before an old one stops
 *   (`maxUnavailable` 0); an old pod pauses 5 s in preStop, so the Service stops routing to it
 *   before it stops accepting. `pulumi up` waits for the rollout (the provider's await), and only
 *   then does Pulumi delete the old Secret. So when `up` returns, every pod serves the new files.
 * - `<name>-service` (server only): a ClusterIP Service named `serviceName` (the certificate's DNS
 *   name), routing to the ready pods.
 *
 * Why a rollout rather than the kubelet's in-place refresh of a mounted Secret (which the services
 * would reload without a restart): the refresh reaches a pod only at the kubelet's next sync of it
 * (up to about a minute plus the cache's delay), with no signal when every pod has it, so `up` would
 * return before the new certificate is served, and the staged CA rotation's next step could run
 * before the previous one is everywhere. The rollout makes `up` the signal, as on Swarm.
 *
 * Hardening: the restricted Pod Security Standard (pod-parts.ts), resource limits, no service
 * account token, no Service environment variables.
 */
import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_CLIENT_STATUS_PORT,
  DEFAULT_SERVER_PORT,
  DEFAULT_STATUS_PORT,
  DEFAULTS,
  ENV,
  IDENTITY_FILES,
  POLICY_FILE,
} from "../../services/src/contract.ts";
import {
  checkKubernetesArgs,
  MTLS_KUBERNETES_SERVICE_TYPE,
  type MtlsKubernetesServiceArgs,
} from "./mtls-kubernetes-service-args.ts";
import {
  containerSecurityContext,
  envList,
  IDENTITY_MOUNT,
  identityVolume,
  objectLabels,
  POD_DEFAULTS,
  PRE_STOP,
  readinessProbe,
  resources,
  selectorLabels,
  statusListenEnv,
} from "./pod-parts.ts";

export {
  type HostAlias,
  IMAGE_PULL_POLICIES,
  type ImagePullPolicy,
  MTLS_KUBERNETES_SERVICE_TYPE,
  type MtlsKubernetesServiceArgs,
} from "./mtls-kubernetes-service-args.ts";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** The annotation that makes @pulumi/kubernetes skip its await logic for one object. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";
/** The Secret's annotation naming which certificate it holds (the chain's SHA-256, nothing secret). */
export const CHAIN_HASH_ANNOTATION = "mtls-pki/chain-sha256";

/** The Secret holding an identity; shared with the workloads' sidecars. */
export function identitySecret(
  name: string,
  identity: MtlsKubernetesServiceArgs["identity"],
  namespace: pulumi.Input<string>,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    `${name}-tls`,
    {
      metadata: {
        namespace,
        labels,
        annotations: { [CHAIN_HASH_ANNOTATION]: pulumi.output(identity.chainPem).apply(sha256) },
      },
      type: "kubernetes.io/tls",
      // Base64, as the API returns it (stringData is write-only: never read back). The key makes
      // the whole map secret; the provider marks `data` a secret output as well.
      data: pulumi.secret(
        pulumi
          .all([identity.chainPem, identity.privateKeyPem, identity.caBundlePem])
          .apply(([chain, key, ca]) => ({
            [IDENTITY_FILES.cert]: base64(chain),
            [IDENTITY_FILES.key]: base64(key),
            [IDENTITY_FILES.ca]: base64(ca),
          })),
      ),
    },
    opts,
  );
}

/** The server's policy file as a ConfigMap (nothing secret in it); shared with the server sidecar. */
export function policyConfigMap(
  name: string,
  policy: pulumi.Input<string>,
  namespace: pulumi.Input<string>,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    `${name}-policy`,
    { metadata: { namespace, labels }, data: { [POLICY_FILE]: policy } },
    opts,
  );
}

/**
 * A server's ClusterIP Service, named `serviceName` (the certificate's DNS SAN), in front of the
 * pods of `deployment`; shared with the workloads' server sidecars.
 */
export function clusterIpService(
  name: string,
  spec: {
    serviceName: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    port: pulumi.Input<number>;
  },
  parent: pulumi.Resource,
  deployment: k8s.apps.v1.Deployment,
): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    `${name}-service`,
    {
      metadata: { name: spec.serviceName, namespace: spec.namespace, labels: spec.labels },
      spec: {
        type: "ClusterIP",
        selector: selectorLabels(name),
        ports: [{ name: "mtls", port: spec.port, targetPort: "mtls", protocol: "TCP" }],
      },
    },
    // After the Deployment: its pods are ready when the Service's await looks for endpoints.
    { parent, dependsOn: [deployment] },
  );
}

/** The Deployment strategy of every component: one pod more at a time, none fewer. */
export const ROLLING_UPDATE = {
  type: "RollingUpdate",
  rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
} as const;
/** A rollout that has not progressed in this long fails (and with it `up`), rather than after 10 min. */
export const PROGRESS_DEADLINE_SECONDS = 180;

export class MtlsKubernetesService extends pulumi.ComponentResource {
  readonly secret: k8s.core.v1.Secret;
  /** The server's policy file; undefined for a client. */
  readonly policy: k8s.core.v1.ConfigMap | undefined;
  readonly deployment: k8s.apps.v1.Deployment;
  /** The server's Service; undefined for a client. */
  readonly service: k8s.core.v1.Service | undefined;
  /** The Deployment's name (auto-named `<name>-<suffix>`). */
  readonly deploymentName: pulumi.Output<string>;
  /** The Service's name (a server's `serviceName`); undefined for a client. */
  readonly serviceName: pulumi.Output<string> | undefined;
  /** The Service's cluster IP, for callers' `hostAliases`; undefined for a client. */
  readonly clusterIp: pulumi.Output<string> | undefined;

  constructor(name: string, args: MtlsKubernetesServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const checked = checkKubernetesArgs(name, args);
    super(MTLS_KUBERNETES_SERVICE_TYPE, name, {}, opts);
    const parent = { parent: this };
    const labels = objectLabels(name, args.role);
    const server = args.role === "server";

    this.secret = identitySecret(name, args.identity, args.namespace, labels, parent);
    this.policy = checked.policy
      ? policyConfigMap(name, checked.policy, args.namespace, labels, parent)
      : undefined;

    const port = pulumi.output(args.port ?? DEFAULT_SERVER_PORT);
    const statusPort = server ? DEFAULT_STATUS_PORT : DEFAULT_CLIENT_STATUS_PORT;
    const env = pulumi.output(checked.env).apply((extra) =>
      envList({
        [ENV.certFile]: DEFAULTS.certFile,
        [ENV.keyFile]: DEFAULTS.keyFile,
        [ENV.caFile]: DEFAULTS.caFile,
        [ENV.statusListen]: statusListenEnv(statusPort).value,
        ...extra,
      }),
    );
    const podLabels = { ...labels };

    this.deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: {
          namespace: args.namespace,
          labels,
          ...(args.waitUntilReady === false ? { annotations: { [SKIP_AWAIT_ANNOTATION]: "true" } } : {}),
        },
        spec: {
          replicas: checked.replicas,
          selector: { matchLabels: selectorLabels(name) },
          strategy: ROLLING_UPDATE,
          progressDeadlineSeconds: PROGRESS_DEADLINE_SECONDS,
          revisionHistoryLimit: 3,
          template: {
            metadata: { labels: podLabels },
            spec: {
              ...POD_DEFAULTS,
              ...(args.hostAliases === undefined ? {} : { hostAliases: args.hostAliases }),
              containers: [
                {
                  name: args.role,
                  image: args.image,
                  imagePullPolicy: checked.imagePullPolicy,
                  args: pulumi.output(args.args ?? []).apply((rest) => [args.role, ...rest]),
                  env,
                  ports: [
                    ...(server ? [{ name: "mtls", containerPort: port, protocol: "TCP" }] : []),
                    { name: "status", containerPort: statusPort, protocol: "TCP" },
                  ],
                  readinessProbe: readinessProbe("status"),
                  lifecycle: PRE_STOP,
                  resources: resources(checked.memoryMb),
                  securityContext: containerSecurityContext(),
                  volumeMounts: [IDENTITY_MOUNT],
                },
              ],
              volumes: [identityVolume(this.secret.metadata.name, this.policy?.metadata.name)],
            },
          },
        },
      },
      parent,
    );

    this.service = server
      ? clusterIpService(
          name,
          { serviceName: checked.serviceName, namespace: args.namespace, labels, port },
          this,
          this.deployment,
        )
      : undefined;

    this.deploymentName = this.deployment.metadata.name;
    this.serviceName = this.service?.metadata.name;
    this.clusterIp = this.service?.spec.clusterIP;
    this.registerOutputs({
      deploymentName: this.deploymentName,
      ...(this.service ? { serviceName: this.serviceName, clusterIp: this.clusterIp } : {}),
    });
  }
}
