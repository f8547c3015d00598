/**
 * The emulation's front door (README.md beside this file): the Pulumi engine and the tls and
 * docker providers, emulated for running the program without the Pulumi CLI. Tests, bench/ and any
 * other user import from this file only; the files behind it may change.
 */
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
export type { CreateRequest, EmulatedProvider } from "./engine/provider.ts";
/** Whether a registered input is a value unknown in preview (computed from an output not yet known). */
export { isUnknownValue } from "./engine/values.ts";
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
