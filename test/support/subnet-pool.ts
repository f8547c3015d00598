/**
 * A pool for the workloads' subnets that no network on the engine overlaps, for tests that deploy
 * workloads on a Docker engine other test files (and other runs) use at the same time: two runs of
 * the same stack with the same pool would give their workloads the same subnets, and Docker refuses
 * the second ("Pool overlaps with other one on this address space"). Private networks have no
 * address on the host (MtlsWorkload's inhibit_ipv4), so the range touches no route of the machine.
 *
 * The pools are /21s of 10.192.0.0/12 (512 of them, 128 workload subnets each); the search starts at
 * one picked from the vitest worker and a random number, so concurrent test files start far apart.
 */
import { networkText, overlaps, parseIpv4Network } from "../../components/workload-subnets.ts";
import { dockerApi } from "../../emulation/index.ts";

const RANGE = parseIpv4Network("10.192.0.0/12", 12) as { address: number; prefix: number };
const POOL_PREFIX = 21;

interface NetworkSummary {
  IPAM?: { Config?: { Subnet?: string }[] | null };
}

export async function freeSubnetPool(): Promise<string> {
  const { body } = await dockerApi("GET", "/networks");
  const used = (body as NetworkSummary[])
    .flatMap((n) => n.IPAM?.Config ?? [])
    .map((c) => (c.Subnet ? parseIpv4Network(c.Subnet, 32) : undefined))
    .filter((n): n is { address: number; prefix: number } => typeof n === "object");
  const count = 2 ** (POOL_PREFIX - RANGE.prefix);
  const worker = Number(process.env.VITEST_POOL_ID ?? 0);
  const start = (worker * 61 + Math.floor(Math.random() * count)) % count;
  for (let i = 0; i < count; i++) {
    const pool = {
      address: RANGE.address + ((start + i) % count) * 2 ** (32 - POOL_PREFIX),
      prefix: POOL_PREFIX,
    };
    if (!used.some((network) => overlaps(network, pool))) return networkText(pool);
  }
  throw new Error(`no /${POOL_PREFIX} of ${networkText(RANGE)} is free of Docker networks on this engine`);
}
