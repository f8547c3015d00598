/**
 * Removes every object a test run made on a cluster, found by the run label the emulation puts
 * on each (`mtls-pki.test-run=<run id>`): Deployments, Services, Secrets and ConfigMaps in any
 * namespace, then the run's Namespaces (and whatever is still inside them), waiting until they
 * are gone. For a crashed or interrupted run; a normal one ends with `engine.destroyAll()`.
 */
import { KubeApi, type KubeObject } from "./api.ts";
import { KINDS, NAMESPACE_TYPE, objectPath } from "./kinds.ts";
import { resolveConnection } from "./kubeconfig.ts";
import { RUN_LABEL } from "./objects.ts";
import { fieldSelectorName, waitForEvents } from "./watch.ts";

export interface KubernetesCleanupReport {
  /** `<kind> <namespace>/<name>` of each object removed. */
  removed: string[];
}

async function deleteAndWait(api: KubeApi, path: string, collection: string, name: string): Promise<void> {
  const body = { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Foreground" };
  await api.request("DELETE", path, { body, accept: [404] });
  await waitForEvents(
    api,
    [
      {
        path: collection,
        fieldSelector: fieldSelectorName(name),
        onList: (items, control) => {
          if (items.length === 0) control.done();
        },
      },
    ],
    (_s, event, control) => {
      if (event.type === "DELETED") control.done();
    },
    180_000,
  );
}

export async function cleanupKubernetesRun(
  kubeconfig: string,
  runId: string,
): Promise<KubernetesCleanupReport> {
  const api = new KubeApi(resolveConnection({ kubeconfig }, undefined));
  const labelSelector = `${RUN_LABEL}=${runId}`;
  const removed: string[] = [];
  const ordered = Object.entries(KINDS).sort(
    ([a], [b]) => Number(a === NAMESPACE_TYPE) - Number(b === NAMESPACE_TYPE),
  );
  for (const [, info] of ordered) {
    const all = `${info.groupPath}/${info.plural}`;
    const list = await api.request<{ items: KubeObject[] }>("GET", all, { query: { labelSelector } });
    for (const item of list.items) {
      const name = String(item.metadata?.name);
      const namespace = item.metadata?.namespace;
      await deleteAndWait(api, objectPath(info, namespace, name), objectPath(info, namespace), name);
      removed.push(`${info.kind} ${namespace ? `${namespace}/` : ""}${name}`);
    }
  }
  return { removed };
}
