/**
 * A Docker daemon of the test's own, beside the machine's: its own socket, data root, exec root
 * (so its own containerd), pid file and address pool, a default bridge of its own and no iptables
 * rules, so killing it cannot touch the machine's engine or anything running on it. (Not
 * `--bridge=none`: a dockerd started with it deletes the host's `docker0`, the machine engine's
 * default bridge, which breaks every container the machine's engine starts on it afterwards.) It is started, and after
 * a crash started again, by scripts/docker-engine.sh itself (DOCKER_HOST, DOCKERD_EXTRA_ARGS,
 * DOCKERD_LOG), exactly as that script starts the machine's engine.
 *
 * Needs root and `dockerd`; under CI=true either missing is a failure, elsewhere a one-line skip.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { note } from "../support/run-notes.ts";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENGINE_SCRIPT = path.join(ROOT, "scripts/docker-engine.sh");
/** The private engine's networks come from this pool; override it where it clashes with a route of the host. */
const ADDRESS_POOL = process.env.MTLS_CRASH_ADDRESS_POOL ?? "base=10.213.0.0/16,size=24";
const POOL_SUBNET = /base=([^,]+)/.exec(ADDRESS_POOL)?.[1] ?? "10.213.0.0/16";
/**
 * The pool the sidecar stack's workloads take their private subnets from on this engine (the
 * stack config's workloadSubnetPool), outside the engine's own pool.
 */
export const WORKLOAD_POOL = process.env.MTLS_CRASH_WORKLOAD_POOL ?? "10.215.0.0/20";
/** The private engine's default bridge gets this address, outside the pool its networks come from. */
const BRIDGE_ADDRESS = process.env.MTLS_CRASH_BRIDGE_ADDRESS ?? "10.214.0.1/24";
/**
 * Without iptables rules of its own, traffic between the private engine's containers crosses the
 * host's FORWARD chain, whose policy the machine's engine sets to DROP (bridged traffic too, with
 * br_netfilter). One rule per pool in DOCKER-USER (the chain Docker leaves to its users and never
 * flushes) lets the pool's traffic through within itself; they are removed again on dispose. Where
 * there is no DOCKER-USER chain, the machine's engine added no DROP policy.
 */
const FORWARD_RULES = [POOL_SUBNET, WORKLOAD_POOL].map((subnet) => [
  "DOCKER-USER",
  "-s",
  subnet,
  "-d",
  subnet,
  "-j",
  "ACCEPT",
  "-m",
  "comment",
  "--comment",
  "mtls-pki daemon-crash test",
]);

async function hasDockerUserChain(): Promise<boolean> {
  try {
    await run("iptables", ["-n", "-L", "DOCKER-USER"]);
    return true;
  } catch {
    return false;
  }
}

/** The machine engine's default bridge. */
const HOST_BRIDGE = "docker0";

