/**
 * The stack creates its namespace and deletes it on destroy, with everything in it: a namespace
 * that already exists and is not this stack's (another stack's label, or none) is refused before
 * anything is declared, in one line naming the key, the namespace and its owner. On the real
 * cluster, through the program under the emulation; no pod runs.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { localCluster } from "../support/kubernetes-cluster.ts";
import { kubernetesStack } from "./support/kubernetes-stack.ts";

const cluster = await localCluster();
const namespaces: string[] = [];

beforeAll(async () => {
  namespaces.push(await cluster.createNamespace("mtls-owned"), await cluster.createNamespace("mtls-plain"));
  await cluster.run(["label", "namespace", namespaces[0]!, "mtls-pki/owner=mtls-pki.other"]);
}, 120_000);
afterAll(async () => {
  for (const ns of namespaces) await cluster.deleteNamespace(ns);
}, 180_000);

it.each([
  ["another stack's", 0, "exists and belongs to the stack mtls-pki.other"],
  ["an unlabelled", 1, "exists and is no mtls-pki stack's (it has no mtls-pki/owner label)"],
])(
  "refuses %s namespace before declaring anything",
  async (_, index, owner) => {
    const k = await kubernetesStack(cluster);
    const namespace = namespaces[index]!;
    const error = await k.apply({ namespace }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(
      `mtls-pki:namespace (Pulumi.kubernetes.yaml): "${namespace}" ${owner}; this stack would take it over and delete it on destroy: name another namespace`,
    );
    expect(k.stack.engine.registrations).toHaveLength(0);
    // Still there, untouched.
    expect((await cluster.run(["get", "namespace", namespace, "-o", "name"])).trim()).toBe(
      `namespace/${namespace}`,
    );
  },
  120_000,
);
