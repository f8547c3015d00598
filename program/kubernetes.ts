/**
 * The program's `runtime: kubernetes` half (index.ts calls it): the stack's namespace, its images,
 * the server and clients as MtlsKubernetesService, the workloads as MtlsKubernetesWorkload, all
 * through one explicit Kubernetes provider for the stack's kubeconfig and context.
 *
 * Images: without `kubernetesImage` the services' image is built on this machine (ServiceImage) and
 * loaded into the local cluster's containerd (LocalClusterImage running
 * scripts/kubernetes/load-image.sh), and pods run it with `imagePullPolicy: Never`; the demo app
 * likewise. With `kubernetesImage` (a real cluster) nothing is built: pods pull that reference.
 *
 * Names: clients reach a server by its Service's name, the certificate's DNS name, which their pods
 * resolve through /etc/hosts entries (`hostAliases`) holding the Service's cluster IP, so the stack
 * needs no cluster DNS (where there is one, the name resolves to the same address).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { DEMO_APP_IMAGE, type MtlsConfig, PROJECT } from "../components/config.ts";
import type { Identity } from "../components/index.ts";
import {
  type ImagePullPolicy,
  LocalClusterImage,
  MtlsKubernetesService,
  MtlsKubernetesWorkload,
  OWNER_LABEL,
  ServiceImage,
  ServiceNamespace,
} from "../components/index.ts";
import { DEFAULT_SERVER_PORT } from "../services/src/contract.ts";

/**
 * The local cluster's image loader, beside this repository's program, relative to the program's
 * working directory (where the command runs), so the state holds no machine-specific path.
 */
export const LOCAL_IMAGE_LOADER = path.relative(
  process.cwd(),
  fileURLToPath(new URL("../scripts/kubernetes/load-image.sh", import.meta.url)),
);

/** The stack's namespace and the owner label its namespace carries (`<project>.<stack>`). */
export function namespaceClaim(config: MtlsConfig) {
  return {
    namespace: config.kubernetes.namespace,
    owner: `${PROJECT}.${config.stack}`,
    ownerLabel: OWNER_LABEL,
  };
}

export interface KubernetesIdentities {
  server: Identity;
  clients: Map<string, Identity>;
  workloads: Map<string, Identity>;
}

