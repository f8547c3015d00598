/**
 * Our server on the server core, access log off (nginx's is off too) and the echo limit raised to
 * the bulk body size: as shipped (default), the sources type-stripped by the image's own build step
 * (shipServices) and started as the image's ENTRYPOINT and CMD do, `node <dir>/main.js server`, with
 * the image's NODE_OPTIONS; or as its .ts sources, as `npm run server` runs it on a host.
 */
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { stripTree } from "../../services/build/strip-types.ts";
import { ENV, STATUS_ROUTES, type TlsPolicy } from "../../services/src/contract.ts";
import { getStatus, metric } from "../../test/services/support/status.ts";
import { freePort } from "../../test/support/free-port.ts";
import type { PkiFiles } from "../pki/issue-pki.ts";
import type { BenchSettings } from "../settings.ts";
import { type ServerKind, startPinnedServer } from "./server-under-test.ts";

export type OurServer = Awaited<ReturnType<typeof startOurServer>>;

export interface OurServerOptions {
  pki: PkiFiles;
  policy: TlsPolicy;
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

export async function startOurServer(settings: BenchSettings, options: OurServerOptions) {
  const { pki, policy, shippedDir } = options;
  const { repoRoot, serverCore: core } = settings;
  const [port, statusPort] = [await freePort(), await freePort()];
  const kind = options.kind ?? "ours";
  const env = {
    ...process.env,
    NODE_OPTIONS: options.nodeOptions ?? (shippedDir ? imageNodeOptions(repoRoot) : ""),
    [ENV.certFile]: pki.serverCert,
    [ENV.keyFile]: pki.serverKey,
    [ENV.caFile]: pki.ca,
    [ENV.listen]: `127.0.0.1:${port}`,
    [ENV.statusListen]: `127.0.0.1:${statusPort}`,
    [ENV.tlsPolicy]: policy,
    [ENV.accessLog]: "off",
    [ENV.maxBodyBytes]: String(settings.bulkBodyBytes),
    [ENV.identityWaitMs]: "0",
    ...options.env,
  };
  const label = options.logLabel ? `-${options.logLabel}` : "";
  const statusUrl = `http://127.0.0.1:${statusPort}`;
  const server = await startPinnedServer({
    ...{ what: "our server", kind, keyAlgorithm: pki.keyAlgorithm, policy, port, core, env },
    command: process.execPath,
    args: shippedDir ? [join(shippedDir, "main.js"), "server"] : [join(repoRoot, "services/src/server.ts")],
    logFile: join(settings.workDir, "logs", `${kind}${label}-${pki.keyAlgorithm}-${policy}.log`),
    ready: async () => (await getStatus(statusUrl, STATUS_ROUTES.readyz)).status === 200,
  });
  /** mtls_handshakes_total{result="success"} from the server's /metrics. */
  const successfulHandshakes = () => metric(statusUrl, "mtls_handshakes_total", { result: "success" });
  return { ...server, successfulHandshakes };
}
