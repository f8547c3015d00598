/**
 * The flood scenario: the floods of the services' flood tests, against our server as shipped (the
 * services image, in a container with a service container's default memory limit, pinned to the
 * server core) and against nginx configured to the same limits (one worker, worker_connections
 * 1024 = our MTLS_MAX_CONNECTIONS, ssl_verify_client on, the same keep-alive and header timeouts;
 * pinned to the server core as a process). Per flood, a verified caller makes GET /v1/whoami on a
 * new connection each, one after the other, and its success rate and latency are recorded with the
 * server's peak resident memory. Floods and caller run on the load core (the generator is
 * test/services/support/flood-generator.ts, shared with the tests):
 *
 * - anonymous: more idle TCP connections than the cap (1.1x), each one closed re-opened at once;
 * - hoard: another verified client trying to hold keep-alive connections up to the cap, one request
 *   a second on each, re-opening whatever is closed or refused.
 *
 * nginx has no per-identity connection quota (limit_conn counts requests in progress, not kept-alive
 * connections), so only the cap is configured alike. Runnable alone: `BENCH_ONLY=floods npm run bench`
 * (a trial). Its figures go to the run file's `floods` key; table.ts renders them.
 */
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFAULTS } from "../../services/src/contract.ts";
import type { CallsFigures, FloodSpec, FloodStats } from "../../test/services/support/flood-generator.ts";
import { generatorCommand, startFlood, stopAllFloods } from "../../test/services/support/floods.ts";
import {
  buildShippedImage,
  removeShippedServers,
  startShippedServer,
} from "../../test/services/support/shipped-server.ts";
import { ensureBaseImage } from "../../test/support/docker-available.ts";
import type { PkiFiles } from "../pki/pki.ts";
import type { BenchResults } from "../results.ts";
import type { Scenario, ScenarioContext } from "../scenarios.ts";
import { startNginxWithConfig } from "../servers/nginx.ts";
import { nginxConf, nginxMtlsListen } from "../servers/nginx-config.ts";
import { serverRssBytes } from "../servers/server-under-test.ts";
import { freePort } from "../system/ports.ts";
import { floodsTable } from "./table.ts";

/** A service container's default memory limit (MtlsService's memoryMb). */
const MEMORY_LIMIT_MIB = 256;
const FLOODS = ["anonymous", "hoard"] as const;
const SERVERS = ["ours", "nginx"] as const;
const CALL_TIMEOUT_MS = 2000;

export interface FloodCase {
  server: (typeof SERVERS)[number];
  flood: (typeof FLOODS)[number];
  calls: CallsFigures;
  peakRssMiB: number;
  /** Still serving afterwards: ours answered /readyz 200 and was not killed; nginx's worker ran. */
  healthy: boolean;
  flooder: FloodStats;
}

export interface FloodResults {
  maxConnections: number;
  memoryLimitMiB: number;
  callSeconds: number;
  callTimeoutMs: number;
  cases: FloodCase[];
}

