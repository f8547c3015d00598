/**
 * The library's public API: a PKI as a component, and hardened mTLS services that run with its
 * identities. Every arg is documented on its type (default, constraints, what changing it replaces).
 *
 *   const pki = new MtlsPki("pki", { trustDomain: "prod.example.internal" });
 *   const image = new ServiceImage("services");
 *   const network = new ServiceNetwork("mtls");
 *   new MtlsService("api", { role: "server", image: image.repoDigest, networkName: network.name,
 *     identity: pki.issueServer("api"), aliases: ["api"], allowedClients: ["billing"] });
 *   new MtlsService("billing", { role: "client", image: image.repoDigest, networkName: network.name,
 *     identity: pki.issueClient("billing"), serverUrl: "https://api:8443" });
 *
 * On Docker Swarm the same PKI and image run as MtlsSwarmService on a SwarmNetwork (its `id`), with
 * `replicas` and rolling, health-gated rotation; the other args are the same.
 *
 * On Kubernetes: a ServiceNamespace, the image as LocalClusterImage (loaded into a local cluster)
 * or a registry's reference, MtlsKubernetesService (a Deployment and, for a server, a Service named
 * as its certificate) and MtlsKubernetesWorkload (the app and native sidecars in one pod).
 *
 *   // A user's own app behind our sidecars, on a private network only its sidecar shares:
 *   new MtlsWorkload("orders", { role: "server", image: image.repoDigest, networkName: network.name,
 *     identity: pki.issueServer("orders"), aliases: ["orders"], appImage: "my/orders", appPort: 8080,
 *     subnet: "172.16.0.16/28" });
 */
export {
  DEFAULT_SERVER_NAME,
  DEFAULT_SERVER_PORT,
  ENV,
  ROLES,
  type Role,
  TLS_POLICIES,
  type TlsPolicy,
} from "../services/src/contract.ts";
export { InvalidArgsError } from "./arg-checks.ts";
export { Identity, type IdentityArgs, type IssuerArgs, type ServiceIdentity } from "./identity.ts";
export { KEY_ALGORITHM_NAMES, KEY_ALGORITHMS, type KeyAlgorithmName, type KeySpec } from "./key-algorithm.ts";
export {
  LOCAL_CLUSTER_IMAGE_TYPE,
  LocalClusterImage,
  type LocalClusterImageArgs,
  localImageRef,
} from "./kubernetes/local-cluster-image.ts";
export {
  CHAIN_HASH_ANNOTATION,
  type HostAlias,
  IMAGE_PULL_POLICIES,
  type ImagePullPolicy,
  MTLS_KUBERNETES_SERVICE_TYPE,
  MtlsKubernetesService,
  type MtlsKubernetesServiceArgs,
  SKIP_AWAIT_ANNOTATION,
} from "./kubernetes/mtls-kubernetes-service.ts";
export {
  APP_LOOPBACK,
  KUBERNETES_WORKLOAD_ENV,
  type KubernetesWorkloadCall,
  MTLS_KUBERNETES_WORKLOAD_TYPE,
  MtlsKubernetesWorkload,
  type MtlsKubernetesWorkloadArgs,
  tunnelStatusPort,
  WORKLOAD_CONTAINERS,
} from "./kubernetes/mtls-kubernetes-workload.ts";
export {
  OWNER_LABEL,
  SERVICE_NAMESPACE_TYPE,
  ServiceNamespace,
  type ServiceNamespaceArgs,
} from "./kubernetes/service-namespace.ts";
export {
  type GenerationRoot,
  MtlsPki,
  type MtlsPkiArgs,
  PKI_DEFAULTS,
  type ServerIdentityOptions,
} from "./mtls-pki.ts";
export {
  DEFAULT_MEMORY_MB,
  MtlsService,
  type MtlsServiceArgs,
  RESTART_POLICIES,
  type RestartPolicy,
  type ServiceNetworkAttachment,
} from "./mtls-service.ts";
export { MtlsSwarmService, type MtlsSwarmServiceArgs } from "./mtls-swarm-service.ts";
export {
  APP_ALIAS,
  DEFAULT_APP_USER,
  MtlsWorkload,
  type MtlsWorkloadArgs,
  NO_HOST_ADDRESS_OPTION,
  tunnelAlias,
  WORKLOAD_ENV,
  WORKLOAD_PROTOCOLS,
  type WorkloadCall,
  type WorkloadProtocol,
} from "./mtls-workload.ts";
export {
  DEFAULT_BASE_IMAGE,
  DEFAULT_DELIVERY_IMAGE_NAME,
  DEFAULT_IMAGE_NAME,
  ServiceImage,
  type ServiceImageArgs,
} from "./service-image.ts";
export { ServiceNetwork, type ServiceNetworkArgs } from "./service-network.ts";
export type { Subject } from "./subject.ts";
export { SwarmNetwork, type SwarmNetworkArgs } from "./swarm-network.ts";
export {
  allocateWorkloadSubnets,
  DEFAULT_WORKLOAD_SUBNET_POOL,
  type SubnetAllocation,
  type SubnetRequest,
  WORKLOAD_SUBNET_PREFIX,
  workloadSubnets,
} from "./workload-subnets.ts";
