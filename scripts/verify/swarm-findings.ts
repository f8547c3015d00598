/**
 * A swarm stack's services and secrets versus the stack, one finding per problem, each with the one
 * command that repairs it, in the vocabulary of findings.ts:
 * - a service scaled away from the stack's replicas: `docker service scale`;
 * - fewer running (healthy) tasks than replicas, or an update Swarm paused: `docker service update
 *   --force`, which rolls fresh tasks with the service's own start-first, health-gated update;
 * - an update Swarm rolled back (the service runs its previous spec, not the stack's): `refresh
 *   --target` + `up --target` of the service, so the provider reads the spec and applies the stack's;
 * - a secret reference that differs from the stack's (removed, or pointing at another secret):
 *   `docker service update --secret-rm/--secret-add` with the stack's own mount (file, owner, mode),
 *   which rolls the tasks and leaves the service as the state describes it;
 * - a declared secret Swarm no longer has: `refresh --target` (drops it) + `up --target` of the
 *   secret and the service (a new secret, and the service rolled onto it);
 * - a certificate secret whose chain label is not the SHA-256 of the stack's chain:
 *   `up --target-replace` of that secret (a new secret from the state, the service rolled onto it).
 */
import { type Finding, pulumi, recreate } from "./findings.ts";
import { shellLine } from "./shell.ts";
import type { SecretFacts, SwarmServiceFacts } from "./swarm.ts";
import { CHAIN_LABEL, type SwarmServiceInStack } from "./swarm-stack.ts";

export interface SwarmObserved {
  service: SwarmServiceFacts;
  /** By secret id. */
  secrets: Map<string, SecretFacts>;
}

const octal = (mode: number) => `0${mode.toString(8)}`;

export function compareSwarm(
  stack: string,
  declared: SwarmServiceInStack,
  observed: SwarmObserved,
): Finding[] {
  const findings: Finding[] = [];
  const add = (problem: string, repair: string) => findings.push({ service: declared.name, problem, repair });
  const { service } = declared;
  const what = `swarm service ${service.name}`;

  const missingSecrets = declared.secrets.filter((s) => !observed.secrets.get(s.id)?.exists);
  for (const secret of missingSecrets) {
    add(
      `swarm secret ${secret.name} (${secret.id}) does not exist`,
      recreate(stack, [secret.urn, service.urn]),
    );
  }
  for (const secret of declared.secrets) {
    const facts = observed.secrets.get(secret.id);
    if (!facts?.exists || secret.chainSha256 === undefined) continue;
    const label = facts.labels?.[CHAIN_LABEL];
    if (label !== secret.chainSha256) {
      add(
        `swarm secret ${secret.name}: its ${CHAIN_LABEL} label is ${label ? label.slice(0, 12) : "missing"}, the stack's chain hashes to ${secret.chainSha256.slice(0, 12)}`,
        pulumi(stack, "up", "--target-replace", secret.urn),
      );
    }
  }

  const actual = observed.service;
  if (!actual.exists) {
    add(`${what} does not exist`, recreate(stack, [service.urn]));
    return findings;
  }

  // References: exactly the declared secrets, no other (a missing secret is repaired above).
  const declaredIds = new Set(declared.secrets.map((s) => s.id));
  const actualIds = new Set((actual.secrets ?? []).map((s) => s.id));
  const foreign = (actual.secrets ?? []).filter((s) => !declaredIds.has(s.id));
  const unreferenced = declared.secrets.filter((s) => !actualIds.has(s.id) && !missingSecrets.includes(s));
  if (foreign.length > 0 || unreferenced.length > 0) {
    const parts = [
      ...unreferenced.map((s) => `does not mount ${s.name}${s.mount ? ` at ${s.mount.file}` : ""}`),
      ...foreign.map((s) => `mounts ${s.name} (${s.id}) at ${s.file}, which the stack does not declare`),
    ];
    const words = ["docker", "service", "update", "--detach=false"];
    // The CLI removes a reference by its secret name, not its id.
    for (const s of foreign) words.push("--secret-rm", s.name);
    for (const s of unreferenced) {
      const mount = s.mount;
      words.push(
        "--secret-add",
        mount
          ? `source=${s.name},target=${mount.file},uid=${mount.uid},gid=${mount.gid},mode=${octal(mount.mode)}`
          : `source=${s.name}`,
      );
    }
    words.push(service.name);
    add(`${what} ${parts.join("; ")}`, shellLine(words));
  }

  const force = shellLine(["docker", "service", "update", "--force", "--detach=false", service.name]);
  if (actual.updateState === "rollback_completed") {
    add(
      `${what}: Swarm rolled its last update back (${actual.updateMessage ?? "no message"}), so it runs its previous spec, not the stack's`,
      recreate(stack, [service.urn]),
    );
  } else if (actual.updateState === "paused" || actual.updateState === "rollback_paused") {
    add(
      `${what}: its ${actual.updateState === "paused" ? "update" : "rollback"} is paused (${actual.updateMessage ?? "no message"}; see docker service ps ${service.name})`,
      force,
    );
  }

  if (actual.replicas !== service.replicas) {
    add(
      `${what} is scaled to ${actual.replicas ?? "no fixed number of"} replicas, the stack says ${service.replicas}`,
      shellLine(["docker", "service", "scale", "--detach=false", `${service.name}=${service.replicas}`]),
    );
    return findings;
  }
  const tasks = actual.tasks ?? [];
  const running = new Set(tasks.filter((t) => t.state === "running").map((t) => t.slot)).size;
  if (running < service.replicas && !findings.some((f) => f.repair === force)) {
    const others = tasks
      .filter((t) => t.state !== "running")
      .map((t) => `task ${t.slot ?? "?"} ${t.state}${t.error ? `: ${t.error}` : ""}`);
    add(
      `${what} has ${running}/${service.replicas} tasks running and healthy${others.length ? ` (${others.join("; ")})` : ""} (see docker service ps ${service.name})`,
      force,
    );
  }
  return findings;
}
