/** nginx from Debian's packages as a foreground process this run starts, pinned to a core. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TlsPolicy } from "../../services/src/contract.ts";
import type { KeyAlgorithm, PkiFiles } from "../pki/pki.ts";
import { freePort } from "../system/ports.ts";
import { childrenOf } from "../system/proc-stats.ts";
import { nginxConfig } from "./nginx-config.ts";
import { type ServerUnderTest, startPinnedServer } from "./server-under-test.ts";

/** nginx configured like our server (nginx-config.ts), for the case of `pki` and `policy`. */
export async function startNginx(options: {
  pki: PkiFiles;
  policy: TlsPolicy;
  core: number;
  workDir: string;
  whoamiBody: string;
  maxBodyBytes: number;
}): Promise<ServerUnderTest> {
  const port = await freePort();
  const dir = join(options.workDir, "nginx", `${options.pki.keyAlgorithm}-${options.policy}`);
  const config = nginxConfig({ dir, port, ...options });
  return startNginxWithConfig({ dir, port, config, ...options, keyAlgorithm: options.pki.keyAlgorithm });
}

/** nginx with a configuration of the caller's (written to `dir`/nginx.conf), listening on `port`. */
export function startNginxWithConfig(options: {
  dir: string;
  port: number;
  config: string;
  core: number;
  keyAlgorithm: KeyAlgorithm;
  policy: TlsPolicy;
}): Promise<ServerUnderTest> {
  mkdirSync(options.dir, { recursive: true });
  const confFile = join(options.dir, "nginx.conf");
  writeFileSync(confFile, options.config);
  return startPinnedServer({
    ...options,
    kind: "nginx",
    what: `nginx (${confFile}; its error log is beside it)`,
    command: "nginx",
    args: ["-c", confFile, "-g", "daemon off;"],
    // The worker inherits the master's affinity; the master only waits for signals.
    pids: (master) => [master, ...childrenOf(master)],
  });
}
