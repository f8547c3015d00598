/**
 * Child processes pinned to one core with taskset, so the server under test and the load generator
 * never share a core; whether they accept connections yet; and what /proc says of them and of the
 * cores (CPU time, peak memory, how busy each core was: the load core's share shows whether the
 * generator set the pace, the server core's how much other tenants of a shared machine took).
 * Every child is tracked, so the run can stop what is still running when it ends or fails (by pid,
 * only processes this run started).
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect } from "node:net";

const running = new Set<ChildProcess>();

export function spawnPinned(core: number, command: string, args: string[], options: SpawnOptions = {}) {
  // taskset execs the command, so the child's pid is the command's own pid.
  const child = spawn("taskset", ["-c", String(core), command, ...args], { stdio: "pipe", ...options });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Runs a command pinned to `core` to its end; throws with its own words unless it exits 0. */
export async function runPinned(core: number, command: string, args: string[], what: string) {
  const started = performance.now();
  const child = spawnPinned(core, command, args);
  let [stdout, stderr] = ["", ""];
  child.stdout!.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  if (code !== 0) {
    const said = (stderr.trim() || stdout.trim()).split("\n").slice(-5).join("\n");
    throw new Error(`${what} exited with ${code ?? signal}:\n${said}`);
  }
  return { stdout, stderr, wallSeconds: (performance.now() - started) / 1000 };
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

/** Whether something accepts TCP connections on 127.0.0.1:`port` now. */
export const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

// USER_HZ: the unit of the times in /proc/<pid>/stat and /proc/stat (100 on every Linux port
// that matters; `getconf CLK_TCK` says so, but /proc has no way to ask).
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of a process, all its threads included. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime + stime
}

export function statusField(pid: number, field: "VmHWM" | "VmRSS"): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!match) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(match[1]) * 1024;
}

/** Child pids of a process (nginx's master → its worker). */
export function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(" ").map(Number);
}

/** Busy and total ticks of each core since boot, from /proc/stat. */
export function coreTimes(): { busy: number; total: number }[] {
  const cores: { busy: number; total: number }[] = [];
  for (const [, core, times] of readFileSync("/proc/stat", "utf8").matchAll(/^cpu(\d+)\s+(.*)$/gm)) {
    // user nice system idle iowait irq softirq steal: busy is all of them but idle and iowait.
    const ticks = times!.split(/\s+/).map(Number).slice(0, 8);
    const total = ticks.reduce((sum, value) => sum + value, 0);
    cores[Number(core)] = { busy: total - ticks[3]! - ticks[4]!, total };
  }
  return cores;
}

/** Fraction of time each core was busy between two coreTimes() snapshots. */
export const busyFractions = (before: ReturnType<typeof coreTimes>, after: ReturnType<typeof coreTimes>) =>
  after.map((end, core) => {
    const total = end.total - before[core]!.total;
    return total > 0 ? (end.busy - before[core]!.busy) / total : 0;
  });

export const loadAverage = () =>
  readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number) as [number, number, number];
