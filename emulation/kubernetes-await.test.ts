/**
 * The emulated kubernetes provider waits as the plugin does, on real pods of the local cluster:
 * a Deployment until its rollout is complete (a rollout that never becomes ready fails with the
 * plugin's message and is kept, and the next up finishes it), a template change until the new
 * ReplicaSet is ready, a Service with a selector until its endpoints settle with every address
 * ready. Durations are printed, never asserted.
 */
import * as k8s from "@pulumi/kubernetes";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ensureBaseImage } from "../test/support/docker-available.ts";
import { type LocalCluster, localCluster } from "../test/support/kubernetes-cluster.ts";
import { EmulatedEngine } from "./engine/engine.ts";
import { KubeApi, type KubeObject } from "./kubernetes/api.ts";
import { cleanupKubernetesRun } from "./kubernetes/cleanup.ts";
import { resolveConnection } from "./kubernetes/kubeconfig.ts";
import { createKubernetesProvider, type KubernetesProvider } from "./kubernetes/provider.ts";
import { runProgram } from "./run-program.ts";

// Answers on 8080 once started; the readiness probe checks that port (or a wrong one).
const SERVER = `require("node:http").createServer((q, s) => s.end(process.env.WORD)).listen(8080)`;

let cluster: LocalCluster;
let api: KubeApi;
let image: string;
let namespace: string;
let kube: KubernetesProvider;
let engine: EmulatedEngine;

beforeAll(async () => {
  cluster = await localCluster();
  api = new KubeApi(resolveConnection({ kubeconfig: cluster.kubeconfig }, undefined));
  image = await ensureBaseImage();
  await cluster.loadImage(image);
  namespace = await cluster.createNamespace("emu-await");
});

afterAll(async () => {
  if (namespace) await cluster.deleteNamespace(namespace);
});

beforeEach(() => {
  kube = createKubernetesProvider({ kubeconfig: cluster.kubeconfig, runId: undefined });
  engine = new EmulatedEngine([kube]);
});

afterEach(async () => {
  try {
    await engine.destroyAll();
  } finally {
    // Whatever a failed test left, found by the run's label.
    await cleanupKubernetesRun(cluster.kubeconfig, kube.runId);
  }
});

interface Web {
  replicas?: number;
  probePort?: number;
  word?: string;
  timeoutSeconds?: number;
  skipAwait?: boolean;
}

