/**
 * A workload's wiring as deployed versus the stack, one finding per problem, each with the one
 * command that repairs it (docs/OPERATIONS.md, "A workload's wiring"). What the wiring relies on:
 * the private network exists, is internal and has no host address, on the declared subnet; only
 * the app and its sidecars are on it; each member is on exactly its declared networks with its
 * declared aliases (the app's `app`, a tunnel's `tunnel-<call>`, the server sidecar's names on the
 * stack network); the app runs. The sidecars' own state (running, healthy, files) is MtlsService's
 * check (findings.ts).
 *
 * The repairs are Docker's own where Docker can put the wiring back as declared (`docker network
 * connect` with the aliases, `disconnect` of what does not belong, `docker start`), and Pulumi's
 * where the network itself must be made again: the network and every member are recreated in one
 * targeted `up` (a network that is there but wrong is first emptied and removed, since Docker
 * refuses a second network on the same subnet).
 */
import type { Finding } from "./findings.ts";
import { pulumi, recreate } from "./findings.ts";
import { shellLine } from "./shell.ts";
import type { MemberFacts, NetworkFacts } from "./workload-docker.ts";
import type { MemberInStack, NetworkInStack, WorkloadInStack } from "./workload-stack.ts";

export interface ObservedWorkload {
  network: NetworkFacts;
  egress: NetworkFacts | undefined;
  /** By the member's Docker name. */
  members: Map<string, MemberFacts>;
}

const list = (items: readonly string[]) => (items.length === 0 ? "none" : items.join(", "));

/** The network made again by Pulumi, and every member with it (they hold its name). */
function rebuild(stack: string, network: NetworkInStack, members: readonly MemberInStack[]): string {
  return `${pulumi(stack, "refresh", "--target", network.urn)} && ${pulumi(
    stack,
    "up",
    "--target",
    network.urn,
    ...members.flatMap((m) => ["--target-replace", m.urn]),
  )}`;
}

/** Empties and removes a network that is there but wrong, so that the rebuild can make it again. */
function removeFirst(network: NetworkInStack, facts: NetworkFacts): string {
  return [
    ...(facts.containers ?? []).map((c) =>
      shellLine(["docker", "network", "disconnect", "--force", network.name, c]),
    ),
    shellLine(["docker", "network", "rm", network.name]),
  ].join(" && ");
}

/** How the network differs from the stack, or an empty list. */
function networkDifferences(network: NetworkInStack, facts: NetworkFacts): string[] {
  const differences: string[] = [];
  if (facts.internal !== network.internal)
    differences.push(`internal ${facts.internal} (the stack: ${network.internal})`);
  for (const [option, value] of Object.entries(network.options)) {
    const seen = facts.options?.[option];
    if (seen !== value)
      differences.push(
        `option ${option} ${seen === undefined ? "absent" : `"${seen}"`} (the stack: "${value}")`,
      );
  }
  for (const subnet of network.subnets) {
    if (!facts.subnets?.includes(subnet))
      differences.push(`subnet ${list(facts.subnets ?? [])} (the stack: ${subnet})`);
  }
  return differences;
}

function connect(network: string, container: string, aliases: readonly string[]): string {
  return shellLine([
    "docker",
    "network",
    "connect",
    ...aliases.flatMap((a) => ["--alias", a]),
    network,
    container,
  ]);
}

export function compareWorkload(
  stack: string,
  workload: WorkloadInStack,
  observed: ObservedWorkload,
): Finding[] {
  const findings: Finding[] = [];
  const add = (problem: string, repair: string) => findings.push({ service: workload.name, problem, repair });
  const { network } = workload;

  if (!observed.network.exists) {
    add(
      `private network ${network.name} does not exist: the app and its sidecars cannot reach each other`,
      rebuild(stack, network, workload.members),
    );
    return findings;
  }
  const differences = networkDifferences(network, observed.network);
  if (differences.length > 0) {
    add(
      `private network ${network.name} is not as the stack says: ${differences.join("; ")}`,
      `${removeFirst(network, observed.network)} && ${rebuild(stack, network, workload.members)}`,
    );
    return findings;
  }
  const memberNames = new Set(workload.members.map((m) => m.name));
  for (const stranger of (observed.network.containers ?? []).filter((c) => !memberNames.has(c))) {
    add(
      `container ${stranger} is on private network ${network.name}, which only the app and its sidecars may share (it could call as the workload, or reach the app)`,
      shellLine(["docker", "network", "disconnect", "--force", network.name, stranger]),
    );
  }
  if (workload.egress && observed.egress && !observed.egress.exists) {
    const app = workload.members.filter((m) => m.role === "app");
    add(`egress network ${workload.egress.name} does not exist`, rebuild(stack, workload.egress, app));
    return findings;
  }

  for (const member of workload.members) {
    const facts = observed.members.get(member.name) ?? { exists: false };
    const what = member.role === "app" ? "app container" : "sidecar container";
    if (!facts.exists) {
      // A missing sidecar is MtlsService's finding (its repair recreates it on its networks).
      if (member.role === "app")
        add(`app container ${member.name} does not exist`, recreate(stack, [member.urn]));
      continue;
    }
    if (member.role === "app" && facts.status === "restarting") {
      add(
        `app container ${member.name} is restarting: it exits at start (exit code ${facts.exitCode}; see docker logs ${member.name})`,
        shellLine(["docker", "restart", member.name]),
      );
    } else if (member.role === "app" && facts.status !== "running") {
      add(
        `app container ${member.name} is ${facts.status} (exit code ${facts.exitCode})`,
        shellLine(["docker", "start", member.name]),
      );
    }
    const seen = facts.networks ?? {};
    for (const [name, aliases] of Object.entries(member.networks)) {
      const actual = seen[name];
      if (actual === undefined) {
        add(
          `${what} ${member.name} is not on network ${name}${aliases.length ? ` (aliases ${aliases.join(", ")})` : ""}`,
          connect(name, member.name, aliases),
        );
      } else {
        const missing = aliases.filter((a) => !actual.includes(a));
        if (missing.length > 0) {
          add(
            `${what} ${member.name} lacks the alias${missing.length === 1 ? "" : "es"} ${missing.join(", ")} on network ${name}`,
            `${shellLine(["docker", "network", "disconnect", name, member.name])} && ${connect(name, member.name, aliases)}`,
          );
        }
      }
    }
    for (const extra of Object.keys(seen).filter((name) => !(name in member.networks))) {
      add(
        `${what} ${member.name} is also on network ${extra}, which the stack does not give it${member.role === "app" ? " (the app must be reachable only through its sidecar)" : ""}`,
        shellLine(["docker", "network", "disconnect", extra, member.name]),
      );
    }
  }
  return findings;
}
