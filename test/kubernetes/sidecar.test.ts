/**
 * End to end on the real single-node cluster, the workloads of Pulumi.kubernetes.yaml: the demo app
 * `hello` behind a server sidecar and the demo app `caller` calling it through a tunnel sidecar,
 * each one pod with native sidecars. The caller's app calls plain HTTP on its pod's loopback and
 * gets hello's answer with the identity hello's sidecar verified (x-forwarded-client-cert); the
 * kubelet started each sidecar before its app. Then it recovers by itself, each time with a call
 * answered again: a deleted pod (the Deployment makes a new one), a killed sidecar container (the
 * kubelet restarts it, the app runs on), and a kubelet restart (the pods run on).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { localCluster } from "../support/kubernetes-cluster.ts";
import {
  type ContainerStatus,
  getJson,
  type KubernetesStack,
  kubernetesStack,
  type Pod,
  readyPods,
} from "./support/kubernetes-stack.ts";

const cluster = await localCluster();

interface AppCall {
  event: string;
  time: string;
  tunnel?: string;
  status?: number;
  error?: string;
  body?: string;
}

describe("workloads as native sidecars on a real single-node cluster", () => {
  let k: KubernetesStack;
  const ns = () => k.namespace;

  /** The caller app's calls since `since` (ms), from its container's log. */
  const appCalls = async (since = 0): Promise<AppCall[]> => {
    const [pod] = await readyPods(cluster, ns(), "caller");
    if (!pod) return [];
    const logs = await cluster.run(["-n", ns(), "logs", pod.metadata.name, "-c", "app"]);
    return logs
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as AppCall)
      .filter((c) => c.event === "call" && Date.parse(c.time) >= since);
  };
  /** Resolves once the caller's app has had an answer from hello after `since`. */
  const answeredAfter = (since: number, timeoutMs = 120_000) =>
    eventually(
      () => appCalls(since),
      (calls) => calls.some((c) => c.status === 200),
      timeoutMs,
    );
  const helloPod = async () => (await readyPods(cluster, ns(), "hello"))[0]!;
  const status = (pod: Pod, name: string): ContainerStatus =>
    [...(pod.status.initContainerStatuses ?? []), ...(pod.status.containerStatuses ?? [])].find(
      (s) => s.name === name,
    )!;

  beforeAll(async () => {
    k = await kubernetesStack(cluster);
    const ms = await k.apply();
    console.info(`kubernetes sidecar stack: first up in ${(ms / 1000).toFixed(1)} s`);
  }, 900_000);
  afterAll(async () => {
    await k?.destroy();
  }, 300_000);

  it("serves the caller app's plain calls over mTLS, with the identity hello's sidecar verified", async () => {
    const calls = await answeredAfter(0);
    const answered = calls.find((c) => c.status === 200)!;
    const body = JSON.parse(answered.body!) as { app: string; xfcc: string };
    expect(body.app).toBe("demo-server");
    expect(body.xfcc).toMatch(
      /^By=spiffe:\/\/kubernetes\.mtls\.internal\/hello;Hash=[0-9a-f]{64};Subject="CN=caller,O=mtls-pki kubernetes";URI=spiffe:\/\/kubernetes\.mtls\.internal\/caller$/,
    );
    expect(k.outputs.kubernetes.workloads).toMatchObject({
      hello: { containers: { app: "app", sidecars: ["sidecar"] }, service: "hello" },
      caller: { containers: { app: "app", sidecars: ["tunnel-hello"] } },
    });
  });

  it("started each sidecar as a native sidecar, before its app", async () => {
    for (const name of ["hello", "caller"]) {
      const [pod] = await readyPods(cluster, ns(), name);
      const sidecar = pod!.status.initContainerStatuses![0]!;
      const app = status(pod!, "app");
      expect(sidecar.ready, name).toBe(true);
      expect(
        Date.parse(sidecar.state!.running!.startedAt) <= Date.parse(app.state!.running!.startedAt),
        name,
      ).toBe(true);
    }
  });

  it("comes back by itself from a deleted pod", async () => {
    const old = await helloPod();
    const since = Date.now();
    await cluster.run(["-n", ns(), "delete", "pod", old.metadata.name, "--wait=false"]);
    const fresh = await eventually(
      () => readyPods(cluster, ns(), "hello"),
      (pods) => pods.length === 1 && pods[0]!.metadata.name !== old.metadata.name,
      120_000,
    );
    await answeredAfter(Math.max(since, Date.parse(status(fresh[0]!, "app").state!.running!.startedAt)));
    const calls = await appCalls(since);
    console.info(
      `kubernetes sidecar, deleted pod: ${calls.length} calls until answered again, ${calls.filter((c) => c.status !== 200).length} not answered`,
    );
  }, 300_000);

  it("comes back by itself from a killed sidecar container: the kubelet restarts it, the app runs on", async () => {
    const pod = await helloPod();
    const before = { sidecar: status(pod, "sidecar"), app: status(pod, "app") };
    const since = Date.now();
    await cluster.killContainer(before.sidecar.containerID!);
    const after = await eventually(
      () => helloPod(),
      (p) => status(p, "sidecar").restartCount > before.sidecar.restartCount && status(p, "sidecar").ready,
      120_000,
    );
    expect(after.metadata.name).toBe(pod.metadata.name);
    expect(status(after, "app").restartCount).toBe(before.app.restartCount);
    expect(status(after, "app").containerID).toBe(before.app.containerID);
    await answeredAfter(Date.parse(status(after, "sidecar").state!.running!.startedAt));
    const calls = await appCalls(since);
    console.info(
      `kubernetes sidecar, killed sidecar: ${calls.length} calls until answered again, ${calls.filter((c) => c.status !== 200).length} not answered`,
    );
  }, 300_000);

  it("comes back by itself from a kubelet restart: the pods run on", async () => {
    const before = await getJson<{ items: Pod[] }>(cluster, ["-n", ns(), "get", "pods"]);
    const since = Date.now();
    await cluster.restartKubelet();
    await answeredAfter(since);
    const after = await getJson<{ items: Pod[] }>(cluster, ["-n", ns(), "get", "pods"]);
    // The same pods, each of its containers the same: the kubelet adopted what was running.
    const ids = (list: { items: Pod[] }) =>
      list.items
        .flatMap((p) => [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])])
        .map((s) => s.containerID)
        .sort();
    expect(ids(after)).toEqual(ids(before));
  }, 300_000);
});
