/**
 * The IPv4 subnets of MtlsWorkload's private networks.
 *
 * Docker gives a network without a subnet a whole block of its default address pools (a /16 or a
 * /20 out of about 30 per host), so a stack with many workloads would run a host out of networks.
 * A workload's private network holds a handful of containers, so it takes a small subnet (a /28 by
 * default) out of a pool the user chooses instead.
 *
 * The allocation is deterministic and stable: a workload's subnet is the slot of the pool that a
 * hash of its name (and of a scope, e.g. the stack, so that two stacks on one host get different
 * subnets) picks. It depends on no other workload, so adding, removing or reordering workloads
 * never renumbers another one (which would replace its network and every container on it). Two
 * names falling on the same slot, a pool too small, or an explicit subnet overlapping another
 * workload's, are refused with one line each, naming what to change.
 */
import { createHash } from "node:crypto";

/** The size of a subnet taken from a pool: 16 addresses, 13 of them for containers. */
export const WORKLOAD_SUBNET_PREFIX = 28;
/**
 * Outside Docker's own default pools (172.17.0.0/16 to 172.31.0.0/16 and 192.168.0.0/16), so the
 * workloads never take blocks Docker would hand to other networks.
 */
export const DEFAULT_WORKLOAD_SUBNET_POOL = "172.16.0.0/16";
/** The widest pool and subnet accepted, and the narrowest subnet (a /29 holds 5 containers). */
const MIN_PREFIX = 8;
const MAX_SUBNET_PREFIX = 29;

export interface Ipv4Network {
  /** The network address as an unsigned 32-bit number. */
  address: number;
  prefix: number;
}

const quote = (value: unknown) => JSON.stringify(value);

function addressText(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 255).join(".");
}

export function networkText(network: Ipv4Network): string {
  return `${addressText(network.address)}/${network.prefix}`;
}

const size = (network: Ipv4Network) => 2 ** (32 - network.prefix);

/** The first host address: the gateway Docker records for the network (no container gets it). */
export function gatewayOf(network: Ipv4Network): string {
  return addressText(network.address + 1);
}

/** Addresses containers can get: all but the network address, the broadcast address and the gateway. */
export function containerAddresses(network: Ipv4Network): number {
  return size(network) - 3;
}

export function overlaps(a: Ipv4Network, b: Ipv4Network): boolean {
  return a.address < b.address + size(b) && b.address < a.address + size(a);
}

/**
 * `a.b.c.d/n` as a network, or the problem (without the key it came from). `maxPrefix` bounds how
 * narrow it may be.
 */
export function parseIpv4Network(text: unknown, maxPrefix = MAX_SUBNET_PREFIX): Ipv4Network | string {
  const match =
    typeof text === "string" ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text) : null;
  const octets = match ? match.slice(1, 5).map(Number) : [];
  if (!match || octets.some((octet) => octet > 255)) {
    return `${quote(text)} is not an IPv4 network (a.b.c.d/prefix, e.g. ${DEFAULT_WORKLOAD_SUBNET_POOL})`;
  }
  const prefix = Number(match[5]);
  if (prefix < MIN_PREFIX || prefix > maxPrefix) {
    return `${quote(text)} has prefix /${prefix}: expected /${MIN_PREFIX} to /${maxPrefix}`;
  }
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const network = { address: address - (address % 2 ** (32 - prefix)), prefix };
  if (network.address !== address) {
    return `${quote(text)} is not a network address: its host bits are set (the network is ${networkText(network)})`;
  }
  return network;
}

/**
 * What the members of a workload need: each container may briefly run twice while it is replaced
 * create-first (the new copy healthy before the old one goes), so twice their number.
 */
export function capacityProblem(subnet: Ipv4Network, members: number): string | undefined {
  const needed = 2 * members;
  const available = containerAddresses(subnet);
  if (needed <= available) return undefined;
  let wider = subnet.prefix;
  while (wider > MIN_PREFIX && containerAddresses({ address: 0, prefix: wider }) < needed) wider--;
  return (
    `${members} containers (the app and ${members - 1} sidecar${members === 2 ? "" : "s"}) need up to ${needed} addresses ` +
    `(each may run twice while it is replaced), more than subnet ${networkText(subnet)} has (${available}); give the workload a /${wider} or wider`
  );
}

/** The pool's slot for `name` within `scope`: depends on nothing else, so it never moves. */
export function poolSlot(pool: Ipv4Network, scope: string, name: string): Ipv4Network {
  const slots = 2 ** (WORKLOAD_SUBNET_PREFIX - pool.prefix);
  const digest = createHash("sha256").update(`${scope}\u0000${name}`).digest();
  const index = digest.readUIntBE(0, 6) % slots;
  return {
    address: pool.address + index * 2 ** (32 - WORKLOAD_SUBNET_PREFIX),
    prefix: WORKLOAD_SUBNET_PREFIX,
  };
}

