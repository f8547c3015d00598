/**
 * The plugin's pod checker (pulumi-kubernetes provider/pkg/await/checker/pod/check.go) as the
 * Deployment awaiter reports it at a timeout: per pod, the first of scheduled / initialized /
 * ready that is not met, as `[Pod <namespace>/<name>]: <condition message><container errors>`
 * (warnings only: an unscheduled pod is a status line there, not an error).
 */
import type { KubeObject } from "./api.ts";

/** An await that did not end in success: the plugin's error and its sub-errors. */
export interface AwaitFailure {
  message: string;
  subErrors: string[];
}

type Block = Record<string, unknown>;

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: Terminated };
  lastState?: { terminated?: Terminated };
}

interface Terminated {
  reason?: string;
  message?: string;
  exitCode?: number;
  finishedAt?: string;
}

function trimImagePullMsg(msg: string): string {
  return msg
    .replace(/^rpc error: code = Unknown desc = Error response from daemon: /, "")
    .replace(/: manifest unknown$/, "");
}

function containerErrors(status: ContainerStatus): string[] {
  if (status.ready) return [];
  const out: string[] = [];
  const waiting = status.state?.waiting;
  if (waiting && waiting.reason !== "ContainerCreating") {
    out.push(`[${waiting.reason ?? ""}] ${trimImagePullMsg(waiting.message ?? "")}`);
  }
  const terminated = status.state?.terminated;
  if (terminated?.reason) {
    out.push(
      terminated.message
        ? `[${terminated.reason}] ${trimImagePullMsg(terminated.message)}`
        : `container "${status.name}" completed with exit code ${terminated.exitCode ?? 0}`,
    );
  }
  const last = status.lastState?.terminated;
  if (last) {
    const finished = last.finishedAt ? new Date(last.finishedAt).toISOString().replace(".000Z", "Z") : "";
    out.push(
      `container "${status.name}" terminated at ${finished} (${last.reason ?? ""}: exit code ${last.exitCode ?? 0})`,
    );
    if (last.message) out.push(last.message);
  }
  return out;
}

function fullyQualifiedName(pod: KubeObject): string {
  const ns = pod.metadata?.namespace;
  const name = String(pod.metadata?.name);
  return ns && ns !== "default" ? `${ns}/${name}` : name;
}

function podError(pod: KubeObject, condition: Condition): string | undefined {
  const statuses = ((pod.status as Block | undefined)?.containerStatuses ?? []) as ContainerStatus[];
  const errors = statuses.flatMap(containerErrors);
  const conditionMessage = condition.reason && condition.message ? condition.message : "";
  if (errors.length === 0 && !condition.message) return undefined;
  return `[Pod ${fullyQualifiedName(pod)}]: ${conditionMessage}${errors.join("\n")}`;
}

export function podErrors(pods: readonly KubeObject[]): string[] {
  const out: string[] = [];
  for (const pod of pods) {
    const status = (pod.status ?? {}) as Block;
    const conditions = (status.conditions ?? []) as Condition[];
    const find = (type: string) => conditions.find((c) => c.type === type);
    const scheduled = find("PodScheduled");
    if (scheduled?.status !== "True") continue; // a status message, not a warning
    const initialized = find("Initialized");
    if (!initialized) continue;
    if (initialized.status !== "True") {
      const message = podError(pod, initialized);
      if (message) out.push(message);
      continue;
    }
    const ready = find("Ready");
    if (!ready || ready.status === "True" || status.phase === "Succeeded") continue;
    const message = podError(pod, ready);
    if (message) out.push(message);
  }
  return out;
}