function deployment(app: string, spec: Web = {}) {
  return new k8s.apps.v1.Deployment(app, {
    metadata: {
      namespace,
      annotations: {
        ...(spec.timeoutSeconds ? { "pulumi.com/timeoutSeconds": String(spec.timeoutSeconds) } : {}),
        ...(spec.skipAwait ? { "pulumi.com/skipAwait": "true" } : {}),
      },
    },
    spec: {
      replicas: spec.replicas ?? 1,
      selector: { matchLabels: { app } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { app } },
        spec: {
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "web",
              image,
              imagePullPolicy: "Never",
              command: ["/usr/local/bin/node", "-e", SERVER],
              env: [{ name: "WORD", value: spec.word ?? "one" }],
              readinessProbe: { tcpSocket: { port: spec.probePort ?? 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}

const up = (program: () => Record<string, unknown>) =>
  runProgram({ engine, project: "proj", stack: "dev", program: async () => program() });

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    console.log(`${label}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
  }
}

async function live(path: string): Promise<KubeObject> {
  return api.request("GET", `/apis/apps/v1/namespaces/${namespace}/deployments/${path}`);
}

describe("kubernetes await logic on real pods", () => {
  test("a Deployment is created only once its rollout is complete: every replica ready", async () => {
    const run = await timed("deployment create (2 replicas)", () =>
      up(() => ({ name: deployment("web", { replicas: 2 }).metadata.name })),
    );
    const status = (await live(String(run.exports.name))).status as Record<string, unknown>;
    expect(status).toMatchObject({ readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2 });
  });

  test("a template change is updated in place and returns once the new ReplicaSet's pods are ready", async () => {
    const first = await up(() => ({ name: deployment("roll", { word: "one" }).metadata.name }));
    const second = await timed("deployment rollout (template change)", () =>
      up(() => ({ name: deployment("roll", { word: "two" }).metadata.name })),
    );
    expect(second.ops).toMatchObject([{ op: "update", changed: ["spec"] }]);
    expect(second.exports.name).toBe(first.exports.name);
    const now = await live(String(second.exports.name));
    expect(now.metadata?.annotations).toMatchObject({ "deployment.kubernetes.io/revision": "2" });
    expect(now.status).toMatchObject({ readyReplicas: 1, updatedReplicas: 1 });
  });

  test("a rollout that never becomes ready fails with the plugin's message, is kept, and the next up finishes it", async () => {
    const broken = timed("deployment that never becomes ready (20 s timeout)", () =>
      up(() => ({ name: deployment("stuck", { probePort: 9999, timeoutSeconds: 20 }).metadata.name })),
    );
    await expect(broken).rejects.toThrow(
      /was successfully created, but the Kubernetes API server reported that it failed to fully initialize or become live: 'stuck-[0-9a-f]{8}' timed out waiting to be Ready[\s\S]*\* Minimum number of live Pods was not attained[\s\S]*\[Pod emu-await-\w+\/stuck-[\w-]+\]: containers with unready status: \[web\]/,
    );
    const kept = engine.resource("kubernetes:apps/v1:Deployment", "stuck");
    expect(kept?.id).toMatch(new RegExp(`^${namespace}/stuck-[0-9a-f]{8}$`));
    const fixed = await up(() => ({ name: deployment("stuck", { timeoutSeconds: 60 }).metadata.name }));
    expect(fixed.ops).toMatchObject([{ op: "update" }]);
    expect((await live(String(fixed.exports.name))).status).toMatchObject({ readyReplicas: 1 });
  });

  test("a Service with a selector is created once its endpoints settle with every address ready", async () => {
    const run = await timed("deployment + service with a selector", () =>
      up(() => {
        const web = deployment("svc-app");
        const svc = new k8s.core.v1.Service(
          "svc",
          {
            metadata: { namespace },
            spec: { selector: { app: "svc-app" }, ports: [{ port: 80, targetPort: 8080 }] },
          },
          { dependsOn: [web] },
        );
        return { name: svc.metadata.name };
      }),
    );
    const endpoints = await api.request<KubeObject>(
      "GET",
      `/api/v1/namespaces/${namespace}/endpoints/${run.exports.name}`,
    );
    const subsets = (endpoints.subsets ?? []) as { addresses?: unknown[]; notReadyAddresses?: unknown[] }[];
    expect(subsets.flatMap((s) => s.addresses ?? [])).toHaveLength(1);
    expect(subsets.flatMap((s) => s.notReadyAddresses ?? [])).toHaveLength(0);
  });

  test("a Service whose selected pod is not ready (a not-ready endpoint address) times out with the plugin's message", async () => {
    const run = up(() => {
      // skipAwait: the Deployment is created at once, its one pod never ready.
      const web = deployment("unready", { probePort: 9999, skipAwait: true });
      const svc = new k8s.core.v1.Service(
        "pending",
        {
          metadata: { namespace, annotations: { "pulumi.com/timeoutSeconds": "20" } },
          spec: { selector: { app: "unready" }, ports: [{ port: 80, targetPort: 8080 }] },
        },
        { dependsOn: [web] },
      );
      return { name: svc.metadata.name };
    });
    await expect(timed("service with a not-ready endpoint (20 s timeout)", () => run)).rejects.toThrow(
      /'pending-[0-9a-f]{8}' timed out waiting to be Ready[\s\S]*\* Service does not target any Pods/,
    );
  });
});