export function declareKubernetesStack(config: MtlsConfig, identities: KubernetesIdentities) {
  const { kubernetes } = config;
  const provider = new k8s.Provider("kubernetes", {
    ...(kubernetes.kubeconfig === undefined ? {} : { kubeconfig: kubernetes.kubeconfig }),
    ...(kubernetes.context === undefined ? {} : { context: kubernetes.context }),
    // Pinned, whatever PULUMI_K8S_ENABLE_*_MUTABLE says: a changed Secret or ConfigMap must be a
    // new object under a new name, which is what rolls the pods onto a re-issued certificate.
    enableSecretMutable: false,
    enableConfigMapMutable: false,
  });
  const withProvider = { providers: [provider] };
  const namespace = new ServiceNamespace(
    "mtls",
    { namespaceName: kubernetes.namespace, owner: namespaceClaim(config).owner },
    { provider },
  );
  const ns = namespace.metadata.name;

  // The image: a registry's reference, or built here and loaded into the local cluster.
  const localImage = (name: string, repository: string, image: pulumi.Input<string>) =>
    new LocalClusterImage(name, { image, repository, loader: LOCAL_IMAGE_LOADER }).imageRef;
  let image: pulumi.Input<string>;
  let pullPolicy: ImagePullPolicy;
  if (kubernetes.image !== undefined) {
    image = kubernetes.image;
    pullPolicy = "IfNotPresent";
  } else {
    const built = new ServiceImage("services", { baseImage: config.baseImage });
    image = localImage("services-cluster-image", "mtls-service", built.repoDigest);
    pullPolicy = "Never";
  }
  const usesDemo = config.workloads.some((w) => w.image === DEMO_APP_IMAGE);
  const demoApp = usesDemo
    ? localImage(
        "demo-app-cluster-image",
        "mtls-demo-app",
        new ServiceImage("demo-app", {
          baseImage: config.baseImage,
          imageName: DEMO_APP_IMAGE,
          context: fileURLToPath(new URL("../examples/demo-app", import.meta.url)),
        }).repoDigest,
      )
    : undefined;

  const { name: serverName, port } = config.server;
  const common = { image, imagePullPolicy: pullPolicy, namespace: ns };
  const serverService = new MtlsKubernetesService(
    serverName,
    {
      ...common,
      role: "server",
      identity: identities.server,
      serviceName: serverName,
      replicas: config.serverReplicas,
      port,
      allowedClients: config.allowedClients,
      tlsPolicy: config.tlsPolicy,
      revokedSerials: config.revokedSerials,
    },
    withProvider,
  );
  const toServer = [{ ip: serverService.clusterIp!, hostnames: [serverName] }];
  const clients = new Map(
    [...identities.clients].map(([name, identity]) => [
      name,
      new MtlsKubernetesService(
        name,
        {
          ...common,
          role: "client",
          identity,
          serverUrl: `https://${serverName}:${port}`,
          hostAliases: toServer,
          // As on Docker and Swarm: a client's readiness is its last call, which the server's
          // allow-list decides; it does not fail `up`.
          waitUntilReady: false,
        },
        { ...withProvider, dependsOn: [serverService] },
      ),
    ]),
  );

  const workloads = new Map<string, MtlsKubernetesWorkload>();
  for (const role of ["server", "client"] as const) {
    for (const workload of config.workloads.filter((w) => w.role === role)) {
      const app = {
        appImage: workload.image === DEMO_APP_IMAGE && demoApp ? demoApp : workload.image,
        appImagePullPolicy: (workload.image === DEMO_APP_IMAGE && demoApp
          ? "Never"
          : "IfNotPresent") as ImagePullPolicy,
        ...(workload.env === undefined ? {} : { appEnv: workload.env }),
        ...(workload.user === undefined ? {} : { appUser: workload.user }),
        ...(workload.readOnly === undefined ? {} : { appReadOnly: workload.readOnly }),
      };
      const identity = identities.workloads.get(workload.name)!;
      if (role === "server") {
        const callers = config.workloads
          .filter((w) => w.calls?.some((call) => call.server === workload.name))
          .map((w) => w.name);
        workloads.set(
          workload.name,
          new MtlsKubernetesWorkload(
            workload.name,
            {
              ...common,
              ...app,
              role: "server",
              identity,
              appPort: workload.port!,
              protocol: workload.protocol ?? "http",
              ...(callers.length > 0 ? { allowedClients: callers } : {}),
              revokedSerials: config.revokedSerials,
            },
            withProvider,
          ),
        );
      } else {
        const calls = workload.calls ?? [];
        const servers = calls.map((call) => workloads.get(call.server)!);
        workloads.set(
          workload.name,
          new MtlsKubernetesWorkload(
            workload.name,
            {
              ...common,
              ...app,
              role: "client",
              identity,
              calls: calls.map((call) => ({
                name: call.server,
                serverUrl: `https://${call.server}:${DEFAULT_SERVER_PORT}`,
                localPort: call.localPort,
              })),
              hostAliases: calls.map((call, index) => ({
                ip: servers[index]!.clusterIp!,
                hostnames: [call.server],
              })),
            },
            // After the servers it calls: their Services' addresses go into its pod.
            { ...withProvider, dependsOn: servers },
          ),
        );
      }
    }
  }

  return {
    namespace: ns,
    deploymentNames: {
      server: serverService.deploymentName,
      clients: Object.fromEntries([...clients].map(([name, client]) => [name, client.deploymentName])),
    },
    serverService: { name: serverService.serviceName!, clusterIp: serverService.clusterIp! },
    workloads:
      workloads.size === 0
        ? undefined
        : Object.fromEntries(
            [...workloads].map(([name, workload]) => [
              name,
              {
                deployment: workload.deploymentName,
                containers: workload.containerNames,
                ...(workload.serviceName ? { service: workload.serviceName } : {}),
              },
            ]),
          ),
  };
}
