/**
 * A user's workload behind our sidecars, on Kubernetes: the app and its sidecars in one pod, each
 * sidecar a native sidecar container (an init container with `restartPolicy: Always`, KEP-753, GA
 * in 1.33). The kubelet starts the sidecars first and the app only once each sidecar's startup
 * probe passed (it serves), restarts a sidecar that dies while the app runs on, and stops the
 * sidecars after the app. That ordering is what Docker cannot give (MtlsWorkload uses a private
 * network instead). For a workload `orders`:
 *
 * - `orders-tls` (Secret) and, for a server, `orders-policy` (ConfigMap): its identity and policy
 *   file, as MtlsKubernetesService delivers them, mounted only into the sidecars.
 * - `orders` (Deployment, 1 pod; rolled as MtlsKubernetesService's are: a re-issued certificate
 *   is a new Secret and a new pod ready before the old one stops):
 *   - server role: the `sidecar` container runs the server on 0.0.0.0:<port> with
 *     `MTLS_UPSTREAM=http://127.0.0.1:<appPort>` (or tcp://), adding x-forwarded-client-cert as on
 *     Docker; the app is told `MTLS_APP_PORT` and `MTLS_APP_HOST=127.0.0.1`: it must listen on the
 *     pod's loopback, which only the pod's own containers reach.
 *   - client role: one `tunnel-<call>` container per call, listening on 127.0.0.1:<localPort>
 *     (loopback: only the app calls through it), its status on port 9091 + its index; the app is
 *     told `MTLS_TUNNEL_<CALL>=127.0.0.1:<localPort>`.
 * - `orders-service` (server role): a ClusterIP Service named `serviceName`, to the sidecar's port.
 *
 * The app runs as 10001:10001 (or `appUser`), read-only root, no capabilities, under the
 * namespace's restricted Pod Security Standard like the sidecars.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_STATUS_PORT, DEFAULTS, ENV } from "../../services/src/contract.ts";
import {
  clusterIpService,
  identitySecret,
  PROGRESS_DEADLINE_SECONDS,
  policyConfigMap,
  ROLLING_UPDATE,
} from "./mtls-kubernetes-service.ts";
import {
  APP_LOOPBACK,
  checkKubernetesWorkloadArgs,
  KUBERNETES_WORKLOAD_ENV,
  MTLS_KUBERNETES_WORKLOAD_TYPE,
  type MtlsKubernetesWorkloadArgs,
  tunnelEnvName,
  tunnelStatusPort,
} from "./mtls-kubernetes-workload-args.ts";
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
  startupProbe,
  statusListenEnv,
} from "./pod-parts.ts";

export {
  APP_LOOPBACK,
  KUBERNETES_WORKLOAD_ENV,
  type KubernetesWorkloadCall,
  MTLS_KUBERNETES_WORKLOAD_TYPE,
  type MtlsKubernetesWorkloadArgs,
  tunnelStatusPort,
} from "./mtls-kubernetes-workload-args.ts";

/** The container names in the workload's pod. */
export const WORKLOAD_CONTAINERS = {
  app: "app",
  serverSidecar: "sidecar",
  tunnel: (call: string) => `tunnel-${call}`,
} as const;

export class MtlsKubernetesWorkload extends pulumi.ComponentResource {
  readonly secret: k8s.core.v1.Secret;
  readonly policy: k8s.core.v1.ConfigMap | undefined;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service | undefined;
  readonly deploymentName: pulumi.Output<string>;
  /** The server's Service name; undefined for a client. */
  readonly serviceName: pulumi.Output<string> | undefined;
  /** The server's Service cluster IP, for its callers' `hostAliases`; undefined for a client. */
  readonly clusterIp: pulumi.Output<string> | undefined;
  /** The pod's container names: the app's, and the sidecars'. */
  readonly containerNames: { app: string; sidecars: string[] };