export interface SubnetRequest {
  /** The workload's name: what the pool hashes. */
  name: string;
  /** A subnet of its own (CIDR) instead of a slot of the pool. */
  subnet?: string;
  /** Containers on its private network: the app and its sidecars. */
  members: number;
  /** How problems name this workload (e.g. `workloads[2]`); default its quoted name. */
  where?: string;
}

export interface SubnetAllocation {
  /** Per workload name, its subnet as CIDR (only when there was no problem). */
  subnets: Record<string, string>;
  /** One line per problem; the key names come from `where` (and `poolKey` for the pool). */
  problems: string[];
}

/**
 * The subnet of every workload: its own `subnet`, else its slot of `pool`. `scope` keeps two stacks
 * with the same workload names apart (the program passes its project and stack). `poolKey` names
 * the pool in problems.
 */
export function allocateWorkloadSubnets(
  pool: string,
  scope: string,
  requests: readonly SubnetRequest[],
  poolKey = "subnet pool",
): SubnetAllocation {
  const problems: string[] = [];
  const fromPool = requests.filter((r) => r.subnet === undefined);
  const parsedPool = parseIpv4Network(pool, WORKLOAD_SUBNET_PREFIX);
  if (typeof parsedPool === "string" && fromPool.length > 0) problems.push(`${poolKey}: ${parsedPool}`);
  const given: { request: SubnetRequest; network: Ipv4Network; fromPool: boolean }[] = [];
  for (const request of requests) {
    const where = request.where ?? quote(request.name);
    if (request.subnet !== undefined) {
      const network = parseIpv4Network(request.subnet);
      if (typeof network === "string") problems.push(`${where}.subnet: ${network}`);
      else given.push({ request, network, fromPool: false });
    } else if (typeof parsedPool !== "string") {
      given.push({ request, network: poolSlot(parsedPool, scope, request.name), fromPool: true });
    }
  }
  let exhausted = false;
  if (typeof parsedPool !== "string") {
    const slots = 2 ** (WORKLOAD_SUBNET_PREFIX - parsedPool.prefix);
    exhausted = fromPool.length > slots;
    if (exhausted) {
      problems.push(
        `${poolKey}: ${pool} holds ${slots} subnet${slots === 1 ? "" : "s"} of /${WORKLOAD_SUBNET_PREFIX}, fewer than the ${fromPool.length} workloads that take theirs from it; give a wider pool (a /16 holds 4096)`,
      );
    }
  }
  const taken = given.map((g) => g.network);
  given.forEach((entry, index) => {
    const where = entry.request.where ?? quote(entry.request.name);
    const clash = given.slice(0, index).find((other) => overlaps(other.network, entry.network));
    // An exhausted pool is one line above; its inevitable collisions need none each.
    if (clash && exhausted && entry.fromPool && clash.fromPool) return;
    if (clash) {
      const other = `${quote(clash.request.name)}${clash.request.where ? ` (${clash.request.where})` : ""}`;
      if (entry.fromPool && clash.fromPool) {
        const free = freeSlot(parsedPool as Ipv4Network, taken);
        problems.push(
          `${where}.name: ${quote(entry.request.name)} falls on the same subnet of ${poolKey} ${pool} as ${other} (${networkText(entry.network)}); give the one added last a subnet of its own (${where}.subnet${free ? `, e.g. ${free}` : ""})`,
        );
      } else {
        problems.push(
          `${where}.subnet: ${networkText(entry.network)} overlaps the subnet of ${other} (${networkText(clash.network)}); give one of them another`,
        );
      }
      return;
    }
    const capacity = capacityProblem(entry.network, entry.request.members);
    if (capacity) problems.push(`${where}: ${capacity}`);
  });
  if (problems.length > 0) return { subnets: {}, problems };
  return {
    subnets: Object.fromEntries(given.map((g) => [g.request.name, networkText(g.network)])),
    problems,
  };
}

/** The first slot of the pool no workload has (a suggestion for a colliding one). */
function freeSlot(pool: Ipv4Network, taken: readonly Ipv4Network[]): string | undefined {
  const step = 2 ** (32 - WORKLOAD_SUBNET_PREFIX);
  for (let address = pool.address; address < pool.address + size(pool); address += step) {
    const slot = { address, prefix: WORKLOAD_SUBNET_PREFIX };
    if (!taken.some((t) => overlaps(t, slot))) return networkText(slot);
  }
  return undefined;
}

/**
 * allocateWorkloadSubnets for a program: throws one Error listing every problem (one per line)
 * rather than returning them.
 *
 *   const subnets = workloadSubnets("172.16.0.0/16", pulumi.getStack(), [
 *     { name: "orders", members: 2 }, { name: "billing", members: 3 }]);
 *   new MtlsWorkload("orders", { ..., subnet: subnets.orders });
 */
export function workloadSubnets(
  pool: string,
  scope: string,
  requests: readonly SubnetRequest[],
): Record<string, string> {
  const { subnets, problems } = allocateWorkloadSubnets(pool, scope, requests);
  if (problems.length > 0)
    throw new Error(`workload subnets:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  return subnets;
}
