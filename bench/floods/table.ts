/**
 * The flood scenario's table, from a run file's `floods` (scenario.ts): one row per flood and
 * server, with the verified caller's success rate and latency and the server's peak memory.
 * Markdown, for docs/BENCHMARKS.md.
 */
import type { FloodResults } from "./scenario.ts";

const FLOOD_WORDS = {
  anonymous: "anonymous idle TCP connections, 1.1x the cap, re-opened when closed",
  hoard: "one verified client holding keep-alive connections up to the cap (a request a second each)",
} as const;

export function floodsTable(floods: FloodResults): string {
  const rows = floods.cases.map((row) => {
    const rate = row.calls.calls === 0 ? 0 : row.calls.ok / row.calls.calls;
    const latency = row.calls.p50Ms === null ? "—" : `${row.calls.p50Ms} / ${row.calls.p99Ms} ms`;
    return (
      `| ${FLOOD_WORDS[row.flood]} | ${row.server} | ${(rate * 100).toFixed(1)}% (${row.calls.ok} of ${row.calls.calls}) ` +
      `| ${latency} | ${row.peakRssMiB.toFixed(0)} MiB of ${floods.memoryLimitMiB} | ${row.healthy ? "yes" : "**no**"} |`
    );
  });
  return [
    `Cap ${floods.maxConnections} connections on both; a verified caller makes new-connection calls one after the other for ` +
      `${floods.callSeconds} s during each flood (a call counts as failed after ${floods.callTimeoutMs} ms).`,
    "",
    "| flood | server | verified calls served | latency p50 / p99 | peak memory | still serving |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