interface Running {
  port: number;
  peakRssMiB(): number;
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

/** nginx at the limits of our server's defaults. */
function nginxFloodConfig(dir: string, port: number, pki: PkiFiles): string {
  const http = `  # nginx 1.22 bounds the TLS handshake with this one too (ssl_handshake_timeout came in 1.25).
  client_header_timeout ${DEFAULTS.handshakeTimeoutMs / 1000}s;
  server {
${nginxMtlsListen(port, pki, "modern")}
    location = /v1/whoami {
      default_type application/json;
      return 200 "{\\"commonName\\":\\"bench-client\\"}";
    }
  }`;
  const limits = {
    workerConnections: DEFAULTS.maxConnections,
    keepAliveSeconds: DEFAULTS.keepAliveTimeoutMs / 1000,
  };
  return nginxConf(dir, http, limits);
}

async function startServer(
  kind: FloodCase["server"],
  context: ScenarioContext,
  pki: PkiFiles,
  image: string,
): Promise<Running> {
  const { settings } = context;
  if (kind === "ours") {
    const dir = join(settings.workDir, "floods", "identity");
    mkdirSync(dir, { recursive: true });
    const files = { dir, cert: join(dir, "tls.crt"), key: join(dir, "tls.key"), ca: join(dir, "ca.crt") };
    for (const [from, to] of [
      [pki.serverCert, files.cert],
      [pki.serverKey, files.key],
      [pki.ca, files.ca],
    ] as const)
      copyFileSync(from, to);
    const server = await startShippedServer({
      image,
      identity: files,
      memoryMb: MEMORY_LIMIT_MIB,
      cpus: String(settings.serverCore),
      env: { MTLS_ACCESS_LOG: "off" },
    });
    return {
      port: server.port,
      peakRssMiB: () => server.peakRssMiB(),
      healthy: async () => {
        const state = await server.state();
        const ready = await fetch(`${server.statusUrl}/readyz`).then(
          (res) => res.status,
          () => 0,
        );
        return !state.oomKilled && state.running && ready === 200;
      },
      stop: () => server.stop(),
    };
  }
  const dir = join(settings.workDir, "floods", "nginx");
  const port = await freePort();
  const config = nginxFloodConfig(dir, port, pki);
  const nginx = {
    dir,
    port,
    config,
    core: settings.serverCore,
    keyAlgorithm: pki.keyAlgorithm,
    policy: "modern" as const,
  };
  const server = context.track(await startNginxWithConfig(nginx));
  return {
    port,
    peakRssMiB: () => Math.round((serverRssBytes(server) / 2 ** 20) * 10) / 10,
    healthy: async () => server.pids().length >= 2 && server.pids().every((pid) => isAlive(pid)),
    stop: () => server.stop(),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The verified caller: new-connection calls for `seconds`, pinned to the load core. */
function measureCalls(spec: Extract<FloodSpec, { kind: "calls" }>, core: number): Promise<CallsFigures> {
  const [command, args] = generatorCommand(spec, core);
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.once("exit", (code) => {
      const line = out.split("\n").find((text) => text.includes('"event":"calls"'));
      if (code !== 0 || !line) reject(new Error(`the caller exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as CallsFigures);
    }),
  );
}

async function run(context: ScenarioContext): Promise<Partial<BenchResults>> {
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
  const caller = identity("client");
  const hoarder = identity("client-b");
  const cases: FloodCase[] = [];
  try {
    for (const flood of FLOODS) {
      for (const kind of SERVERS) {
        log(`floods: ${flood} flood against ${kind}`);
        const server = await startServer(kind, context, pki, image);
        const base = { host: "127.0.0.1", port: server.port, servername: "mtls-server" };
        const { maxConnections } = DEFAULTS;
        const flooder = await startFlood(
          flood === "anonymous"
            ? { kind: "anonymous", ...base, connections: Math.round(maxConnections * 1.1) }
            : { kind: "hoard", ...base, connections: maxConnections, intervalMs: 1000, ...hoarder },
          { core: settings.loadCore, timeoutMs: 120_000 },
        );
        const durationMs = callSeconds * 1000;
        const spec = { kind: "calls", ...base, durationMs, timeoutMs: CALL_TIMEOUT_MS, ...caller } as const;
        const calls = await measureCalls(spec, settings.loadCore);
        const healthy = await server.healthy();
        const flooderStats = await flooder.stop();
        const peakRssMiB = server.peakRssMiB();
        cases.push({ server: kind, flood, calls, peakRssMiB, healthy, flooder: flooderStats });
        log(
          `floods: ${flood}/${kind}: ${calls.ok}/${calls.calls} calls ok, p50 ${calls.p50Ms} ms, peak RSS ${peakRssMiB} MiB`,
        );
        await server.stop();
      }
    }
  } finally {
    stopAllFloods();
    await removeShippedServers();
  }
  return {
    floods: {
      maxConnections: DEFAULTS.maxConnections,
      memoryLimitMiB: MEMORY_LIMIT_MIB,
      callSeconds,
      callTimeoutMs: CALL_TIMEOUT_MS,
      cases,
    },
  };
}

export const floodsScenario: Scenario = {
  key: "floods",
  run,
  slots: (results) => ({ floodsTable: results.floods ? floodsTable(results.floods) : "" }),
};
