/**
 * What Linux says about processes and cores (/proc): CPU time of the server's processes, busy time
 * of each core (to show how loaded the load generator's core was, and how much of the server's
 * core other tenants of this shared machine took), and peak resident memory.
 */
import { readFileSync } from "node:fs";

// USER_HZ: the unit of the times in /proc/<pid>/stat and /proc/stat (100 on every Linux port
// that matters; `getconf CLK_TCK` says so, but /proc has no way to ask).
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of a process, all its threads included. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may contain spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / TICKS_PER_SECOND;
}

export function statusField(pid: number, field: "VmHWM" | "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(match[1]) * 1024;
}

/** Child pids of a process (nginx's master → its worker). */
export function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(" ").map(Number);
}

export interface CoreTimes {
  busy: number;
  total: number;
}

/** Busy and total ticks of each core since boot, from /proc/stat. */
export function coreTimes(): CoreTimes[] {
  const cores: CoreTimes[] = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2]!
      .split(/\s+/)
      .map(Number) as number[];
    const idleAll = idle! + iowait!;
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    cores[Number(match[1])] = { busy, total: busy + idleAll };
  }
  return cores;
}

/** Fraction of time each core was busy between two coreTimes() snapshots. */
export function busyFractions(before: CoreTimes[], after: CoreTimes[]): number[] {
  return after.map((end, core) => {
    const start = before[core]!;
    const total = end.total - start.total;
    return total > 0 ? (end.busy - start.busy) / total : 0;
  });
}

export function loadAverage(): [number, number, number] {
  const [one, five, fifteen] = readFileSync("/proc/loadavg", "utf8").split(" ").map(Number);
  return [one!, five!, fifteen!];
}
