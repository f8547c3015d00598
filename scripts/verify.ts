/**
 * npm run verify: compares what is deployed with what the stack says, and prints one line per
 * finding with the command that repairs it. docs/OPERATIONS.md has the faults and the repairs.
 *
 *   npm run verify                         # STACK (default dev)
 *   STACK=prod npm run verify
 *   npm run verify -- --repair             # runs the repair commands, then verifies again
 *
 * Exit codes: 0 deployed as the stack says (after --repair: everything repaired); 1 drift found
 * (after --repair: still there); 2 usage or stack problem (unknown argument, no such stack, stack
 * not deployed, state unreadable); 3 the Docker engine does not answer; 4 a repair command failed;
 * 5 the stack runs on swarm (mtls-pki:runtime swarm) and the engine is not a swarm manager;
 * 6 the stack runs on Kubernetes (mtls-pki:runtime kubernetes), which verify does not check yet.
 * Without --repair nothing is changed (it only reads the state and inspects Docker; the file check
 * runs a throwaway container that mounts the volume read-only; on swarm it only inspects services,
 * tasks and secrets' metadata).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ContainerFacts,
  checkEngine,
  checkVolumeFiles,
  EngineDown,
  inspectContainer,
  volumeExists,
} from "./verify/docker.ts";
import { compare, type Finding } from "./verify/findings.ts";
import { readStack, type ServiceInStack, StackProblem } from "./verify/stack.ts";
import {
  checkSwarmManager,
  inspectSecret,
  inspectSwarmService,
  NotSwarmManager,
  type SwarmServiceFacts,
} from "./verify/swarm.ts";
import { compareSwarm } from "./verify/swarm-findings.ts";
import type { SwarmServiceInStack } from "./verify/swarm-stack.ts";
import { inspectMember, inspectNetwork } from "./verify/workload-docker.ts";
import { compareWorkload } from "./verify/workload-findings.ts";
import type { WorkloadInStack } from "./verify/workload-stack.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EXIT = {
  ok: 0,
  drift: 1,
  usage: 2,
  engine: 3,
  repairFailed: 4,
  notSwarmManager: 5,
  kubernetes: 6,
} as const;
/** A health check still "starting" settles within its start period and retries (MtlsService: 10 s + 3 x 5 s). */
const SETTLE_MS = Number(process.env.MTLS_VERIFY_SETTLE_MS ?? 40_000);

const say = (line: string) => process.stdout.write(`${line}\n`);
const fail = (line: string, code: number): never => {
  process.stderr.write(`verify: ${line}\n`);
  process.exit(code);
};

function parseArgs(argv: string[]): { repair: boolean } {
  // `npm run verify --repair` (without --) reaches the script as npm_config_repair.
  let repair = process.env.npm_config_repair === "true";
  for (const arg of argv) {
    if (arg === "--repair") repair = true;
    else
      fail(
        `unknown argument ${JSON.stringify(arg)}: the only option is --repair (the stack comes from STACK)`,
        EXIT.usage,
      );
  }
  return { repair };
}

/**
 * Inspects a container, waiting while its health check is still starting (a transient state) and,
 * after repairs, while Docker is still restarting it (its restart back-off). A client that is
 * running but unhealthy may only be backing off from a server that just came back (its retries
 * back off up to MTLS_BACKOFF_MAX_MS, 30 s by default): it gets the same time to turn healthy
 * by itself before it is reported.
 */
async function settledContainer(
  name: string,
  afterRepair: boolean,
  role?: "server" | "client",
): Promise<ContainerFacts> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const facts = await inspectContainer(name);
    const backingOff = role === "client" && facts.status === "running" && facts.health === "unhealthy";
    const transient =
      facts.health === "starting" || backingOff || (afterRepair && facts.status === "restarting");
    if (!transient || Date.now() > deadline) return facts;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function findingsFor(stack: string, service: ServiceInStack, afterRepair: boolean): Promise<Finding[]> {
  const [container, front, delivery, volume] = await Promise.all([
    settledContainer(service.container.name, afterRepair, service.role),
    service.front ? settledContainer(service.front.name, afterRepair) : Promise.resolve(undefined),
    inspectContainer(service.delivery.name),
    volumeExists(service.volume.name),
  ]);
  const image = container.image ?? delivery.image ?? service.image;
  const files = volume ? await checkVolumeFiles(service.volume.name, image, service.role) : undefined;
  return compare(stack, service, { container, front, delivery, volume, files });
}

/** A workload's wiring: its networks and every member's networks and state (the app's settled). */
async function workloadFindingsFor(
  stack: string,
  workload: WorkloadInStack,
  afterRepair: boolean,
): Promise<Finding[]> {
  const [network, egress, members] = await Promise.all([
    inspectNetwork(workload.network.name),
    workload.egress ? inspectNetwork(workload.egress.name) : Promise.resolve(undefined),
    Promise.all(
      workload.members.map(async (member) => {
        // After a repair the app may still be in its restart policy's back-off.
        if (member.role === "app" && afterRepair) await settledContainer(member.name, true);
        return [member.name, await inspectMember(member.name)] as const;
      }),
    ),
  ]);
  return compareWorkload(stack, workload, { network, egress, members: new Map(members) });
}

