/**
 * The plugin's await logic for apps/v1 Deployments (pulumi-kubernetes provider/pkg/await/
 * deployment.go, `deploymentInitAwaiter`), on the Deployment, its ReplicaSets and their Pods:
 *
 * 1. the Deployment controller has observed the current generation;
 * 2. the ReplicaSet of the Deployment's current revision (`deployment.kubernetes.io/revision`)
 *    exists, and (when the change rolled a new revision) it is not the previous one;
 * 3. its ready replicas reach its spec's replicas;
 * 4. the Deployment's `Available` condition is True and, after the first revision, its
 *    `Progressing` condition is True with reason `NewReplicaSetAvailable`.
 *
 * At the timeout it fails as the plugin does: `'<name>' timed out waiting to be Ready`, with the
 * conditions' messages, which of the steps was not reached, and each pod's own error
 * (checker/pod/check.go).
 */
import type { KubeApi, KubeObject } from "./api.ts";
import { type AwaitFailure, podErrors } from "./await-pods.ts";
import { fieldSelectorName, waitForEvents } from "./watch.ts";

const REVISION = "deployment.kubernetes.io/revision";

type Block = Record<string, unknown>;

function meta(obj: KubeObject): Block {
  return (obj.metadata ?? {}) as Block;
}

function annotation(obj: KubeObject | undefined, key: string): string | undefined {
  const a = obj ? (meta(obj).annotations as Record<string, string> | undefined) : undefined;
  return a?.[key];
}

function ownedBy(obj: KubeObject, owner: KubeObject | undefined): boolean {
  if (!owner) return false;
  const refs = (meta(obj).ownerReferences ?? []) as { uid?: string }[];
  return refs.some((r) => r.uid === meta(owner).uid);
}

function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

export async function awaitDeployment(
  api: KubeApi,
  namespace: string,
  current: KubeObject,
  last: KubeObject | undefined,
  timeoutMs: number,
): Promise<{ live: KubeObject; failure?: AwaitFailure }> {
  const name = String(current.metadata?.name);
  const currentGeneration = num(meta(current).generation) ?? 0;
  let deployment = current;
  let reconciled = false;
  let revision = "0";
  let deploymentAvailable = false;
  let replicaSetAvailable = false;
  let updatedReplicaSetReady = false;
  let errors = new Map<string, string>();
  const replicaSets = new Map<string, KubeObject>();
  const pods = new Map<string, KubeObject>();
  const lastRevision = annotation(last, REVISION);

  const currentReplicaSet = () => replicaSets.get(revision);

  const checkReplicaSet = () => {
    const rs = currentReplicaSet();
    if (revision === "0" || !rs) return;
    const spec = (rs.spec ?? {}) as Block;
    const status = (rs.status ?? {}) as Block;
    const specReplicas = num(spec.replicas) ?? 1;
    const ready = num(status.readyReplicas);
    const doneWaiting = ready !== undefined ? ready >= specReplicas : specReplicas === 0;
    const rolled = last === undefined || annotation(deployment, REVISION) !== lastRevision;
    updatedReplicaSetReady = rolled ? lastRevision !== revision && doneWaiting : doneWaiting;
  };

  const onDeployment = (obj: KubeObject, deleted: boolean) => {
    errors = new Map();
    if ((num(meta(obj).generation) ?? 0) < currentGeneration || deleted) return;
    deployment = obj;
    revision = annotation(obj, REVISION) ?? "";
    if (revision === "") return;
    const conditions = ((obj.status as Block | undefined)?.conditions ?? []) as Block[];
    for (const c of conditions) {
      const failing = c.status !== "True" && typeof c.reason === "string" && typeof c.message === "string";
      if (c.type === "Progressing") {
        if (failing) errors.set(String(c.reason), `[${c.reason}] ${c.message}`);
        replicaSetAvailable = c.reason === "NewReplicaSetAvailable" && c.status === "True";
      }
      if (c.type === "Available") {
        deploymentAvailable = c.status === "True";
        if (failing) errors.set(String(c.reason), `[${c.reason}] ${c.message}`);
      }
    }
    checkReplicaSet();
  };

  const succeeded = () =>
    reconciled &&
    (revision === "1"
      ? deploymentAvailable && updatedReplicaSetReady
      : deploymentAvailable && replicaSetAvailable && updatedReplicaSetReady);

  const ok = await waitForEvents(
    api,
    [
      { path: `/apis/apps/v1/namespaces/${namespace}/deployments`, fieldSelector: fieldSelectorName(name) },
      { path: `/apis/apps/v1/namespaces/${namespace}/replicasets` },
      { path: `/api/v1/namespaces/${namespace}/pods` },
    ],
    (source, event, control) => {
      const obj = event.object;
      const deleted = event.type === "DELETED";
      if (source === 0) {
        // waitUntilDeploymentControllerReconciles: nothing counts before the controller saw this generation.
        const observed = num((obj.status as Block | undefined)?.observedGeneration);
        if (!reconciled && observed !== undefined && observed === num(meta(obj).generation))
          reconciled = true;
        if (reconciled) onDeployment(obj, deleted);
      } else if (source === 1) {
        if (!ownedBy(obj, current)) return;
        const rsRevision = annotation(obj, REVISION) ?? "";
        if (deleted) replicaSets.delete(rsRevision);
        else replicaSets.set(rsRevision, obj);
        checkReplicaSet();
      } else {
        const uid = String(meta(obj).uid);
        if (deleted) pods.delete(uid);
        else pods.set(uid, obj);
      }
      if (succeeded()) control.done();
    },
    timeoutMs,
  );
  if (ok) return { live: deployment };

  const messages = [...errors.values()];
  if (!deploymentAvailable) messages.push("Minimum number of live Pods was not attained");
  else if (revision !== "1" && !replicaSetAvailable) {
    messages.push("Minimum number of Pods to consider the application live was not attained");
  } else if (!updatedReplicaSetReady) {
    messages.push(
      revision === "1"
        ? "Minimum number of Pods to consider the application live was not attained"
        : "Attempted to roll forward to new ReplicaSet, but minimum number of Pods did not become live",
    );
  }
  const rs = currentReplicaSet();
  messages.push(...podErrors([...pods.values()].filter((p) => ownedBy(p, rs))));
  return {
    live: deployment,
    failure: { message: `'${name}' timed out waiting to be Ready`, subErrors: messages },
  };
}
