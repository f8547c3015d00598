/**
 * docker.Volume (kreuzwerker `docker_volume`): every input forces a replacement; `name` is
 * auto-named `<logical>-<7hex>` when omitted; id = the volume name. Delete removes it with force and,
 * like the provider, retries while a container still holds it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  Inputs,
} from "../engine/provider.ts";
import { diffProperties, type PropertyRules, rejectUnemulated } from "./diff.ts";
import { DockerApiError, dockerApi } from "./engine-api.ts";
import { labelMap } from "./labels.ts";
import { autoname } from "./naming.ts";

export const VOLUME_TYPE = "docker:index/volume:Volume";

const RULES: PropertyRules = {
  name: { forceNew: true, computed: true },
  driver: { forceNew: true, computed: true },
  driverOpts: { forceNew: true },
  labels: { forceNew: true, set: true },
};

const DELETE_RETRY_MS = 30_000;

export function diffVolume(req: DiffRequest): DiffResult {
  rejectUnemulated(VOLUME_TYPE, RULES, req.newInputs);
  const news = { ...req.newInputs };
  if (news.name === undefined && req.oldInputs.name === undefined) news.name = req.oldState.name;
  const { changed } = diffProperties(RULES, req.oldState, news);
  if (changed.length === 0) return { kind: "none" };
  return { kind: "replace", changed, deleteBeforeReplace: false };
}

export async function createVolume(req: CreateRequest, runId: string): Promise<CreateResult> {
  const inputs: Inputs = req.inputs;
  rejectUnemulated(VOLUME_TYPE, RULES, inputs);
  const name = (inputs.name as string | undefined) ?? autoname(req.name);
  if (req.preview) return { id: "", state: { ...inputs, name } };
  const { body } = await dockerApi("POST", "/volumes/create", {
    json: {
      Name: name,
      Driver: inputs.driver ?? "local",
      DriverOpts: inputs.driverOpts ?? {},
      Labels: labelMap(inputs.labels, runId),
    },
  });
  const volume = body as { Name: string; Driver: string; Mountpoint: string };
  return {
    id: volume.Name,
    state: { ...inputs, name: volume.Name, driver: volume.Driver, mountpoint: volume.Mountpoint },
  };
}

export async function deleteVolume(req: DeleteRequest): Promise<void> {
  const deadline = Date.now() + DELETE_RETRY_MS;
  for (;;) {
    try {
      await dockerApi("DELETE", `/volumes/${encodeURIComponent(req.id)}`, {
        query: { force: true },
        accept: [404],
      });
      return;
    } catch (error) {
      const inUse = error instanceof DockerApiError && error.status === 409;
      if (!inUse || Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}
