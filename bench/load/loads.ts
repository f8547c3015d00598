/**
 * The loads a measurement applies to a server, from the load core: openssl s_time, ApacheBench and
 * our own generators (generators.ts, processes of their own that print one JSON line).
 * `load(server)` measures for the settings' time, `load(server, 1)` is the short warm-up.
 */
import { ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import type { KeyAlgorithm, PkiFiles } from "../pki/issue-pki.ts";
import type { ServerUnderTest } from "../servers/server-under-test.ts";
import type { BenchSettings } from "../settings.ts";
import { runPinned } from "../system/processes.ts";
import type { GeneratorTarget } from "./generators.ts";

const GENERATORS = new URL("./generators.ts", import.meta.url).pathname;

export type Load<T> = (server: ServerUnderTest, warmupSeconds?: number) => Promise<T>;

/** What our generators (generators.ts) are given: `server`, and the bench client's identity. */
export function generatorTarget({ port, policy }: ServerUnderTest, pki: PkiFiles): GeneratorTarget {
  return { port, policy, ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
}

export type STimeResult = Awaited<ReturnType<typeof runSTime>>;
export type AbResult = Awaited<ReturnType<typeof runAb>>;

type Target = { core: number; port: number; pki: PkiFiles; policy: TlsPolicy; seconds: number };

/** TLS 1.3 for the modern policy; the intermediate policy is measured on what it adds, TLS 1.2. */
export const protocolOf = (policy: TlsPolicy) => (policy === "modern" ? "TLSv1.3" : "TLSv1.2");

/**
 * `openssl s_time -new` (full handshakes) or `-reuse` (resumed ones), each connection authenticating
 * with the client certificate and fetching a page (GET /v1/whoami by default), so a connection only
 * counts once the server has verified the client and answered. One s_time process is sequential,
 * so a few run in parallel on the load core to keep the server busy.
 */
export async function runSTime(o: Target & { mode: "new" | "reuse"; processes: number; path?: string }) {
  const { pki, port } = o;
  const args = `s_time -connect 127.0.0.1:${port} -${o.mode} -time ${o.seconds} -www`.split(" ");
  args.push(o.path ?? ROUTES.whoami, "-cert", pki.clientCert, "-key", pki.clientKey, "-CAfile", pki.ca);
  args.push("-verify", "2", protocolOf(o.policy) === "TLSv1.3" ? "-tls1_3" : "-tls1_2");
  const what = `openssl s_time -${o.mode} against port ${port}`;
  const run = () => runPinned(o.core, "openssl", args, what);
  const runs = await Promise.all(Array.from({ length: o.processes }, run));
  // `resumed`: the connections s_time marked as resumed ('r').
  const total = { connections: 0, resumed: 0, perSecond: 0 };
  for (const { stdout, stderr, wallSeconds } of runs) {
    const summary = /^(\d+) connections in [\d.]+s;/m.exec(stdout);
    if (!summary) throw new Error(`s_time printed no "N connections in" summary:\n${stdout.slice(-500)}`);
    const connections = Number(summary[1]);
    if (connections === 0) throw new Error(`s_time made no connection to port ${port}:\n${stderr}`);
    // One progress character per connection: 'r' resumed, '*' (or a version letter) full.
    const progress = stdout.split("\n").filter((line) => /^[*rt3]+$/.test(line));
    total.connections += connections;
    total.resumed += [...progress.join("")].filter((c) => c === "r").length;
    total.perSecond += connections / wallSeconds;
  }
  return total;
}

/** `ab -k` with the client certificate (`-E`, chain and key in one PEM file); `postFile`: POSTs its content. */
export async function runAb(o: Target & { path: string; concurrency: number; postFile?: string }) {
  const { port, path } = o;
  // -t alone caps the run at 50000 requests; a later -n lifts the cap, the time limit stays.
  const args = `-q -k -c ${o.concurrency} -t ${o.seconds} -n 100000000`.split(" ");
  args.push("-E", o.pki.clientPem, "-f", o.policy === "modern" ? "TLS1.3" : "TLS1.2");
  if (o.postFile) args.push("-p", o.postFile, "-T", "application/octet-stream");
  args.push(`https://127.0.0.1:${port}${path}`);
  const { stdout } = await runPinned(o.core, "ab", args, `ab against port ${port}`);
  const numberAfter = (label: string) => {
    const match = new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(stdout);
    return match ? Number(match[1]) : undefined;
  };
  const [complete, seconds] = [numberAfter("Complete requests"), numberAfter("Time taken for tests")];
  if (complete === undefined || seconds === undefined)
    throw new Error(`ab printed no summary:\n${stdout.slice(-800)}`);
  const [failed, non2xx] = [numberAfter("Failed requests") ?? 0, numberAfter("Non-2xx responses") ?? 0];
  if (complete === 0) throw new Error(`ab completed no request against port ${port}`);
  const bad = `${failed} failed and ${non2xx} non-2xx of ${complete} requests`;
  if (failed > 0 || non2xx > 0) throw new Error(`ab against port ${port}${path}: ${bad}`);
  return { complete, failed, non2xx, seconds, requestsPerSecond: complete / seconds };
}

/** The loads, each calling a server with the client identity of the server's own PKI. */
export function loadsFor(settings: BenchSettings, pkis: Record<KeyAlgorithm, PkiFiles>) {
  const core = settings.loadCore;
  const at = ({ port, policy, keyAlgorithm }: ServerUnderTest, seconds: number) =>
    ({ core, pki: pkis[keyAlgorithm], port, policy, seconds }) satisfies Target;
  return {
    /** openssl s_time: full (`new`) or resumed (`reuse`) handshakes, each fetching `path`. */
    handshakes:
      (mode: "new" | "reuse", path?: string): Load<STimeResult> =>
      (server, warmup) => {
        const processes = warmup ? 1 : settings.sTimeProcesses;
        return runSTime({ ...at(server, warmup ?? settings.handshakeSeconds), mode, path, processes });
      },
    /** ab -k, `concurrency` connections; `postFile`: POST its content (bulk echo). */
    requests:
      (path: string, concurrency = settings.keepAliveConcurrency, postFile?: string): Load<AbResult> =>
      (server, warmup) =>
        runAb({ ...at(server, warmup ?? settings.keepAliveSeconds), path, concurrency, postFile }),
    /** One of our generators (generators.ts), with the bench client's identity and `options(warmup)`. */
    generator:
      <T>(generator: string, options: (warmup: number | undefined) => object): Load<T> =>
      async (server, warmup) => {
        const target = generatorTarget(server, pkis[server.keyAlgorithm]);
        const json = JSON.stringify({ generator, ...target, ...options(warmup) });
        const what = `the ${generator} generator against port ${server.port}`;
        const { stdout } = await runPinned(core, process.execPath, [GENERATORS, json], what);
        return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
      },
  };
}
