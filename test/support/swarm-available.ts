/**
 * Decides whether the tests that need the local Docker engine to be a swarm manager run here.
 *
 * - With CI=true an engine that is not a swarm manager is a failure (CI runs scripts/swarm-init.sh
 *   first), never a skip.
 * - Elsewhere it returns one line naming what is missing and how to get it, for `describe.skipIf`,
 *   and notes it for the run (printed once however many files skip for it: run-notes.ts).
 */
import { dockerApi } from "../../emulation/index.ts";
import { dockerSkipReason } from "./docker-available.ts";
import { note } from "./run-notes.ts";

/** undefined when the engine is a swarm manager; else the reason (only outside CI). */
export async function swarmSkipReason(): Promise<string | undefined> {
  const noDocker = await dockerSkipReason();
  if (noDocker) return noDocker;
  const info = (await dockerApi("GET", "/info")).body as { Swarm?: { ControlAvailable?: boolean } };
  if (info.Swarm?.ControlAvailable) return undefined;
  const problem = "the Docker engine is not a swarm manager; make it one with scripts/swarm-init.sh";
  if (process.env.CI === "true") throw new Error(`CI=true, so the swarm tests must run, but ${problem}`);
  const reason = `Swarm tests skipped: ${problem}`;
  note(reason);
  return reason;
}
