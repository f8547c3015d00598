/**
 * The flood scenario (docs/BENCHMARKS.md, "Floods", says what and why): the floods of the services'
 * flood tests (their generator, test/services/support/flood-generator.ts, on the load core) against
 * our server as users run it (the services image, in a container with a service container's default
 * memory limit) and against nginx at the same cap and timeouts, both on the server core; during each
 * flood a verified caller makes GET /v1/whoami calls on a new connection each. `BENCH_ONLY=floods`
 * runs it alone (a trial); its figures go to the run file's `floods` key, floodsTable renders them.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFAULTS } from "../../services/src/contract.ts";
import type { CallsFigures, FloodSpec } from "../../test/services/support/flood-generator.ts";
import { generatorCommand, startFlood, stopAllFloods } from "../../test/services/support/floods.ts";
import {
  buildShippedImage,
  removeShippedServers,
  startShippedServer,
} from "../../test/services/support/shipped-server.ts";
import { ensureBaseImage } from "../../test/support/docker-available.ts";
import { writeIdentity } from "../../test/support/pki-fixtures/files.ts";
import type { PkiFiles } from "../pki/issue-pki.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { nginxConf, nginxMtlsListen, startNginx } from "../servers/nginx-config.ts";
import { serverRssBytes } from "../servers/server-under-test.ts";
import { runPinned } from "../system/processes.ts";

/** A service container's default memory limit (MtlsService's memoryMb). */
const MEMORY_LIMIT_MIB = 256;
const FLOODS = {
  anonymous: "anonymous idle TCP connections, 1.1x the cap, re-opened when closed",
  hoard: "one verified client holding keep-alive connections up to the cap (a request a second each)",
} as const;
const CALL_TIMEOUT_MS = 2000;

/** The run file's `floods` key. */
export type FloodResults = NonNullable<Awaited<ReturnType<typeof run>>["floods"]>;

/** nginx at the limits of our server's defaults. */
const nginxFloodConfig = (pki: PkiFiles) => (dir: string, port: number) =>
  nginxConf(
    dir,
    `  # nginx 1.22 bounds the TLS handshake with this one too (ssl_handshake_timeout came in 1.25).
  client_header_timeout ${DEFAULTS.handshakeTimeoutMs / 1000}s;
  server {
${nginxMtlsListen(port, pki, "modern")}
    location = /v1/whoami {
      default_type application/json;
      return 200 "{\\"commonName\\":\\"bench-client\\"}";
    }
  }`,
    { workerConnections: DEFAULTS.maxConnections, keepAliveSeconds: DEFAULTS.keepAliveTimeoutMs / 1000 },
  );

const isAlive = (pid: number) => existsSync(`/proc/${pid}`);

/** The server of a case: its port, peak memory, whether it still serves, and how to stop it. */
async function startServer(kind: "ours" | "nginx", context: ScenarioContext, pki: PkiFiles, image: string) {
  const { settings } = context;
  if (kind === "nginx") {
    const dir = join(settings.workDir, "floods", "nginx");
    const config = nginxFloodConfig(pki);
    const server = context.track(await startNginx({ dir, core: settings.serverCore, pki, config }));
    return {
      port: server.port,
      peakRssMiB: () => Math.round((serverRssBytes(server) / 2 ** 20) * 10) / 10,
      healthy: async () => server.pids().length >= 2 && server.pids().every(isAlive),
      stop: () => server.stop(),
    };
  }
  // The identity as the image reads it (the contract's file names: tls.crt, tls.key, ca.crt).
  const dir = join(settings.workDir, "floods", "identity");
  mkdirSync(dir, { recursive: true });
  const [cert, key, ca] = [pki.serverCert, pki.serverKey, pki.ca].map((file) => readFileSync(file, "utf8"));
  const identity = await writeIdentity({ cert, key, ca }, dir);
  const [memoryMb, cpus, env] = [MEMORY_LIMIT_MIB, String(settings.serverCore), { MTLS_ACCESS_LOG: "off" }];
  const server = await startShippedServer({ image, identity, memoryMb, cpus, env });
  const healthy = async () => {
    const { oomKilled, running } = await server.state();
    const ready = (await fetch(`${server.statusUrl}/readyz`).catch(() => undefined))?.status === 200;
    return !oomKilled && running && ready;
  };
  return { port: server.port, peakRssMiB: () => server.peakRssMiB(), healthy, stop: () => server.stop() };
}

