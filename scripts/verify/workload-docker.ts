/**
 * A workload's wiring as Docker has it, from the docker CLI: its networks (internal flag, driver
 * options, subnets, which containers are on them) and each member container's state and networks
 * with its aliases there (without the short id Docker adds as an alias of its own).
 */
import { docker } from "./docker.ts";

export interface NetworkFacts {
  exists: boolean;
  internal?: boolean;
  options?: Record<string, string>;
  subnets?: string[];
  /** Names of the containers on it. */
  containers?: string[];
}

export interface MemberFacts {
  exists: boolean;
  status?: string;
  exitCode?: number;
  /** Network name -> its aliases there, sorted. */
  networks?: Record<string, string[]>;
}

interface NetworkInspect {
  Internal: boolean;
  Options: Record<string, string> | null;
  IPAM: { Config: { Subnet?: string }[] | null };
  Containers: Record<string, { Name: string }> | null;
}

export async function inspectNetwork(name: string): Promise<NetworkFacts> {
  const { stdout, code } = await docker(["network", "inspect", name]);
  if (code !== 0) return { exists: false };
  const [network] = JSON.parse(stdout) as NetworkInspect[];
  return {
    exists: true,
    internal: network!.Internal,
    options: network!.Options ?? {},
    subnets: (network!.IPAM.Config ?? []).flatMap((c) => (c.Subnet ? [c.Subnet] : [])),
    containers: Object.values(network!.Containers ?? {})
      .map((c) => c.Name)
      .sort(),
  };
}

interface ContainerInspect {
  Id: string;
  State: { Status: string; ExitCode: number };
  NetworkSettings: { Networks: Record<string, { Aliases: string[] | null }> | null };
}

export async function inspectMember(name: string): Promise<MemberFacts> {
  const { stdout, code } = await docker(["container", "inspect", name]);
  if (code !== 0) return { exists: false };
  const [container] = JSON.parse(stdout) as ContainerInspect[];
  const shortId = container!.Id.slice(0, 12);
  return {
    exists: true,
    status: container!.State.Status,
    exitCode: container!.State.ExitCode,
    networks: Object.fromEntries(
      Object.entries(container!.NetworkSettings.Networks ?? {}).map(([network, settings]) => [
        network,
        (settings.Aliases ?? []).filter((alias) => alias !== shortId).sort(),
      ]),
    ),
  };
}
