/**
 * Our client (services/src/client.ts) in loop mode, as deployed, with a short MTLS_INTERVAL_MS: how
 * many TLS handshakes does the server see for its rounds? Rounds are counted from the client's
 * "round" log lines; handshakes from the server's mtls_handshakes_total{result="success"}.
 */
import { createInterface } from "node:readline";
import { ENV, type TlsPolicy } from "../../services/src/contract.ts";
import type { PkiFiles } from "../pki/pki.ts";
import type { OurServer } from "../servers/ours.ts";
import { freePort } from "../system/ports.ts";
import { spawnPinned, stopProcess } from "../system/processes.ts";

export interface ClientLoopResult {
  rounds: number;
  /** Successful handshakes the server counted while the client ran. */
  handshakes: number;
  handshakesPer100Rounds: number;
  failedRounds: number;
}

export async function runClientLoop(options: {
  core: number;
  server: OurServer;
  pki: PkiFiles;
  policy: TlsPolicy;
  rounds: number;
  intervalMs: number;
  repoRoot: string;
}): Promise<ClientLoopResult> {
  const before = await options.server.successfulHandshakes();
  const env = {
    ...process.env,
    [ENV.certFile]: options.pki.clientCert,
    [ENV.keyFile]: options.pki.clientKey,
    [ENV.caFile]: options.pki.ca,
    [ENV.serverUrl]: `https://localhost:${options.server.port}`,
    [ENV.intervalMs]: String(options.intervalMs),
    [ENV.statusListen]: `127.0.0.1:${await freePort()}`,
    [ENV.tlsPolicy]: options.policy,
    [ENV.identityWaitMs]: "0",
  };
  const client = spawnPinned(options.core, process.execPath, [`${options.repoRoot}/services/src/client.ts`], {
    env,
  });
  let rounds = 0;
  let failedRounds = 0;
  const lastLines: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    client.once("exit", (code) =>
      reject(new Error(`our client exited with ${code} after ${rounds} rounds:\n${lastLines.join("\n")}`)),
    );
    createInterface({ input: client.stdout! }).on("line", (line) => {
      lastLines.push(line);
      if (lastLines.length > 5) lastLines.shift();
      let entry: { event?: string; result?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.event !== "round") return;
      if (entry.result === "ok") rounds++;
      else failedRounds++;
      if (rounds + failedRounds >= options.rounds) resolve();
    });
  });
  try {
    await done;
  } finally {
    await stopProcess(client);
  }
  const handshakes = (await options.server.successfulHandshakes()) - before;
  return {
    rounds,
    failedRounds,
    handshakes,
    handshakesPer100Rounds: (handshakes * 100) / (rounds + failedRounds),
  };
}
