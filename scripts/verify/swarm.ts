/**
 * What is deployed on a swarm, from the docker CLI (DOCKER_HOST and contexts apply as for docker.ts):
 * whether the engine is a swarm manager, each service's spec (replicas, secret references) and
 * update state, its tasks, and each secret's labels. `docker secret inspect` returns a secret's
 * metadata only (Swarm never hands out secret data through its API), so no key material is read.
 */
import { docker } from "./docker.ts";

/** The engine answers but is not a swarm manager (exit 5). */
export class NotSwarmManager extends Error {
  override name = "NotSwarmManager";
}

export async function checkSwarmManager(): Promise<void> {
  const { stdout, code } = await docker([
    "info",
    "--format",
    "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
  ]);
  const state = stdout.trim();
  if (code === 0 && state === "active true") return;
  throw new NotSwarmManager(
    `the Docker engine is not a swarm manager (swarm state "${state || "unknown"}"), so it cannot show the stack's swarm services: run verify against a manager node (DOCKER_HOST), or make this engine one with scripts/swarm-init.sh`,
  );
}

export interface SecretReference {
  id: string;
  name: string;
  file: string;
}

export interface TaskFacts {
  slot?: number;
  /** The task's state: new ... starting, running, failed, ... (running means healthy for a task with a health check). */
  state: string;
  desiredState: string;
  error?: string;
}

export interface SwarmServiceFacts {
  exists: boolean;
  replicas?: number;
  secrets?: SecretReference[];
  /** UpdateStatus.State: updating, paused, completed, rollback_started, rollback_paused, rollback_completed. */
  updateState?: string;
  updateMessage?: string;
  /** The tasks Swarm wants running. */
  tasks?: TaskFacts[];
}

interface ServiceInspect {
  Spec: {
    Mode?: { Replicated?: { Replicas?: number } };
    TaskTemplate?: {
      ContainerSpec?: { Secrets?: Array<{ SecretID: string; SecretName: string; File?: { Name?: string } }> };
    };
  };
  UpdateStatus?: { State?: string; Message?: string };
}

interface TaskInspect {
  Slot?: number;
  DesiredState: string;
  Status: { State: string; Err?: string };
}

export async function inspectSwarmService(id: string): Promise<SwarmServiceFacts> {
  const inspected = await docker(["service", "inspect", "--format", "{{json .}}", id]);
  if (inspected.code !== 0) return { exists: false };
  const service = JSON.parse(inspected.stdout) as ServiceInspect;
  const ids = await docker([
    "service",
    "ps",
    "--quiet",
    "--no-trunc",
    "--filter",
    "desired-state=running",
    id,
  ]);
  const taskIds = ids.stdout.split("\n").filter(Boolean);
  let tasks: TaskFacts[] = [];
  if (taskIds.length > 0) {
    const detail = await docker(["inspect", "--type", "task", ...taskIds]);
    // A task removed between the two calls makes inspect fail; the caller settles and asks again.
    tasks =
      detail.code === 0
        ? (JSON.parse(detail.stdout) as TaskInspect[]).map((t) => ({
            slot: t.Slot,
            state: t.Status.State,
            desiredState: t.DesiredState,
            error: t.Status.Err,
          }))
        : [];
  }
  return {
    exists: true,
    replicas: service.Spec.Mode?.Replicated?.Replicas,
    secrets: (service.Spec.TaskTemplate?.ContainerSpec?.Secrets ?? []).map((s) => ({
      id: s.SecretID,
      name: s.SecretName,
      file: s.File?.Name ?? "",
    })),
    updateState: service.UpdateStatus?.State,
    updateMessage: service.UpdateStatus?.Message,
    tasks,
  };
}

export interface SecretFacts {
  exists: boolean;
  labels?: Record<string, string>;
}

export async function inspectSecret(id: string): Promise<SecretFacts> {
  const { stdout, code } = await docker(["secret", "inspect", "--format", "{{json .Spec.Labels}}", id]);
  if (code !== 0) return { exists: false };
  return { exists: true, labels: (JSON.parse(stdout) ?? {}) as Record<string, string> };
}