/**
 * Inspects a swarm service, waiting while Swarm is still converging it: an update or rollback in
 * progress, or fewer running tasks than its own spec asks for (a task just replaced, or still
 * starting: a task with a health check is "running" only once healthy).
 */
async function settledSwarmService(id: string): Promise<SwarmServiceFacts> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const facts = await inspectSwarmService(id);
    const running = new Set((facts.tasks ?? []).filter((t) => t.state === "running").map((t) => t.slot)).size;
    const converging =
      facts.exists &&
      (facts.updateState === "updating" ||
        facts.updateState === "rollback_started" ||
        running < (facts.replicas ?? 0));
    if (!converging || Date.now() > deadline) return facts;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function swarmFindingsFor(stack: string, service: SwarmServiceInStack): Promise<Finding[]> {
  const [facts, secrets] = await Promise.all([
    settledSwarmService(service.service.id),
    Promise.all(service.secrets.map(async (s) => [s.id, await inspectSecret(s.id)] as const)),
  ]);
  return compareSwarm(stack, service, { service: facts, secrets: new Map(secrets) });
}

async function verify(stack: string, afterRepair = false): Promise<Finding[]> {
  const deployed = await readStack(ROOT, stack);
  await checkEngine();
  let findings: Finding[];
  let scope: string;
  if (deployed.runtime === "swarm") {
    await checkSwarmManager();
    findings = (await Promise.all(deployed.services.map((s) => swarmFindingsFor(stack, s)))).flat();
    scope =
      "swarm services at their replicas with every task running and healthy, no paused or rolled-back update, exactly the declared secrets mounted, certificate secrets matching the stack's chains";
  } else {
    findings = (await Promise.all(deployed.services.map((s) => findingsFor(stack, s, afterRepair)))).flat();
    findings.push(
      ...(
        await Promise.all(deployed.workloads.map((w) => workloadFindingsFor(stack, w, afterRepair)))
      ).flat(),
    );
    scope = "containers running and healthy, identity files matching, delivery containers present";
    if (deployed.workloads.length > 0)
      scope +=
        "; workloads wired as declared: private networks internal without host address, only the app and its sidecars on them, every member on its networks with its aliases, apps running";
  }
  if (findings.length === 0) {
    say(
      `verify: stack ${stack}: ${[...deployed.services.map((s) => s.name), ...(deployed.runtime === "docker" ? deployed.workloads.map((w) => `workload ${w.name}`) : [])].join(", ")} deployed as the stack says (${scope})`,
    );
  }
  for (const finding of findings)
    say(`verify: ${finding.service}: ${finding.problem}. Repair: ${finding.repair}`);
  return findings;
}

/**
 * The stack file's Kubernetes namespace when it says `runtime: kubernetes`, else undefined. Read as
 * scripts/up.sh reads the runtime (a line of the stack file), so verify needs nothing installed;
 * the default namespace is components/kubernetes-config.ts's `defaultNamespace`.
 */
function kubernetesStack(stack: string): { namespace: string } | undefined {
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  const value = (key: string) => new RegExp(`^ *mtls-pki:${key}: *"?([^"\\s#]*)"?`, "m").exec(text)?.[1];
  if (value("runtime") !== "kubernetes") return undefined;
  const fallback = `mtls-pki-${stack.toLowerCase().replace(/[^a-z0-9-]+/g, "-")}`
    .slice(0, 63)
    .replace(/-+$/, "");
  return { namespace: value("namespace") || fallback };
}

function runRepair(command: string): Promise<number> {
  say(`verify: running: ${command}`);
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", command], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => resolve(code ?? 1));
    child.on("error", () => resolve(127));
  });
}

async function main(): Promise<number> {
  const { repair } = parseArgs(process.argv.slice(2));
  const stack = process.env.STACK || "dev";
  if (!/^[A-Za-z0-9._-]+$/.test(stack))
    fail(`STACK=${JSON.stringify(stack)} is not a stack name`, EXIT.usage);
  const kubernetes = kubernetesStack(stack);
  if (kubernetes) {
    fail(
      `stack ${stack} runs on Kubernetes (mtls-pki:runtime kubernetes), which verify does not check yet; see what runs with: kubectl -n ${kubernetes.namespace} get deployments,pods,services,secrets (README, "Kubernetes")`,
      EXIT.kubernetes,
    );
  }
  try {
    const findings = await verify(stack);
    if (findings.length === 0) return EXIT.ok;
    if (!repair) return EXIT.drift;
    for (const command of [...new Set(findings.map((f) => f.repair))]) {
      const code = await runRepair(command);
      if (code !== 0) fail(`repair command failed (exit ${code}): ${command}`, EXIT.repairFailed);
    }
    say("verify: repairs done; verifying again");
    return (await verify(stack, true)).length === 0 ? EXIT.ok : EXIT.drift;
  } catch (error) {
    if (error instanceof StackProblem) return fail(error.message, EXIT.usage);
    if (error instanceof EngineDown) return fail(error.message, EXIT.engine);
    if (error instanceof NotSwarmManager) return fail(error.message, EXIT.notSwarmManager);
    throw error;
  }
}

process.exitCode = await main();