/** The verified caller: new-connection calls for `seconds`, pinned to the load core. */
async function measureCalls(spec: Extract<FloodSpec, { kind: "calls" }>, core: number) {
  const [command, args] = generatorCommand(spec);
  const { stdout } = await runPinned(core, command, args, "the verified caller");
  const line = stdout.split("\n").find((text) => text.includes('"event":"calls"'));
  if (!line) throw new Error(`the caller printed no calls line: ${stdout}`);
  return JSON.parse(line) as CallsFigures;
}

async function run(context: ScenarioContext) {
  const { settings, log } = context;
  const pki = context.pkis["ECDSA-P256"];
  const callSeconds = settings.quick ? 5 : 20;
  await ensureBaseImage();
  const image = await buildShippedImage();
  // The caller and the hoarder are two identities of the run's PKI (bench/pki/issue-pki.ts).
  const identity = (name: string) => ({
    ca: readFileSync(pki.ca, "utf8"),
    cert: readFileSync(join(dirname(pki.clientCert), `${name}.crt`), "utf8"),
    key: readFileSync(join(dirname(pki.clientCert), `${name}.key`), "utf8"),
  });
  const [caller, hoarder] = [identity("client"), identity("client-b")];
  const [maxConnections, core]: [number, number] = [DEFAULTS.maxConnections, settings.loadCore];
  const floodCase = async (flood: keyof typeof FLOODS, kind: "ours" | "nginx") => {
    log(`floods: ${flood} flood against ${kind}`);
    const server = await startServer(kind, context, pki, image);
    const base = { host: "127.0.0.1", port: server.port, servername: "mtls-server" };
    const flooder = await startFlood(
      flood === "anonymous"
        ? { kind: "anonymous", ...base, connections: Math.round(maxConnections * 1.1) }
        : { kind: "hoard", ...base, connections: maxConnections, intervalMs: 1000, ...hoarder },
      { core, timeoutMs: 120_000 },
    );
    const [durationMs, timeoutMs] = [callSeconds * 1000, CALL_TIMEOUT_MS];
    const calls = await measureCalls({ kind: "calls", ...base, durationMs, timeoutMs, ...caller }, core);
    // Still serving afterwards: ours answered /readyz 200 and was not killed; nginx's worker ran.
    const healthy = await server.healthy();
    const flooderStats = await flooder.stop();
    const peakRssMiB = server.peakRssMiB();
    const served = `${calls.ok}/${calls.calls} calls ok, p50 ${calls.p50Ms} ms`;
    log(`floods: ${flood}/${kind}: ${served}, peak RSS ${peakRssMiB} MiB`);
    await server.stop();
    return { server: kind, flood, calls, peakRssMiB, healthy, flooder: flooderStats };
  };
  const cases: Awaited<ReturnType<typeof floodCase>>[] = [];
  try {
    for (const flood of Object.keys(FLOODS) as (keyof typeof FLOODS)[])
      for (const kind of ["ours", "nginx"] as const) cases.push(await floodCase(flood, kind));
  } finally {
    stopAllFloods();
    await removeShippedServers();
  }
  const [memoryLimitMiB, callTimeoutMs] = [MEMORY_LIMIT_MIB, CALL_TIMEOUT_MS];
  return { floods: { maxConnections, memoryLimitMiB, callSeconds, callTimeoutMs, cases } };
}

/** The report's flood table: per flood and server, the verified caller's success and latency, the peak memory. */
export function floodsTable(floods: FloodResults): string {
  const rows = floods.cases.map(({ calls, ...row }) => {
    const rate = calls.calls === 0 ? 0 : calls.ok / calls.calls;
    const latency = calls.p50Ms === null ? "—" : `${calls.p50Ms} / ${calls.p99Ms} ms`;
    const served = `${(rate * 100).toFixed(1)}% (${calls.ok} of ${calls.calls})`;
    const peak = `${row.peakRssMiB.toFixed(0)} MiB of ${floods.memoryLimitMiB}`;
    return `| ${FLOODS[row.flood]} | ${row.server} | ${served} | ${latency} | ${peak} | ${row.healthy ? "yes" : "**no**"} |`;
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

export const floodsScenario: Scenario = {
  key: "floods",
  run,
  slots: (results) => ({ floodsTable: results.floods ? floodsTable(results.floods) : "" }),
};
