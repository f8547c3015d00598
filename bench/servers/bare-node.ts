/** Starts bare-node-server.ts pinned to the server core (see that file for what it is for). */
import type { TlsPolicy } from "../../services/src/contract.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { freePort, waitForPort } from "../system/ports.ts";
import { spawnPinned, stopProcess } from "../system/processes.ts";
import type { BareNodeOptions } from "./bare-node-server.ts";
import type { ServerUnderTest } from "./server-under-test.ts";

export async function startBareNode(options: {
  pki: PkiFiles;
  policy: TlsPolicy;
  core: number;
  body: string;
}): Promise<ServerUnderTest> {
  const port = await freePort();
  const args: BareNodeOptions = {
    port,
    cert: options.pki.serverCert,
    key: options.pki.serverKey,
    ca: options.pki.ca,
    policy: options.policy,
    body: options.body,
  };
  const script = new URL("./bare-node-server.ts", import.meta.url).pathname;
  const child = spawnPinned(options.core, process.execPath, [script, JSON.stringify(args)], {
    stdio: "ignore",
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`the bare Node server exited with ${code}`))),
  );
  await Promise.race([waitForPort(port, 10_000, "the bare Node server"), exited]);
  exited.catch(() => {});
  return {
    kind: "node-bare",
    keyAlgorithm: options.pki.keyAlgorithm,
    policy: options.policy,
    port,
    pids: () => [child.pid!],
    stop: () => stopProcess(child),
  };
}
