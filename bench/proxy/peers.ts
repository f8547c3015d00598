/**
 * The proxy benchmarks' peers, configured by peer-configs.ts and pinned to the server core like our
 * server: nginx and HAProxy as mTLS proxies, and the plain upstream (nginx serving a fixed body),
 * pinned to the load core (proxy-suite.ts says why).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PkiFiles } from "../pki/pki.ts";
import { startNginxWithConfig } from "../servers/nginx.ts";
import { type ServerUnderTest, startPinnedServer } from "../servers/server-under-test.ts";
import { freePort } from "../system/ports.ts";
import { haproxyConfig, nginxProxyConfig, nginxUpstreamConfig } from "./peer-configs.ts";

export interface PeerOptions {
  pki: PkiFiles;
  core: number;
  /** Where each process gets its own directory (configuration, logs). */
  workDir: string;
  upstreamPort: number;
}

const common = (pki: PkiFiles, core: number) => ({
  core,
  keyAlgorithm: pki.keyAlgorithm,
  policy: "modern" as const,
});

/** nginx in front of (`upstreamPort`) or as (`body`) the upstream, in its own directory. */
async function startNginxPeer(
  options: Omit<PeerOptions, "upstreamPort">,
  name: string,
  config: (dir: string, port: number) => string,
) {
  const port = await freePort();
  const dir = join(options.workDir, "proxy", name);
  return startNginxWithConfig({ dir, port, config: config(dir, port), ...common(options.pki, options.core) });
}

export const startNginxUpstream = (options: Omit<PeerOptions, "upstreamPort"> & { body: string }) =>
  startNginxPeer(options, "upstream-nginx", (dir, port) =>
    nginxUpstreamConfig({ dir, port, body: options.body }),
  );

export const startNginxProxy = (options: PeerOptions): Promise<ServerUnderTest> =>
  startNginxPeer(options, "nginx-http", (dir, port) => nginxProxyConfig({ dir, port, ...options }));

export async function startHaproxy(options: PeerOptions & { mode: "http" | "tcp" }) {
  const port = await freePort();
  const dir = join(options.workDir, "proxy", `haproxy-${options.mode}`);
  mkdirSync(dir, { recursive: true });
  // HAProxy's `crt` takes the certificate chain and its key in one file.
  const certAndKeyFile = join(dir, "server.pem");
  const chain = readFileSync(options.pki.serverCert, "utf8").trimEnd();
  writeFileSync(certAndKeyFile, `${chain}\n${readFileSync(options.pki.serverKey, "utf8")}`, { mode: 0o600 });
  const confFile = join(dir, "haproxy.cfg");
  const { mode, upstreamPort } = options;
  writeFileSync(
    confFile,
    haproxyConfig({ mode, port, certAndKeyFile, caFile: options.pki.ca, upstreamPort }),
  );
  // -db: stay in the foreground (no daemon, no master process): one process, like nginx's one worker.
  return startPinnedServer({
    ...common(options.pki, options.core),
    kind: "haproxy",
    what: `HAProxy (${confFile})`,
    port,
    command: "haproxy",
    args: ["-db", "-f", confFile],
    logFile: join(dir, "haproxy.log"),
  });
}