  constructor(name: string, args: MtlsKubernetesWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    const checked = checkKubernetesWorkloadArgs(name, args);
    super(MTLS_KUBERNETES_WORKLOAD_TYPE, name, {}, opts);
    const parent = { parent: this };
    const server = args.role === "server";
    const labels = objectLabels(name, "workload");

    this.secret = identitySecret(name, args.identity, args.namespace, labels, parent);
    const policy = checked.sidecar.policy;
    this.policy = policy ? policyConfigMap(name, policy, args.namespace, labels, parent) : undefined;

    const identityEnv = {
      [ENV.certFile]: DEFAULTS.certFile,
      [ENV.keyFile]: DEFAULTS.keyFile,
      [ENV.caFile]: DEFAULTS.caFile,
    };
    const sidecarBase = (containerName: string, statusPort: number, statusPortName: string) => ({
      name: containerName,
      image: args.image,
      imagePullPolicy: checked.imagePullPolicy,
      // What makes an init container a native sidecar: it keeps running beside the app.
      restartPolicy: "Always",
      startupProbe: startupProbe(statusPortName),
      readinessProbe: readinessProbe(statusPortName),
      resources: resources(checked.sidecar.memoryMb),
      securityContext: containerSecurityContext(),
      volumeMounts: [IDENTITY_MOUNT],
      statusPort: { name: statusPortName, containerPort: statusPort, protocol: "TCP" },
    });

    const sidecars = server
      ? [
          (() => {
            const { statusPort, ...base } = sidecarBase(
              WORKLOAD_CONTAINERS.serverSidecar,
              DEFAULT_STATUS_PORT,
              "status",
            );
            const upstream = `${checked.protocol}://${APP_LOOPBACK}:${args.appPort}`;
            return {
              ...base,
              args: ["server"],
              env: pulumi.output(checked.sidecar.env).apply((typed) =>
                envList({
                  ...identityEnv,
                  ...typed,
                  [ENV.statusListen]: statusListenEnv(DEFAULT_STATUS_PORT).value,
                  [ENV.upstream]: upstream,
                }),
              ),
              ports: [{ name: "mtls", containerPort: checked.port, protocol: "TCP" }, statusPort],
              // Stops after the app; the app's own pause covers the Service's routing delay.
            };
          })(),
        ]
      : checked.calls.map((call, index) => {
          const port = tunnelStatusPort(index);
          const { statusPort, ...base } = sidecarBase(
            WORKLOAD_CONTAINERS.tunnel(call.name),
            port,
            `status-${index}`,
          );
          return {
            ...base,
            args: ["client"],
            env: envList({
              ...identityEnv,
              [ENV.serverUrl]: call.serverUrl,
              [ENV.statusListen]: statusListenEnv(port).value,
              // Loopback: only the pod's own containers reach the tunnel (the client's default rule).
              [ENV.localListen]: `${APP_LOOPBACK}:${call.localPort}`,
            }),
            ports: [statusPort],
          };
        });

    const own: Record<string, string> = server
      ? {
          [KUBERNETES_WORKLOAD_ENV.appPort]: String(args.appPort),
          [KUBERNETES_WORKLOAD_ENV.appHost]: APP_LOOPBACK,
        }
      : Object.fromEntries(
          checked.calls.map((call) => [tunnelEnvName(call.name), `${APP_LOOPBACK}:${call.localPort}`]),
        );
    const app = {
      name: WORKLOAD_CONTAINERS.app,
      image: args.appImage,
      imagePullPolicy: checked.appImagePullPolicy,
      ...(args.appCommand === undefined ? {} : { command: args.appCommand }),
      env: pulumi.output(args.appEnv ?? {}).apply((extra) => envList({ ...own, ...extra })),
      resources: resources(checked.appMemoryMb),
      securityContext: containerSecurityContext({
        ...(args.appReadOnly === undefined ? {} : { readOnlyRoot: args.appReadOnly }),
        user: checked.appUser,
      }),
      // A server's app keeps answering while the Service stops routing to a stopping pod.
      ...(server ? { lifecycle: PRE_STOP } : {}),
    };

    this.deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { namespace: args.namespace, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: selectorLabels(name) },
          strategy: ROLLING_UPDATE,
          progressDeadlineSeconds: PROGRESS_DEADLINE_SECONDS,
          revisionHistoryLimit: 3,
          template: {
            metadata: { labels },
            spec: {
              ...POD_DEFAULTS,
              ...(args.hostAliases === undefined ? {} : { hostAliases: args.hostAliases }),
              initContainers: sidecars,
              containers: [app],
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
          { serviceName: checked.serviceName, namespace: args.namespace, labels, port: checked.port },
          this,
          this.deployment,
        )
      : undefined;

    this.deploymentName = this.deployment.metadata.name;
    this.serviceName = this.service?.metadata.name;
    this.clusterIp = this.service?.spec.clusterIP;
    this.containerNames = { app: WORKLOAD_CONTAINERS.app, sidecars: sidecars.map((s) => s.name) };
    this.registerOutputs({
      deploymentName: this.deploymentName,
      ...(this.service ? { serviceName: this.serviceName, clusterIp: this.clusterIp } : {}),
    });
  }
}
