/**
 * Our server, pinned to the server core, with the per-request access log off (nginx's is off too)
 * and the echo limit raised to the bulk body size, started one of two ways:
 *
 * - as shipped (the default): the sources type-stripped to .js by the image's own build step
 *   (services/build/strip-types.ts, see shipServices) and started as the image's ENTRYPOINT and CMD
 *   do, `node <dir>/main.js server`, with the NODE_OPTIONS the image sets (services/Dockerfile);
 * - as its .ts sources, the way `npm run server` runs it on a host (Node strips the types at load).
 */
import { cpSync, createWriteStream, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stripTree } from "../../services/build/strip-types.ts";
import { ENV, STATUS_ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { freePort } from "../system/ports.ts";
import { spawnPinned, stopProcess } from "../system/processes.ts";
import type { ServerKind, ServerUnderTest } from "./server-under-test.ts";

export interface OurServer extends ServerUnderTest {
  /** mtls_handshakes_total{result="success"} from the server's /metrics. */
  successfulHandshakes(): Promise<number>;
}

export interface OurServerOptions {
  pki: PkiFiles;
  policy: TlsPolicy;
  core: number;
  repoRoot: string;
  logDir: string;
  maxBodyBytes: number;
  /** The shipped tree (shipServices), or undefined to run the .ts sources as `npm run server` does. */
  shippedDir: string | undefined;
  /** NODE_OPTIONS; default: the image's for the shipped tree, none for the .ts sources. */
  nodeOptions?: string;
  env?: Record<string, string>;
  kind?: ServerKind;
  /** Names the log file apart from others of the same kind (the proxy benchmarks' sidecar modes). */
  logLabel?: string;
}

/**
 * Type-strips services/src into `dir` exactly as the image's build stage does, with services/vendor
 * beside it as the image has it (/app/src, /app/vendor); returns `dir`.
 */
export function shipServices(repoRoot: string, dir: string): string {
  const vendor = join(dir, "..", "vendor");
  for (const out of [dir, vendor]) rmSync(out, { recursive: true, force: true });
  stripTree(join(repoRoot, "services/src"), dir);
  cpSync(join(repoRoot, "services/vendor"), vendor, { recursive: true });
  return dir;
}

/** The NODE_OPTIONS the image sets (`ENV NODE_OPTIONS=...` in services/Dockerfile), "" for none. */
export function imageNodeOptions(repoRoot: string): string {
  const dockerfile = readFileSync(join(repoRoot, "services/Dockerfile"), "utf8");
  return /^ENV NODE_OPTIONS="?([^"\n]*)"?$/m.exec(dockerfile)?.[1] ?? "";
}

export async function startOurServer(options: OurServerOptions): Promise<OurServer> {
  const port = await freePort();
  const statusPort = await freePort();
  const kind = options.kind ?? "ours";
  const nodeOptions = options.nodeOptions ?? (options.shippedDir ? imageNodeOptions(options.repoRoot) : "");
  const env = {
    ...process.env,
    NODE_OPTIONS: nodeOptions,
    [ENV.certFile]: options.pki.serverCert,
    [ENV.keyFile]: options.pki.serverKey,
    [ENV.caFile]: options.pki.ca,
    [ENV.listen]: `127.0.0.1:${port}`,
    [ENV.statusListen]: `127.0.0.1:${statusPort}`,
    [ENV.tlsPolicy]: options.policy,
    [ENV.accessLog]: "off",
    [ENV.maxBodyBytes]: String(options.maxBodyBytes),
    [ENV.identityWaitMs]: "0",
    ...options.env,
  };
  const label = options.logLabel ? `-${options.logLabel}` : "";
  const logFile = join(options.logDir, `${kind}${label}-${options.pki.keyAlgorithm}-${options.policy}.log`);
  const args = options.shippedDir
    ? [join(options.shippedDir, "main.js"), "server"]
    : [join(options.repoRoot, "services/src/server.ts")];
  const child = spawnPinned(options.core, process.execPath, args, { env });
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const statusUrl = `http://127.0.0.1:${statusPort}`;
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`our server exited with ${code}; see ${logFile}`))),
  );
  await Promise.race([waitUntilReady(`${statusUrl}${STATUS_ROUTES.readyz}`, 15_000, logFile), exited]);
  exited.catch(() => {}); // a later exit is reported by the measurement that notices it
  return {
    kind,
    keyAlgorithm: options.pki.keyAlgorithm,
    policy: options.policy,
    port,
    pids: () => [child.pid!],
    stop: () => stopProcess(child, "SIGTERM", 15_000),
    successfulHandshakes: async () => {
      const text = await (await fetch(`${statusUrl}${STATUS_ROUTES.metrics}`)).text();
      const match = /^mtls_handshakes_total\{result="success"\} (\d+)$/m.exec(text);
      if (!match) throw new Error(`our server's /metrics has no mtls_handshakes_total{result="success"}`);
      return Number(match[1]);
    },
  };
}

async function waitUntilReady(url: string, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await fetch(url).catch(() => undefined))?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`our server was not ready at ${url} within ${timeoutMs} ms; see ${logFile}`);
}
