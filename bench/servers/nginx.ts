/** nginx from Debian's packages as a foreground process this run starts, pinned to the server core. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TlsPolicy } from "../../services/src/contract.ts";
import type { KeyAlgorithm, PkiFiles } from "../pki/pki.ts";
import { freePort, waitForPort } from "../system/ports.ts";
import { childrenOf } from "../system/proc-stats.ts";
import { spawnPinned, stopProcess } from "../system/processes.ts";
import { nginxConfig } from "./nginx-config.ts";
import type { ServerUnderTest } from "./server-under-test.ts";

export interface NginxOptions {
  pki: PkiFiles;
  policy: TlsPolicy;
  core: number;
  workDir: string;
  whoamiBody: string;
  maxBodyBytes: number;
}

export async function startNginx(options: NginxOptions): Promise<ServerUnderTest> {
  const port = await freePort();
  const dir = join(options.workDir, "nginx", `${options.pki.keyAlgorithm}-${options.policy}`);
  mkdirSync(dir, { recursive: true });
  return startNginxWithConfig({
    dir,
    port,
    config: nginxConfig({ dir, port, ...options }),
    core: options.core,
    keyAlgorithm: options.pki.keyAlgorithm,
    policy: options.policy,
  });
}

/** nginx with a configuration of the caller's (written to `dir`/nginx.conf), listening on `port`. */
export async function startNginxWithConfig(options: {
  dir: string;
  port: number;
  config: string;
  core: number;
  keyAlgorithm: KeyAlgorithm;
  policy: TlsPolicy;
}): Promise<ServerUnderTest> {
  const { dir, port } = options;
  mkdirSync(dir, { recursive: true });
  const confFile = join(dir, "nginx.conf");
  writeFileSync(confFile, options.config);
  const master = spawnPinned(options.core, "nginx", ["-c", confFile, "-g", "daemon off;"], {
    stdio: "ignore",
  });
  const exited = new Promise<never>((_, reject) =>
    master.once("exit", (code) => reject(new Error(`nginx exited with ${code}; see ${dir}/error.log`))),
  );
  await Promise.race([waitForPort(port, 10_000, `nginx (${confFile})`), exited]);
  exited.catch(() => {});
  return {
    kind: "nginx",
    keyAlgorithm: options.keyAlgorithm,
    policy: options.policy,
    port,
    // The worker inherits the master's affinity; the master only waits for signals.
    pids: () => [master.pid!, ...childrenOf(master.pid!)],
    stop: () => stopProcess(master, "SIGTERM", 10_000),
  };
}
