/**
 * The emulated docker provider (pkg "docker") behind the engine's seam: docker.Image, Network,
 * Volume and Container realised on a real Docker engine with the provider's semantics
 * (docs/PROVIDER-FACTS.md, "docker"). Other resource types are refused. Every object it creates
 * carries the label `mtls-pki.test-run=<runId>`, so a test ends with `cleanupRun(runId)` whatever
 * happened.
 *
 *   const docker = createDockerProvider();            // a fresh run id
 *   ... run the program through the engine ...
 *   await cleanupRun(docker.runId);
 */
import type { EmulatedProvider } from "../engine/provider.ts";
import {
  CONTAINER_TYPE,
  createContainer,
  deleteContainer,
  diffContainer,
  updateContainer,
} from "./container.ts";
import { applyImage, diffImage, IMAGE_TYPE } from "./image.ts";
import { newRunId } from "./naming.ts";
import {
  createNetworkOrVolume,
  deleteNetworkOrVolume,
  diffNetworkOrVolume,
  NETWORK_TYPE,
  VOLUME_TYPE,
} from "./network-volume.ts";

export { cleanupRun } from "./cleanup.ts";
export { RUN_LABEL } from "./naming.ts";
export { CONTAINER_TYPE, IMAGE_TYPE, NETWORK_TYPE, VOLUME_TYPE };

export interface DockerProvider extends EmulatedProvider {
  /** The label value on every object this provider created: pass it to `cleanupRun`. */
  readonly runId: string;
}

function known(type: string): void {
  if (![IMAGE_TYPE, NETWORK_TYPE, VOLUME_TYPE, CONTAINER_TYPE].includes(type)) {
    throw new Error(`docker emulation: resource type ${type} is not emulated`);
  }
}

export function createDockerProvider(options: { runId?: string } = {}): DockerProvider {
  const runId = options.runId ?? newRunId();
  return {
    pkg: "docker",
    runId,
    // None of these types marks outputs secret; secret inputs (e.g. upload content) stay secret
    // through the engine, as Pulumi keeps the secretness of inputs echoed in outputs.
    secretOutputs(type) {
      known(type);
      return [];
    },
    // pulumi-docker's resources.go sets DeleteBeforeReplace for containers (docs/PROVIDER-FACTS.md).
    deletesBeforeReplace: (type) => type === CONTAINER_TYPE,
    diff(req) {
      known(req.type);
      if (req.type === IMAGE_TYPE) return diffImage(req);
      return req.type === CONTAINER_TYPE ? diffContainer(req) : diffNetworkOrVolume(req);
    },
    async create(req) {
      known(req.type);
      if (req.type === IMAGE_TYPE) return applyImage(req.inputs, req.preview, runId);
      return req.type === CONTAINER_TYPE ? createContainer(req, runId) : createNetworkOrVolume(req, runId);
    },
    async update(req) {
      if (req.type === IMAGE_TYPE) return applyImage(req.inputs, req.preview, runId);
      if (req.type === CONTAINER_TYPE) return updateContainer(req);
      // Networks and volumes have no in-place update: every input forces a replacement.
      throw new Error(`docker emulation: ${req.type} has no in-place update`);
    },
    async delete(req) {
      // The provider leaves built images in place.
      if (req.type === IMAGE_TYPE) return;
      return req.type === CONTAINER_TYPE ? deleteContainer(req) : deleteNetworkOrVolume(req);
    },
  };
}
