/**
 * Floods for the admission tests: the flood runs in a process of its own (flood-generator.ts), the
 * caller being measured in the test process, and the server in a third (see shipped-server.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { FloodSpec, FloodStats } from "./flood-generator.ts";
import { type Caller, callServer } from "./tls-client.ts";

const GENERATOR = fileURLToPath(new URL("./flood-generator.ts", import.meta.url));
const running = new Set<ChildProcess>();

export interface Flood {
  /** The generator's latest stats line. */
  stats(): FloodStats;
  stop(): Promise<FloodStats>;
}

/** Starts a flood and resolves once it holds its connections (its `holding` line). */
/** The generator's command line, pinned to one core with taskset when `core` is given (the bench). */
export function generatorCommand(spec: FloodSpec, core?: number): [string, string[]] {
  const node = [GENERATOR, JSON.stringify(spec)];
  return core === undefined
    ? [process.execPath, node]
    : ["taskset", ["-c", String(core), process.execPath, ...node]];
}

export function startFlood(
  spec: Exclude<FloodSpec, { kind: "calls" }>,
  options: { timeoutMs?: number; core?: number } = {},
): Promise<Flood> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const [command, args] = generatorCommand(spec, options.core);
  const child = spawn(command, args, {
    stdio: ["pipe", "pipe", "inherit"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let latest: FloodStats = { open: 0, opened: 0, closedByServer: 0, answers: {}, failedCalls: 0 };
  let stopped: ((stats: FloodStats) => void) | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `the ${spec.kind} flood did not hold ${spec.connections} connections: ${JSON.stringify(latest)}`,
          ),
        ),
      timeoutMs,
    );
    let partial = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const { event, ...stats } = JSON.parse(line) as FloodStats & { event: string };
        latest = stats;
        if (event === "holding") {
          clearTimeout(timer);
          resolve({
            stats: () => latest,
            stop: () =>
              new Promise((done) => {
                stopped = done;
                child.kill("SIGTERM");
              }),
          });
        }
        if (event === "stopped") stopped?.(stats);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the flood generator exited with ${code}`));
    });
  });
}

export function stopAllFloods(): void {
  for (const child of running) child.kill("SIGKILL");
}

export interface CallFigures {
  calls: number;
  ok: number;
  /** Failed calls by what they saw (an HTTP status, or the error code). */
  failures: Record<string, number>;
  successRate: number;
  p50Ms: number;
  p99Ms: number;
}

/** `calls` calls one after the other, each on a new connection with a full handshake. */
export async function newConnectionCalls(port: number, caller: Caller, calls: number): Promise<CallFigures> {
  const durations: number[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  for (let index = 0; index < calls; index++) {
    const started = performance.now();
    try {
      const result = await callServer({ port, caller, timeoutMs: 10_000 });
      if (result.status === 200) ok++;
      else failures[String(result.status)] = (failures[String(result.status)] ?? 0) + 1;
    } catch (error) {
      const code = (error as { code?: string }).code ?? "error";
      failures[code] = (failures[code] ?? 0) + 1;
    }
    durations.push(performance.now() - started);
  }
  durations.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]! * 10) / 10;
  return { calls, ok, failures, successRate: ok / calls, p50Ms: at(0.5), p99Ms: at(0.99) };
}
