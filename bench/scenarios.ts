/**
 * The suite as a list of scenarios, each measuring one thing against its peers and adding its own
 * keys to the run file; `BENCH_ONLY=key,...` runs a selection (a trial: no run file). A scenario's
 * figures reach the report through slots: the template (report/benchmarks.md) names them, and
 * `slots` fills them from a run file (report/slots.ts fills the built-in scenarios'). A new scenario
 * is a folder of its own with a Scenario here, a section in the template and, if it has targets,
 * entries in report/targets.ts.
 */
import type { TlsPolicy } from "../services/src/contract.ts";
import { floodsScenario } from "./floods/scenario.ts";
import { loadsFor } from "./load/loads.ts";
import { repeater } from "./measure.ts";
import type { KeyAlgorithm, PkiFiles } from "./pki/issue-pki.ts";
import { proxyScenario } from "./proxy/proxy-suite.ts";
import type { Slots } from "./report/template.ts";
import type { BenchResults } from "./results.ts";
import { memoryScenario } from "./scenarios/memory.ts";
import { keyAlgorithmsScenario, serverScenario } from "./scenarios/server.ts";
import { type OurServer, type OurServerOptions, startOurServer } from "./servers/ours.ts";
import type { ServerUnderTest } from "./servers/server-under-test.ts";
import type { BenchSettings } from "./settings.ts";

export interface ScenarioContext {
  settings: BenchSettings;
  pkis: Record<KeyAlgorithm, PkiFiles>;
  /** services/src as the image ships it (servers/ours.ts, shipServices). */
  shippedDir: string;
  log: (line: string) => void;
  /** The loads (load/loads.ts), from the load core. */
  loads: ReturnType<typeof loadsFor>;
  /** Repetitions of one measurement (measure.ts, repeater), `runs` by default the settings'. */
  repeat: ReturnType<typeof repeater>;
  /** Our server as shipped, on the server core; stopped when the scenario ends. */
  ours(pki: PkiFiles, policy: TlsPolicy, extra?: Partial<OurServerOptions>): Promise<OurServer>;
  /** Stops `server` when the scenario ends (if it has not been stopped before). */
  track<S extends ServerUnderTest>(server: S): S;
}

export interface Scenario {
  /** Its BENCH_ONLY name, and the run file key(s) it fills. */
  key: string;
  run(context: ScenarioContext): Promise<Partial<BenchResults>>;
  /** Slots of its own for the report's template, filled from a run file (absent keys: not measured). */
  slots?(run: BenchResults): Slots;
}

export const SCENARIOS = [
  serverScenario,
  keyAlgorithmsScenario,
  memoryScenario,
  proxyScenario,
  floodsScenario,
];

export function selectScenarios(only: string[]): Scenario[] {
  const known = SCENARIOS.map((s) => s.key);
  const unknown = only.filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY names ${unknown.join(", ")}: the scenarios are ${known.join(", ")}`);
  return only.length === 0 ? SCENARIOS : SCENARIOS.filter((scenario) => only.includes(scenario.key));
}

export async function runScenario(
  scenario: Scenario,
  base: Omit<ScenarioContext, "loads" | "repeat" | "ours" | "track">,
): Promise<Partial<BenchResults>> {
  const { settings } = base;
  const started: ServerUnderTest[] = [];
  const track = <S extends ServerUnderTest>(server: S): S => {
    started.push(server);
    return server;
  };
  const ours = async (pki: PkiFiles, policy: TlsPolicy, extra: Partial<OurServerOptions> = {}) =>
    track(await startOurServer(settings, { pki, policy, shippedDir: base.shippedDir, ...extra }));
  try {
    const repeat = repeater(settings, base.log);
    return await scenario.run({ ...base, loads: loadsFor(settings, base.pkis), track, repeat, ours });
  } finally {
    for (const server of started) await server.stop();
  }
}