/** The host bridge's IPv4 addresses (CIDR), none when there is no such bridge. */
async function hostBridgeAddresses(): Promise<string[]> {
  if (!existsSync(`/sys/class/net/${HOST_BRIDGE}`)) return [];
  const { stdout } = await run("ip", ["-j", "-4", "addr", "show", "dev", HOST_BRIDGE]);
  const [link] = JSON.parse(stdout) as { addr_info: { local: string; prefixlen: number }[] }[];
  return (link?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

export interface PrivateEngine {
  /** DOCKER_HOST of this engine (unix socket). */
  readonly host: string;
  readonly log: string;
  /** Starts (or starts again) the daemon through scripts/docker-engine.sh. */
  start(): Promise<void>;
  /** The daemon's pid, from its pid file. */
  pid(): number;
  /** SIGKILL, then waits until the process is gone (its pid file stays, as after a real crash). */
  kill(): Promise<void>;
  /** SIGTERM (a clean stop: dockerd stops its containers itself), then waits until it is gone. */
  stop(): Promise<void>;
  /** Stops it if it runs, and removes its directories and the forwarding rule. */
  dispose(): Promise<void>;
}

/** undefined when a private engine can run (root, dockerd); else the reason (only outside CI). */
export async function privateEngineSkipReason(): Promise<string | undefined> {
  let problem: string | undefined;
  if (process.getuid?.() !== 0) problem = "starting a private dockerd needs root";
  else {
    try {
      await run("sh", ["-c", "command -v dockerd && command -v docker"]);
    } catch {
      problem = "dockerd and the docker CLI must be on PATH (Debian: apt-get install docker.io)";
    }
  }
  if (problem === undefined) return undefined;
  if (process.env.CI === "true")
    throw new Error(`CI=true, so the daemon-crash test must run, but ${problem}`);
  const reason = `daemon-crash test skipped: ${problem}`;
  note(reason);
  return reason;
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  // A killed daemon is a zombie until its parent reaps it; dockerd's pid file check counts it as
  // running, so only a vanished /proc entry means gone.
  return !existsSync(`/proc/${pid}`);
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!gone(pid)) {
    if (Date.now() > deadline) throw new Error(`dockerd (pid ${pid}) still there after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function createPrivateEngine(): PrivateEngine {
  const dir = mkdtempSync(path.join(tmpdir(), "mtls-crash-"));
  const host = `unix://${dir}/docker.sock`;
  const pidFile = path.join(dir, "docker.pid");
  const log = path.join(dir, "dockerd.log");
  // An interface name (at most 15 characters) unique to this engine, from its directory's suffix.
  const bridge = `mtlsc-${path.basename(dir).slice(-6)}`;
  const flags = [
    `--host=${host}`,
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${pidFile}`,
    `--bridge=${bridge}`,
    "--iptables=false",
    `--default-address-pool=${ADDRESS_POOL}`,
  ];
  const pid = () => Number(readFileSync(pidFile, "utf8").trim());
  let forwardRuleAdded = false;
  let hostBridge: string[] | undefined;
  return {
    host,
    log,
    pid,
    async start() {
      // The host engine's default bridge, as it is before this engine first starts (see below).
      hostBridge ??= await hostBridgeAddresses();
      if (!existsSync(`/sys/class/net/${bridge}`)) {
        await run("ip", ["link", "add", "name", bridge, "type", "bridge"]);
        await run("ip", ["addr", "add", BRIDGE_ADDRESS, "dev", bridge]);
        await run("ip", ["link", "set", bridge, "up"]);
      }
      if (!forwardRuleAdded && (await hasDockerUserChain())) {
        for (const rule of FORWARD_RULES) await run("iptables", ["-I", ...rule]);
        forwardRuleAdded = true;
      }
      try {
        await run(ENGINE_SCRIPT, [], {
          env: { ...process.env, DOCKER_HOST: host, DOCKERD_LOG: log, DOCKERD_EXTRA_ARGS: flags.join(" ") },
        });
      } catch (error) {
        const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
        throw new Error(`scripts/docker-engine.sh could not start the private engine: ${stderr}`);
      }
      // Observed: this dockerd, started again after a SIGKILL, removes the host's `docker0` even
      // though it has a bridge of its own (the cause inside dockerd is not pinned down). The machine's
      // engine would then fail to start any container on its default bridge until it restarts, so
      // the bridge is put back as it was. Containers that were on it meanwhile lose their link.
      if (hostBridge.length > 0 && !existsSync(`/sys/class/net/${HOST_BRIDGE}`)) {
        await run("ip", ["link", "add", "name", HOST_BRIDGE, "type", "bridge"]);
        for (const address of hostBridge) await run("ip", ["addr", "add", address, "dev", HOST_BRIDGE]);
        await run("ip", ["link", "set", HOST_BRIDGE, "up"]);
      }
    },
    async kill() {
      const target = pid();
      process.kill(target, "SIGKILL");
      await waitGone(target, 30_000);
    },
    async stop() {
      const target = pid();
      process.kill(target, "SIGTERM");
      await waitGone(target, 60_000);
    },
    async dispose() {
      if (existsSync(pidFile) && !gone(pid())) await this.stop();
      if (forwardRuleAdded) for (const rule of FORWARD_RULES) await run("iptables", ["-D", ...rule]);
      if (existsSync(`/sys/class/net/${bridge}`)) await run("ip", ["link", "del", bridge]);
      // dockerd bind-mounts its data root onto itself and leaves that mount behind when it stops.
      const mounts = readFileSync("/proc/mounts", "utf8").split("\n");
      for (const line of mounts.filter((l) => l.split(" ")[1]?.startsWith(dir)).reverse()) {
        await run("umount", [line.split(" ")[1]!]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
