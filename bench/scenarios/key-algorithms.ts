/**
 * Our server with each PKI (ECDSA P-256, RSA-2048) side by side on TLS 1.3, alternating run by
 * run: the per-case handshake measurements happen minutes apart, too far apart on a shared machine
 * to compare key algorithms with.
 */
import { loadsFor } from "../load/loads.ts";
import type { STimeResult } from "../load/s-time.ts";
import { busyText, measure, type Sample } from "../measure.ts";
import { KEY_ALGORITHMS, type KeyAlgorithm } from "../pki/pki.ts";
import type { Scenario } from "../scenarios.ts";
import type { OurServer } from "../servers/ours.ts";

export const keyAlgorithmsScenario: Scenario = {
  key: "keys",
  run: async (context) => {
    const { settings, pkis, log } = context;
    log("ECDSA P-256 vs RSA-2048, our server, TLS 1.3, side by side");
    const servers: OurServer[] = [];
    for (const keyAlgorithm of KEY_ALGORITHMS) servers.push(await context.ours(pkis[keyAlgorithm], "modern"));
    const handshakes = (server: OurServer, warmup?: number) =>
      loadsFor(settings, pkis[server.keyAlgorithm]).handshakes("new")(server, warmup);
    for (const server of servers) await handshakes(server, 1);
    const keyAlgorithms = { "ECDSA-P256": [], "RSA-2048": [] } as Record<KeyAlgorithm, Sample<STimeResult>[]>;
    for (let run = 0; run < settings.runs; run++) {
      for (const server of run % 2 === 0 ? servers : [...servers].reverse()) {
        const sample = await measure(server, context.cores, () => handshakes(server));
        keyAlgorithms[server.keyAlgorithm].push(sample);
        log(
          `  full handshakes run ${run + 1}/${settings.runs} ${server.keyAlgorithm}: ${sample.result.perSecond.toFixed(0)}/s, ${busyText(sample)}`,
        );
      }
    }
    return { keyAlgorithms };
  },
};
