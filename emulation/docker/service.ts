/**
 * docker.Service's lifecycle as the provider runs it (`resourceDockerServiceCreate/Update/Delete`):
 *
 *   create  → ServiceCreate(spec) → with `convergeConfig`, poll until every replica has a running
 *             task (a task with a health check reaches "running" only once healthy), else fail
 *             with "Service with ID (...) did not converge after <timeout>" (the service is removed);
 *   update  → ServiceUpdate(spec, version) in place: Swarm rolls the tasks per `updateConfig`;
 *             with `convergeConfig`, poll the service's UpdateStatus until "completed"; a rollback
 *             or a pause fails the update with the provider's message;
 *   delete  → ServiceRemove (Swarm stops the tasks afterwards).
 *
 * The provider waits a fixed 7 s before its first poll of an update; the emulation instead waits
 * for an UpdateStatus that started after its own update call, so it sees the same end state sooner.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  Inputs,
  UpdateRequest,
} from "../engine/provider.ts";
import { parseGoDuration } from "./container-schema.ts";
import { diffProperties } from "./diff.ts";
import { dockerApi } from "./engine-api.ts";
import { autoname, labelMap } from "./naming.ts";
import { checkService, SERVICE_RULES, SERVICE_TYPE, type ServiceSecretRef } from "./service-schema.ts";

export { SERVICE_TYPE };

type Block = Record<string, unknown>;

export function diffService(req: DiffRequest): DiffResult {
  const news = checkService(req.name, req.newInputs);
  if (news.name === undefined && req.oldInputs.name === undefined) news.name = req.oldState.name;
  const { changed, replaces } = diffProperties(SERVICE_RULES, req.oldState, news);
  if (changed.length === 0) return { kind: "none" };
  if (replaces.length > 0) {
    return { kind: "replace", changed, deleteBeforeReplace: req.newInputs.name !== undefined };
  }
  return { kind: "update", changed };
}

const ns = (text: unknown) => (typeof text === "string" ? parseGoDuration(text) : undefined);

function updateConfigSpec(block: Block | undefined): Block | undefined {
  if (!block) return undefined;
  return {
    Parallelism: block.parallelism ?? 1,
    Delay: ns(block.delay) ?? 0,
    FailureAction: block.failureAction ?? "pause",
    Monitor: ns(block.monitor) ?? 5e9,
    MaxFailureRatio: Number(block.maxFailureRatio ?? 0),
    Order: block.order ?? "stop-first",
  };
}

/** Checked inputs → the Engine API's ServiceSpec, as the provider's createServiceSpec fills it. */
function serviceSpec(name: string, inputs: Inputs, runId: string): Block {
  const task = inputs.taskSpec as Block;
  const container = task.containerSpec as Block;
  const health = container.healthcheck as Block | undefined;
  const limits = (task.resources as Block | undefined)?.limits as Block | undefined;
  const restart = task.restartPolicy as Block | undefined;
  const env = (container.env ?? {}) as Record<string, string>;
  return {
    Name: name,
    Labels: labelMap(inputs.labels, runId),
    TaskTemplate: {
      ContainerSpec: {
        Image: container.image,
        Command: container.commands,
        Args: container.args,
        Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
        User: container.user,
        ReadOnly: container.readOnly ?? false,
        CapabilityAdd: container.capAdds,
        CapabilityDrop: container.capDrops,
        StopGracePeriod: ns(container.stopGracePeriod),
        Healthcheck: health && {
          Test: health.tests,
          Interval: ns(health.interval) ?? 0,
          Timeout: ns(health.timeout) ?? 0,
          StartPeriod: ns(health.startPeriod) ?? 0,
          Retries: health.retries ?? 0,
        },
        Secrets: ((container.secrets ?? []) as ServiceSecretRef[]).map((ref) => ({
          SecretID: ref.secretId,
          SecretName: ref.secretName,
          File: {
            Name: ref.fileName,
            UID: ref.fileUid ?? "0",
            GID: ref.fileGid ?? "0",
            Mode: ref.fileMode ?? 0o444,
          },
        })),
      },
      Resources: limits && { Limits: { MemoryBytes: limits.memoryBytes, NanoCPUs: limits.nanoCpus } },
      RestartPolicy: restart && {
        Condition: restart.condition,
        Delay: ns(restart.delay),
        MaxAttempts: restart.maxAttempts,
        Window: ns(restart.window),
      },
      LogDriver: task.logDriver && {
        Name: (task.logDriver as Block).name,
        Options: (task.logDriver as Block).options,
      },
      Networks: ((task.networksAdvanceds ?? []) as Block[]).map((n) => ({
        Target: n.id,
        Aliases: n.aliases,
      })),
      ForceUpdate: task.forceUpdate ?? 0,
    },
    Mode: {
      Replicated: { Replicas: (inputs.mode as { replicated: { replicas: number } }).replicated.replicas },
    },
    UpdateConfig: updateConfigSpec(inputs.updateConfig as Block | undefined),
    RollbackConfig: updateConfigSpec(inputs.rollbackConfig as Block | undefined),
    EndpointSpec: { Mode: (inputs.endpointSpec as { mode: string }).mode },
  };
}

