/**
 * docker.Network and docker.Volume (kreuzwerker `docker_network`, `docker_volume`), reduced to the
 * inputs the program uses (for networks also `attachable`, for an overlay network on a swarm; and
 * for MtlsWorkload's private networks `internal`, driver `options` and `ipamConfigs` with `subnet`
 * and `gateway`): every input forces a replacement (create first), `name` is auto-named
 * `<logical>-<7hex>` when omitted. Network id = the Docker network id; volume id = its name.
 * The daemon is asked to refuse a duplicate network name (what API >= 1.44 always does).
 *
 * Read back as the provider reads a network (`flattenIpamConfigSpec`): `ipamConfigs` from the
 * network's IPAM config, each with the `subnet`, `gateway` (and any other field) Docker reports, so
 * a network whose subnet Docker picked gets it in its state; `options` as Docker stores them.
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
import { isUnknownValue } from "../engine/values.ts";
import { diffProperties, type PropertyRules, rejectUnemulated } from "./diff.ts";
import { DockerApiError, dockerApi } from "./engine-api.ts";
import { autoname, labelMap } from "./naming.ts";

export const NETWORK_TYPE = "docker:index/network:Network";
export const VOLUME_TYPE = "docker:index/volume:Volume";

const RULES: Record<string, PropertyRules> = {
  [NETWORK_TYPE]: {
    name: { forceNew: true, computed: true },
    driver: { forceNew: true, computed: true },
    internal: { forceNew: true, computed: true },
    attachable: { forceNew: true, computed: true },
    options: { forceNew: true, computed: true },
    ipamConfigs: { forceNew: true, computed: true, set: true },
    labels: { forceNew: true, set: true },
  },
  [VOLUME_TYPE]: { name: { forceNew: true, computed: true }, labels: { forceNew: true, set: true } },
};

/** The IPAM fields modelled: the provider also takes `ipRange` and `auxAddress`, which are refused. */
const IPAM_FIELDS = ["subnet", "gateway"];

interface IpamConfig {
  subnet?: string;
  gateway?: string;
}

function checkNetworkInputs(type: string, name: string, inputs: Inputs): void {
  rejectUnemulated(type, RULES[type]!, inputs);
  if (type !== NETWORK_TYPE) return;
  const configs = (inputs.ipamConfigs ?? []) as Record<string, unknown>[];
  configs.forEach((config, index) => {
    if (isUnknownValue(config)) return;
    const extra = Object.keys(config).filter((k) => !IPAM_FIELDS.includes(k) && config[k] != null);
    if (extra.length > 0)
      throw new Error(`${type} "${name}": ipamConfigs[${index}]: field(s) not emulated: ${extra.join(", ")}`);
  });
}

export function diffNetworkOrVolume(req: DiffRequest): DiffResult {
  const rules = RULES[req.type]!;
  checkNetworkInputs(req.type, req.name, req.newInputs);
  const news = { ...req.newInputs };
  // An omitted name keeps the name Pulumi generated before; an explicit one is compared.
  if (news.name === undefined && req.oldInputs.name === undefined) news.name = req.oldState.name;
  const { changed } = diffProperties(rules, req.oldState, news);
  return changed.length === 0 ? { kind: "none" } : { kind: "replace", changed, deleteBeforeReplace: false };
}

export async function createNetworkOrVolume(req: CreateRequest, runId: string): Promise<CreateResult> {
  const inputs: Inputs = req.inputs;
  checkNetworkInputs(req.type, req.name, inputs);
  const name = (inputs.name as string | undefined) ?? autoname(req.name);
  if (req.preview) return { id: "", state: { ...inputs, name } };
  const Labels = labelMap(inputs.labels, runId);
  if (req.type === VOLUME_TYPE) {
    const { body } = await dockerApi("POST", "/volumes/create", { json: { Name: name, Labels } });
    return { id: (body as { Name: string }).Name, state: { ...inputs, name } };
  }
  const { body } = await dockerApi("POST", "/networks/create", {
    json: {
      Name: name,
      CheckDuplicate: true,
      Driver: inputs.driver ?? "bridge",
      Internal: inputs.internal ?? false,
      // An overlay network on a swarm manager; attachable lets plain containers join it too.
      Attachable: inputs.attachable ?? false,
      Options: inputs.options ?? {},
      ...(inputs.ipamConfigs
        ? {
            IPAM: {
              Driver: "default",
              Config: (inputs.ipamConfigs as IpamConfig[]).map((c) => ({
                ...(c.subnet ? { Subnet: c.subnet } : {}),
                ...(c.gateway ? { Gateway: c.gateway } : {}),
              })),
            },
          }
        : {}),
      Labels,
    },
  });
  const id = (body as { Id: string }).Id;
  const network = (await dockerApi("GET", `/networks/${id}`)).body as {
    Driver: string;
    Internal: boolean;
    Attachable: boolean;
    Scope: string;
    Options: Record<string, string> | null;
    IPAM: { Config: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null };
  };
  return {
    id,
    state: {
      ...inputs,
      name,
      driver: network.Driver,
      internal: network.Internal,
      attachable: network.Attachable,
      options: network.Options ?? {},
      ipamConfigs: (network.IPAM.Config ?? []).map((c) => ({
        ...(c.Subnet ? { subnet: c.Subnet } : {}),
        ...(c.IPRange ? { ipRange: c.IPRange } : {}),
        ...(c.Gateway ? { gateway: c.Gateway } : {}),
      })),
      scope: network.Scope,
    },
  };
}

export async function deleteNetworkOrVolume(req: DeleteRequest): Promise<void> {
  const deadline = Date.now() + 60_000;
  if (req.type === NETWORK_TYPE) {
    // Like the provider, retry while endpoints remain: Swarm removes a deleted service's tasks,
    // and their endpoints on an overlay network, only after the delete call returns [measured].
    for (;;) {
      try {
        await dockerApi("DELETE", `/networks/${req.id}`, { accept: [404] });
        return;
      } catch (error) {
        // A swarm network the manager already removed answers 500 "not found" while the node
        // still lists it for a few seconds [measured]: it is gone.
        if (error instanceof DockerApiError && /network .* not found/.test(error.message)) return;
        const pending = error instanceof DockerApiError && /has active endpoints/.test(error.message);
        if (!pending || Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  }
  // Like the provider, retry while a container that is being removed still holds the volume.
  for (;;) {
    try {
      await dockerApi("DELETE", `/volumes/${encodeURIComponent(req.id)}`, {
        query: { force: true },
        accept: [404],
      });
      return;
    } catch (error) {
      if (!(error instanceof DockerApiError && error.status === 409) || Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}
