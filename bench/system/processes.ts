/**
 * Child processes pinned to one core with taskset, so the server under test and the load generator
 * never share a core. Every child is tracked, so the run can stop what is still running when it
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
  stdout: string;
  stderr: string;
  wallSeconds: number;
}

/** Runs a command pinned to `core` to its end; throws with its own words unless it exits 0. */
export async function runPinned(
  core: number,
  command: string,
  args: readonly string[],
  what: string,
): Promise<Completed> {
  const started = performance.now();
  const child = spawnPinned(core, command, args);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => err.push(chunk));
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  const result = { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  if (code !== 0) {
    const said = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join("\n");
    throw new Error(`${what} exited with ${code ?? signal}:\n${said}`);
  }
  return { ...result, wallSeconds: (performance.now() - started) / 1000 };
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

/** Stops what this run started and is still running (nginx's master takes its worker along). */
export async function stopAllStarted(): Promise<void> {
  await Promise.all([...running].map((child) => stopProcess(child, "SIGTERM", 3000)));
}
