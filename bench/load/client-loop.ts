/**
 * Our client (services/src/client.ts) in loop mode, as deployed, with a short MTLS_INTERVAL_MS: how
 * many TLS handshakes does the server see for its rounds? Rounds are counted from the client's
 * "round" log lines; handshakes from the server's mtls_handshakes_total{result="success"}.
 */
import { createInterface } from "node:readline";
import { ENV } from "../../services/src/contract.ts";
import { freePort } from "../../test/support/free-port.ts";
import type { PkiFiles } from "../pki/issue-pki.ts";
import type { OurServer } from "../servers/ours.ts";
import type { BenchSettings } from "../settings.ts";
import { spawnPinned, stopProcess } from "../system/processes.ts";

export type ClientLoopResult = Awaited<ReturnType<typeof runClientLoop>>;

/** Our client in loop mode against `server` for the settings' rounds and interval, on the load core. */
export async function runClientLoop(settings: BenchSettings, server: OurServer, pki: PkiFiles) {
  const before = await server.successfulHandshakes();
  const env = {
    ...process.env,
    [ENV.certFile]: pki.clientCert,
    [ENV.keyFile]: pki.clientKey,
    [ENV.caFile]: pki.ca,
    [ENV.serverUrl]: `https://localhost:${server.port}`,
    [ENV.intervalMs]: String(settings.clientIntervalMs),
    [ENV.statusListen]: `127.0.0.1:${await freePort()}`,
    [ENV.tlsPolicy]: server.policy,
    [ENV.identityWaitMs]: "0",
  };
  const clientEntry = `${settings.repoRoot}/services/src/client.ts`;
  const client = spawnPinned(settings.loadCore, process.execPath, [clientEntry], { env });
  let [rounds, failedRounds] = [0, 0];
  const lastLines: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    client.once("exit", (code) =>
      reject(new Error(`our client exited with ${code} after ${rounds} rounds:\n${lastLines.join("\n")}`)),
    );
    createInterface({ input: client.stdout! }).on("line", (line) => {
      if (lastLines.push(line) > 5) lastLines.shift();
      let entry: { event?: string; result?: string } = {};
      try {
        entry = JSON.parse(line);
      } catch {}
      if (entry.event !== "round") return;
      if (entry.result === "ok") rounds++;
      else failedRounds++;
      if (rounds + failedRounds >= settings.clientRounds) resolve();
    });
  });
  await done.finally(() => stopProcess(client));
  // The successful handshakes the server counted while the client ran.
  const handshakes = (await server.successfulHandshakes()) - before;
  const handshakesPer100Rounds = (handshakes * 100) / (rounds + failedRounds);
  return { rounds, failedRounds, handshakes, handshakesPer100Rounds };
}