interface ServiceInspect {
  ID: string;
  Version: { Index: number };
  UpdateStatus?: { State: string; StartedAt?: string; Message?: string };
}

interface Task {
  Slot?: number;
  DesiredState: string;
  Status: { State: string; Err?: string };
}

async function inspectService(id: string): Promise<ServiceInspect> {
  return (await dockerApi("GET", `/services/${id}`)).body as ServiceInspect;
}

/** Every replica has a running task (the provider's replicated updater, without its console). */
async function allReplicasRunning(id: string, replicas: number): Promise<boolean> {
  const filters = JSON.stringify({ service: [id], "desired-state": ["running"] });
  const tasks = (await dockerApi("GET", "/tasks", { query: { filters } })).body as Task[];
  const running = new Set(tasks.filter((t) => t.Status.State === "running").map((t) => t.Slot));
  return running.size >= replicas;
}

function convergeTimeout(inputs: Inputs): { ms: number; text: string } {
  const text = String((inputs.convergeConfig as Block).timeout ?? "3m");
  return { ms: (parseGoDuration(text) ?? 180e9) / 1e6, text };
}

async function waitCreated(id: string, inputs: Inputs): Promise<void> {
  const timeout = convergeTimeout(inputs);
  const deadline = Date.now() + timeout.ms;
  const replicas = (inputs.mode as { replicated: { replicas: number } }).replicated.replicas;
  while (!(await allReplicasRunning(id, replicas))) {
    if (Date.now() > deadline) {
      // The provider removes a service that did not converge.
      await dockerApi("DELETE", `/services/${id}`, { accept: [404] });
      throw new Error(`Service with ID (${id}) did not converge after ${timeout.text}`);
    }
    await sleep(500);
  }
}

async function waitUpdated(id: string, inputs: Inputs, since: number): Promise<void> {
  const timeout = convergeTimeout(inputs);
  const deadline = Date.now() + timeout.ms;
  const replicas = (inputs.mode as { replicated: { replicas: number } }).replicated.replicas;
  for (;;) {
    const status = (await inspectService(id)).UpdateStatus;
    const current = status?.StartedAt && Date.parse(status.StartedAt) >= since - 1000 ? status : undefined;
    const message = current?.Message ?? "";
    switch (current?.State) {
      case "completed":
        return;
      case "rollback_completed":
        throw new Error(`service rollback completed: ${message}`);
      case "paused":
        throw new Error(`service update paused: ${message}`);
      case "rollback_paused":
        throw new Error(`service rollback paused: ${message}`);
      case undefined:
        // A spec change that rolls no task (e.g. only the replica count) has no new UpdateStatus.
        if (Date.now() - since > 3000 && (await allReplicasRunning(id, replicas))) return;
    }
    if (Date.now() > deadline)
      throw new Error(`Service with ID (${id}) did not converge after ${timeout.text}`);
    await sleep(500);
  }
}

export async function createService(req: CreateRequest, runId: string): Promise<CreateResult> {
  const inputs = checkService(req.name, req.inputs);
  const name = (inputs.name as string | undefined) ?? autoname(req.name);
  const state = { ...inputs, name };
  if (req.preview) return { id: "", state };
  const { body } = await dockerApi("POST", "/services/create", { json: serviceSpec(name, inputs, runId) });
  const id = (body as { ID: string }).ID;
  if (inputs.convergeConfig) await waitCreated(id, inputs);
  return { id, state };
}

export async function updateService(req: UpdateRequest, runId: string): Promise<CreateResult> {
  const inputs = checkService(req.name, req.inputs);
  const name = req.oldState.name as string;
  const state = { ...inputs, name };
  if (req.preview) return { id: req.id, state };
  const { Version } = await inspectService(req.id);
  const since = Date.now();
  await dockerApi("POST", `/services/${req.id}/update`, {
    query: { version: Version.Index },
    json: serviceSpec(name, inputs, runId),
  });
  if (inputs.convergeConfig) await waitUpdated(req.id, inputs, since);
  return { id: req.id, state };
}

export async function deleteService(req: DeleteRequest): Promise<void> {
  await dockerApi("DELETE", `/services/${req.id}`, { accept: [404] });
}
