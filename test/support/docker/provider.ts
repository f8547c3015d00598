/**
 * The emulated docker provider (pkg "docker") behind the engine's seam: docker.Image, Network,
 * Volume and Container realised on a real Docker engine with the provider's semantics
 * (PROVIDERS.md §2). Every object it creates carries the label `mtls-pki.test-run=<runId>`, so a
 * test ends with `cleanupRun(runId)` whatever happened.
 *
 *   const docker = createDockerProvider();            // a fresh run id
 *   ... run the program through the engine ...
 *   await cleanupRun(docker.runId);
 */
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  EmulatedProvider,
  UpdateRequest,
} from "../engine/provider.ts";
import {
  CONTAINER_TYPE,
  createContainer,
  deleteContainer,
  diffContainer,
  updateContainer,
} from "./container.ts";
import { createImage, deleteImage, diffImage, IMAGE_TYPE, updateImage } from "./image.ts";
import { newRunId } from "./naming.ts";
import { createNetwork, deleteNetwork, diffNetwork, NETWORK_TYPE } from "./network.ts";
import { createVolume, deleteVolume, diffVolume, VOLUME_TYPE } from "./volume.ts";

export { cleanupRun } from "./cleanup.ts";
export { RUN_LABEL } from "./naming.ts";
export { CONTAINER_TYPE, IMAGE_TYPE, NETWORK_TYPE, VOLUME_TYPE };

export interface DockerProvider extends EmulatedProvider {
  /** The label value on every object this provider created: pass it to `cleanupRun`. */
  readonly runId: string;
}

function unsupported(type: string): never {
  throw new Error(`docker emulation: resource type ${type} is not emulated`);
}

/** Networks and volumes have no in-place update: every change replaces them. */
function noUpdate(type: string): never {
  throw new Error(`docker emulation: ${type} has no in-place update (every input forces a replacement)`);
}

export function createDockerProvider(options: { runId?: string } = {}): DockerProvider {
  const runId = options.runId ?? newRunId();
  return {
    pkg: "docker",
    runId,
    // None of these types marks outputs secret; secret inputs (e.g. upload content) stay secret
    // through the engine, as Pulumi keeps the secretness of inputs echoed in outputs.
    secretOutputs: () => [],
    // pulumi-docker's resources.go sets DeleteBeforeReplace for containers (PROVIDERS.md 2.4).
    deletesBeforeReplace: (type: string) => type === CONTAINER_TYPE,
    diff(req: DiffRequest): DiffResult {
      switch (req.type) {
        case IMAGE_TYPE:
          return diffImage(req);
        case NETWORK_TYPE:
          return diffNetwork(req);
        case VOLUME_TYPE:
          return diffVolume(req);
        case CONTAINER_TYPE:
          return diffContainer(req);
        default:
          return unsupported(req.type);
      }
    },
    create(req: CreateRequest): Promise<CreateResult> {
      switch (req.type) {
        case IMAGE_TYPE:
          return createImage(req, runId);
        case NETWORK_TYPE:
          return createNetwork(req, runId);
        case VOLUME_TYPE:
          return createVolume(req, runId);
        case CONTAINER_TYPE:
          return createContainer(req, runId);
        default:
          return unsupported(req.type);
      }
    },
    update(req: UpdateRequest): Promise<CreateResult> {
      switch (req.type) {
        case IMAGE_TYPE:
          return updateImage(req, runId);
        case CONTAINER_TYPE:
          return updateContainer(req);
        case NETWORK_TYPE:
        case VOLUME_TYPE:
          return noUpdate(req.type);
        default:
          return unsupported(req.type);
      }
    },
    delete(req: DeleteRequest): Promise<void> {
      switch (req.type) {
        case IMAGE_TYPE:
          return deleteImage(req);
        case NETWORK_TYPE:
          return deleteNetwork(req);
        case VOLUME_TYPE:
          return deleteVolume(req);
        case CONTAINER_TYPE:
          return deleteContainer(req);
        default:
          return unsupported(req.type);
      }
    },
  };
}
