/**
 * The emulation's front door (README.md beside this file): the Pulumi engine and the tls, docker,
 * kubernetes and command providers, emulated for running the program without the Pulumi CLI. Tests, bench/ and any
 * other user import from this file only; the files behind it may change.
 */
export { COMMAND_TYPE, createCommandProvider } from "./command/provider.ts";
export { dockerApi } from "./docker/engine-api.ts";
export {
  CONTAINER_TYPE,
  cleanupRun,
  createDockerProvider,
  type DockerProvider,
  IMAGE_TYPE,
  NETWORK_TYPE,
  RUN_LABEL,
  SECRET_TYPE,
  SERVICE_TYPE,
  VOLUME_TYPE,
} from "./docker/provider.ts";
export { EmulatedEngine, type OpRecord, type Registration, type ResourceState } from "./engine/engine.ts";
export { type CreateRequest, type EmulatedProvider, ResourceInitError } from "./engine/provider.ts";
/** Whether a registered input is a value unknown in preview (computed from an output not yet known). */
export { isUnknownValue } from "./engine/values.ts";
export { KubeApi, KubeApiError, type KubeObject } from "./kubernetes/api.ts";
export { cleanupKubernetesRun, type KubernetesCleanupReport } from "./kubernetes/cleanup.ts";
export {
  CONFIGMAP_TYPE as KUBERNETES_CONFIGMAP_TYPE,
  DEPLOYMENT_TYPE as KUBERNETES_DEPLOYMENT_TYPE,
  NAMESPACE_TYPE as KUBERNETES_NAMESPACE_TYPE,
  SECRET_TYPE as KUBERNETES_SECRET_TYPE,
  SERVICE_TYPE as KUBERNETES_SERVICE_TYPE,
} from "./kubernetes/kinds.ts";
export { resolveConnection as kubernetesConnection } from "./kubernetes/kubeconfig.ts";
export { RUN_LABEL as KUBERNETES_RUN_LABEL } from "./kubernetes/objects.ts";
export {
  createKubernetesProvider,
  type KubernetesProvider,
  type KubernetesProviderOptions,
} from "./kubernetes/provider.ts";
export {
  inspectOutput,
  isSecretOutput,
  outputValue,
  type ProgramRun,
  type RunProgramOptions,
  runProgram,
  UNKNOWN,
} from "./run-program.ts";
export { TlsProvider } from "./tls/provider.ts";
