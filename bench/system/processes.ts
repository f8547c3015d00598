/**
 * Child processes pinned to one core with taskset, so the server under test and the load generator
 * never share a core. Every child is tracked, so the run can stop whatever is still running when it
 * ends or fails (by pid, only processes this run started).
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { once } from "node:events";

const running = new Set<ChildProcess>();

export function spawnPinned(
  core: number,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
) {
  // taskset execs the command, so the child's pid is the command's own pid.
  const child = spawn("taskset", ["-c", String(core), command, ...args], { stdio: "pipe", ...options });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

export interface Completed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
}

/** Runs a command pinned to `core` to its end and returns its output and wall time. */
export async function runPinned(
  core: number,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<Completed> {
  const started = performance.now();
  const child = spawnPinned(core, command, args, options);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  return {
    code,
    signal,
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Throws with the command's own words when it did not exit 0. */
export function expectSuccess(what: string, result: Completed): Completed {
  if (result.code !== 0) {
    const said = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join("\n");
    throw new Error(`${what} exited with ${result.code ?? result.signal}:\n${said}`);
  }
  return result;
}

/** Sends `signal` and waits for the exit; SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Stops what this run started and is still running (on failure or interruption): SIGTERM first, so
 * that nginx's master takes its worker down with it, then SIGKILL for whatever is left after 3 s.
 */
export async function stopAllStarted(): Promise<void> {
  await Promise.all([...running].map((child) => stopProcess(child, "SIGTERM", 3000)));
}
