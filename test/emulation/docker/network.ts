/**
 * docker.Network (kreuzwerker `docker_network`): every input forces a replacement; `name` is
 * auto-named `<logical>-<7hex>` when omitted; id = the Docker network id.
 * The daemon is asked to refuse duplicate names (what API >= 1.44 always does): two networks with
 * one name would make `networksAdvanced[].name` ambiguous.
 */
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  Inputs,
} from "../engine/provider.ts";
import { diffProperties, type PropertyRules, rejectUnemulated } from "./diff.ts";
import { dockerApi } from "./engine-api.ts";
import { labelMap } from "./labels.ts";
import { autoname } from "./naming.ts";

export const NETWORK_TYPE = "docker:index/network:Network";

const RULES: PropertyRules = {
  name: { forceNew: true, computed: true },
  driver: { forceNew: true, computed: true },
  internal: { forceNew: true, computed: true },
  attachable: { forceNew: true },
  ingress: { forceNew: true },
  ipv6: { forceNew: true },
  ipamDriver: { forceNew: true },
  ipamOptions: { forceNew: true },
  ipamConfigs: { forceNew: true, computed: true, set: true },
  options: { forceNew: true, computed: true },
  labels: { forceNew: true, set: true },
};

function check(inputs: Inputs): Inputs {
  rejectUnemulated(NETWORK_TYPE, RULES, inputs);
  return { ...inputs, ipamDriver: inputs.ipamDriver ?? "default" };
}

export function diffNetwork(req: DiffRequest): DiffResult {
  const news = check(req.newInputs);
  // An omitted name keeps the name Pulumi generated before; an explicit one is compared.
  if (news.name === undefined && req.oldInputs.name === undefined) news.name = req.oldState.name;
  const { changed } = diffProperties(RULES, req.oldState, news);
  if (changed.length === 0) return { kind: "none" };
  return { kind: "replace", changed, deleteBeforeReplace: false };
}

interface IpamConfig {
  subnet?: string;
  ipRange?: string;
  gateway?: string;
  auxAddress?: Record<string, string>;
}

export async function createNetwork(req: CreateRequest, runId: string): Promise<CreateResult> {
  const inputs = check(req.inputs);
  const name = (inputs.name as string | undefined) ?? autoname(req.name);
  if (req.preview) return { id: "", state: { ...inputs, name } };
  const { body } = await dockerApi("POST", "/networks/create", {
    json: {
      Name: name,
      CheckDuplicate: true,
      Driver: inputs.driver ?? "bridge",
      Internal: inputs.internal ?? false,
      Attachable: inputs.attachable ?? false,
      Ingress: inputs.ingress ?? false,
      EnableIPv6: inputs.ipv6 ?? false,
      IPAM: {
        Driver: inputs.ipamDriver,
        Options: inputs.ipamOptions,
        Config: ((inputs.ipamConfigs ?? []) as IpamConfig[]).map((c) => ({
          Subnet: c.subnet,
          IPRange: c.ipRange,
          Gateway: c.gateway,
          AuxiliaryAddresses: c.auxAddress,
        })),
      },
      Options: inputs.options,
      Labels: labelMap(inputs.labels, runId),
    },
  });
  const id = (body as { Id: string }).Id;
  const { body: info } = await dockerApi("GET", `/networks/${id}`);
  const network = info as {
    Driver: string;
    Internal: boolean;
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
      scope: network.Scope,
      options: network.Options ?? {},
      ipamConfigs: (network.IPAM.Config ?? []).map((c) => ({
        subnet: c.Subnet,
        gateway: c.Gateway,
        ...(c.IPRange ? { ipRange: c.IPRange } : {}),
      })),
    },
  };
}

export async function deleteNetwork(req: DeleteRequest): Promise<void> {
  await dockerApi("DELETE", `/networks/${req.id}`, { accept: [404] });
}
