/**
 * Starts the proxy benchmarks' processes: the peers (nginx and HAProxy, configured by
 * peer-configs.ts; the bare Node proxy) pinned to the server core like our server, and the upstreams
 * (nginx serving a fixed body, the TCP echo) pinned to the load core (docs/BENCHMARKS.md says why).
 */
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PkiFiles } from "../pki/pki.ts";
import { startNginxWithConfig } from "../servers/nginx.ts";
import type { ServerKind, ServerUnderTest } from "../servers/server-under-test.ts";
import { freePort, waitForPort } from "../system/ports.ts";
import { spawnPinned, stopProcess } from "../system/processes.ts";
import type { BareNodeProxyOptions } from "./bare-node-proxy-server.ts";
import { haproxyConfig, nginxProxyConfig, nginxUpstreamConfig } from "./peer-configs.ts";

export interface PeerOptions {
  pki: PkiFiles;
  core: number;
  /** Where each process gets its own directory (configuration, logs). */
  workDir: string;
  upstreamPort: number;
}

/** A plain process started pinned, returned as a server once it accepts connections on `port`. */
async function startProcess(
  kind: ServerKind,
  what: string,
  port: number,
  pki: PkiFiles,
  core: number,
  command: string,
  args: string[],
  logFile: string,
): Promise<ServerUnderTest> {
  const child = spawnPinned(core, command, args);
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`${what} exited with ${code}; see ${logFile}`))),
  );
  await Promise.race([waitForPort(port, 10_000, what), exited]);
  exited.catch(() => {});
  return {
    kind,
    keyAlgorithm: pki.keyAlgorithm,
    policy: "modern",
    port,
    pids: () => [child.pid!],
    stop: () => stopProcess(child, "SIGTERM", 10_000),
  };
}

export async function startNginxUpstream(options: Omit<PeerOptions, "upstreamPort"> & { body: string }) {
  const port = await freePort();
  const dir = join(options.workDir, "proxy", "upstream-nginx");
  return startNginxWithConfig({
    dir,
    port,
    config: nginxUpstreamConfig({ dir, port, body: options.body }),
    core: options.core,
    keyAlgorithm: options.pki.keyAlgorithm,
    policy: "modern",
  });
}

export async function startTcpEcho(options: Omit<PeerOptions, "upstreamPort">) {
  const port = await freePort();
  const dir = join(options.workDir, "proxy");
  mkdirSync(dir, { recursive: true });
  const script = new URL("./tcp-echo-server.ts", import.meta.url).pathname;
  return startProcess(
    "node-bare",
    "the TCP echo upstream",
    port,
    options.pki,
    options.core,
    process.execPath,
    [script, String(port)],
    join(dir, "tcp-echo.log"),
  );
}

export async function startNginxProxy(options: PeerOptions): Promise<ServerUnderTest> {
  const port = await freePort();
  const dir = join(options.workDir, "proxy", "nginx-http");
  return startNginxWithConfig({
    dir,
    port,
    config: nginxProxyConfig({ dir, port, pki: options.pki, upstreamPort: options.upstreamPort }),
    core: options.core,
    keyAlgorithm: options.pki.keyAlgorithm,
    policy: "modern",
  });
}

export async function startHaproxy(
  options: PeerOptions & { mode: "http" | "tcp" },
): Promise<ServerUnderTest> {
  const port = await freePort();
  const dir = join(options.workDir, "proxy", `haproxy-${options.mode}`);
  mkdirSync(dir, { recursive: true });
  // HAProxy's `crt` takes the certificate chain and its key in one file.
  const certAndKeyFile = join(dir, "server.pem");
  writeFileSync(
    certAndKeyFile,
    `${readFileSync(options.pki.serverCert, "utf8").trimEnd()}\n${readFileSync(options.pki.serverKey, "utf8")}`,
    { mode: 0o600 },
  );
  const confFile = join(dir, "haproxy.cfg");
  writeFileSync(
    confFile,
    haproxyConfig({
      mode: options.mode,
      port,
      certAndKeyFile,
      caFile: options.pki.ca,
      upstreamPort: options.upstreamPort,
    }),
  );
  // -db: stay in the foreground (no daemon, no master process): one process, like nginx's one worker.
  return startProcess(
    "haproxy",
    `HAProxy (${confFile})`,
    port,
    options.pki,
    options.core,
    "haproxy",
    ["-db", "-f", confFile],
    join(dir, "haproxy.log"),
  );
}

export async function startBareNodeProxy(
  options: PeerOptions & { mode: "http" | "tcp" },
): Promise<ServerUnderTest> {
  const port = await freePort();
  const dir = join(options.workDir, "proxy");
  mkdirSync(dir, { recursive: true });
  const args: BareNodeProxyOptions = {
    mode: options.mode,
    port,
    cert: options.pki.serverCert,
    key: options.pki.serverKey,
    ca: options.pki.ca,
    upstreamPort: options.upstreamPort,
  };
  const script = new URL("./bare-node-proxy-server.ts", import.meta.url).pathname;
  return startProcess(
    "node-bare",
    `the bare Node proxy (${options.mode})`,
    port,
    options.pki,
    options.core,
    process.execPath,
    [script, JSON.stringify(args)],
    join(dir, `bare-node-proxy-${options.mode}.log`),
  );
}
