/**
 * The kubernetes stack (Pulumi.kubernetes.yaml) deployed through the whole program under the
 * emulated engine, with the tls, docker (image builds), kubernetes and command emulations, the
 * kubernetes one realising against the local cluster's API server. Each run gets a namespace of its
 * own (`mtls-e2e-<random>`), and `destroy()` removes what the run made: the stack's objects (the
 * namespace among them) and the images it built.
 */
import { randomBytes } from "node:crypto";
import {
  cleanupKubernetesRun,
  cleanupRun,
  createCommandProvider,
  createDockerProvider,
  createKubernetesProvider,
  EmulatedEngine,
  TlsProvider,
} from "../../../emulation/index.ts";
import { type Deployment, deploy, type Stack } from "../../program/deploy.ts";
import { ensureBaseImage } from "../../support/docker-available.ts";
import type { LocalCluster } from "../../support/kubernetes-cluster.ts";
import { stackConfig } from "../../support/stack-files.ts";

export interface KubernetesOutputs {
  kubernetes: {
    namespace: string;
    deploymentNames: { server: string; clients: Record<string, string> };
    serverService: { name: string; clusterIp: string };
    workloads?: Record<
      string,
      { deployment: string; containers: { app: string; sidecars: string[] }; service?: string }
    >;
  };
  server: { serialNumber: string; fingerprintSha256: string };
  clientCredentials: Record<string, { certPem: string; keyPem: string; caPem: string }>;
  ca: { generations: string[]; issuing: string; roots: Record<string, { fingerprintSha256: string }> };
}

export interface KubernetesStack {
  stack: Stack;
  namespace: string;
  config: Record<string, string>;
  /** The last `up`'s deployment and outputs. */
  deployment: Deployment | undefined;
  outputs: KubernetesOutputs;
  /** One `pulumi up` with these changes on top of the config so far; returns its duration in ms. */
  apply(changes?: Record<string, string>): Promise<number>;
  /** The operation the last `up` did on a resource ("create", "same", "update", "replace", ...). */
  op(type: string, name: string): string | undefined;
  destroy(): Promise<void>;
}

export async function kubernetesStack(cluster: LocalCluster): Promise<KubernetesStack> {
  const docker = createDockerProvider();
  const kubernetes = createKubernetesProvider({ kubeconfig: cluster.kubeconfig });
  const engine = new EmulatedEngine([new TlsProvider(), docker, kubernetes, createCommandProvider()]);
  const stack: Stack = { engine, docker, reachedDocker: true };
  const namespace = `mtls-e2e-${randomBytes(3).toString("hex")}`;
  const baseImage = await ensureBaseImage();
  const self: KubernetesStack = {
    stack,
    namespace,
    config: { ...stackConfig("kubernetes"), baseImage, kubeconfig: cluster.kubeconfig, namespace },
    deployment: undefined,
    outputs: undefined as unknown as KubernetesOutputs,
    async apply(changes = {}) {
      self.config = { ...self.config, ...changes };
      const started = Date.now();
      self.deployment = await deploy("kubernetes", self.config, { stack });
      self.outputs = self.deployment.run.exports as unknown as KubernetesOutputs;
      return Date.now() - started;
    },
    op(type, name) {
      return self.deployment?.run.registrations.find((r) => r.type === type && r.name === name)?.op;
    },
    async destroy() {
      try {
        await engine.destroyAll();
      } finally {
        // Whatever a failed run left: the run's labelled objects on the cluster, images on Docker.
        await cleanupKubernetesRun(cluster.kubeconfig, kubernetes.runId);
        await cleanupRun(docker.runId);
      }
    },
  };
  return self;
}

/** Kubernetes objects as `kubectl get -o json` lists them. */
export interface KubeList<T> {
  items: T[];
}
export interface Pod {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown> & {
    containers: { name: string; image: string }[];
    initContainers?: { name: string }[];
  };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatus[];
    initContainerStatuses?: ContainerStatus[];
  };
}
export interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  containerID?: string;
  state?: { running?: { startedAt: string } };
}

export async function getJson<T>(cluster: LocalCluster, args: string[]): Promise<T> {
  return JSON.parse(await cluster.run([...args, "-o", "json"])) as T;
}

/**
 * The image the server's Deployment runs (the services image the up built and loaded), for the
 * caller pods a test starts: it holds Node, and no registry is needed for it.
 */
export async function serverImage(cluster: LocalCluster, k: KubernetesStack): Promise<string> {
  const deployment = await getJson<{ spec: { template: { spec: Pod["spec"] } } }>(cluster, [
    "-n",
    k.namespace,
    "get",
    "deployment",
    k.outputs.kubernetes.deploymentNames.server,
  ]);
  return deployment.spec.template.spec.containers[0]!.image;
}

/** The running, ready pods of a component (by its app.kubernetes.io/name label). */
export async function readyPods(cluster: LocalCluster, namespace: string, name: string): Promise<Pod[]> {
  const pods = await getJson<KubeList<Pod>>(cluster, [
    "-n",
    namespace,
    "get",
    "pods",
    "-l",
    `app.kubernetes.io/name=${name}`,
  ]);
  return pods.items.filter(
    (pod) =>
      pod.status.phase === "Running" &&
      pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") &&
      !("deletionTimestamp" in pod.metadata),
  );
}
