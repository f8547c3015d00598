/**
 * The emulated kubernetes provider against the local cluster's real API server: autonaming,
 * Secret data as secrets, replacement on immutable fields (create-first under a new name, or
 * delete-first for a named object), in-place updates by server-side apply with the resource's own
 * field manager, strict field validation, and a destroy that leaves nothing.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type LocalCluster, localCluster } from "../test/support/kubernetes-cluster.ts";
import { EmulatedEngine } from "./engine/engine.ts";
import { KubeApi, KubeApiError, type KubeObject } from "./kubernetes/api.ts";
import { cleanupKubernetesRun } from "./kubernetes/cleanup.ts";
import { resolveConnection } from "./kubernetes/kubeconfig.ts";
import { createKubernetesProvider, type KubernetesProvider } from "./kubernetes/provider.ts";
import { runProgram } from "./run-program.ts";

let cluster: LocalCluster;
let api: KubeApi;
let kube: KubernetesProvider;
let engine: EmulatedEngine;

beforeAll(async () => {
  cluster = await localCluster();
  api = new KubeApi(resolveConnection({ kubeconfig: cluster.kubeconfig }, undefined));
});

beforeEach(() => {
  kube = createKubernetesProvider({ kubeconfig: cluster.kubeconfig });
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

const up = (program: () => Record<string, unknown>) =>
  runProgram({ engine, project: "proj", stack: "dev", program: async () => program() });

async function get(path: string): Promise<KubeObject | undefined> {
  try {
    return await api.request("GET", path);
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 404) return undefined;
    throw err;
  }
}

/** A namespace of the test's own (autonamed), and what the program puts in it. */
function inNamespace(body: (ns: k8s.core.v1.Namespace) => Record<string, unknown>) {
  return () => {
    const ns = new k8s.core.v1.Namespace("emu");
    return { namespace: ns.metadata.name, ...body(ns) };
  };
}

const nsOf = (ns: k8s.core.v1.Namespace) => ({ namespace: ns.metadata.name });

describe("kubernetes objects on the real API server", () => {
  test("unnamed objects are created as <name>-<8 hex> with the pulumi.com/autonamed annotation, and the id is namespace/name", async () => {
    const run = await up(
      inNamespace((ns) => {
        const cm = new k8s.core.v1.ConfigMap("settings", { metadata: nsOf(ns), data: { a: "1" } });
        return { name: cm.metadata.name, id: cm.id };
      }),
    );
    const { namespace, name, id } = run.exports as Record<string, string>;
    expect(namespace).toMatch(/^emu-[0-9a-f]{8}$/);
    expect(name).toMatch(/^settings-[0-9a-f]{8}$/);
    expect(id).toBe(`${namespace}/${name}`);
    const live = await get(`/api/v1/namespaces/${namespace}/configmaps/${name}`);
    expect(live?.metadata?.annotations).toMatchObject({ "pulumi.com/autonamed": "true" });
    expect(live?.data).toEqual({ a: "1" });
  });

  test("a Secret's stringData reaches the cluster as data, and data is a secret output", async () => {
    const run = await up(
      inNamespace((ns) => {
        const s = new k8s.core.v1.Secret("creds", { metadata: nsOf(ns), stringData: { token: "s3cret" } });
        return { name: s.metadata.name, data: s.data };
      }),
    );
    const { namespace, name } = run.exports as Record<string, string>;
    expect(run.isSecret("data")).toBe(true);
    expect(run.exports.data).toEqual({ token: Buffer.from("s3cret").toString("base64") });
    const live = await get(`/api/v1/namespaces/${namespace}/secrets/${name}`);
    expect(live?.data).toEqual({ token: Buffer.from("s3cret").toString("base64") });
  });

  test("a changed Secret data replaces it create-first under a new name; the old one is deleted after", async () => {
    const program = (token: string) =>
      inNamespace((ns) => {
        const s = new k8s.core.v1.Secret("creds", { metadata: nsOf(ns), stringData: { token } });
        return { name: s.metadata.name };
      });
    const first = await up(program("one"));
    const second = await up(program("two"));
    const namespace = String(first.exports.namespace);
    expect(second.ops.find((o) => o.name === "creds")).toMatchObject({ op: "replace", changed: ["data"] });
    expect(second.exports.name).not.toBe(first.exports.name);
    const creates = engine.calls.filter((c) => c.name === "creds").map((c) => c.method);
    expect(creates).toEqual(["create", "delete"]);
    expect(await get(`/api/v1/namespaces/${namespace}/secrets/${first.exports.name}`)).toBeUndefined();
    expect(await get(`/api/v1/namespaces/${namespace}/secrets/${second.exports.name}`)).toBeDefined();
  });

  test("a named object whose immutable field changes is replaced delete-first under the same name", async () => {
    const program = (headless: boolean) =>
      inNamespace((ns) => {
        const svc = new k8s.core.v1.Service("svc", {
          metadata: { name: "fixed", namespace: ns.metadata.name },
          spec: { ports: [{ port: 80 }], ...(headless ? { clusterIP: "None" } : {}) },
        });
        return { uid: svc.metadata.uid, clusterIP: svc.spec.clusterIP };
      });
    const first = await up(program(false));
    const second = await up(program(true));
    expect(second.ops.find((o) => o.name === "svc")).toMatchObject({ op: "replace", changed: ["spec"] });
    expect(engine.calls.filter((c) => c.name === "svc").map((c) => c.method)).toEqual(["delete", "create"]);
    expect(second.exports.uid).not.toBe(first.exports.uid);
    expect(second.exports.clusterIP).toBe("None");
  });

  test("an update is applied in place by the resource's own field manager, which then owns the create's fields", async () => {
    const program = (labels: Record<string, string>) =>
      inNamespace((ns) => {
        const cm = new k8s.core.v1.ConfigMap("cfg", { metadata: { ...nsOf(ns), labels }, data: { a: "1" } });
        return { name: cm.metadata.name, uid: cm.metadata.uid };
      });
    const first = await up(program({ keep: "yes", drop: "me" }));
    const second = await up(program({ keep: "yes" }));
    expect(second.ops.find((o) => o.name === "cfg")).toMatchObject({ op: "update", changed: ["metadata"] });
    expect(second.exports.uid).toBe(first.exports.uid);
    const live = await get(`/api/v1/namespaces/${first.exports.namespace}/configmaps/${first.exports.name}`);
    // The label the program dropped is gone: the apply manager owned it (taken over from the create).
    expect(live?.metadata?.labels).toEqual({ keep: "yes", "mtls-pki.test-run": kube.runId });
    const manager = String(engine.resource("kubernetes:core/v1:ConfigMap", "cfg")?.outputs.__fieldManager);
    expect(manager).toMatch(/^pulumi-kubernetes-[0-9a-f]{8}$/);
    const managers = ((live?.metadata?.managedFields ?? []) as { manager: string; operation: string }[]).map(
      (m) => `${m.manager}/${m.operation}`,
    );
    expect(managers).toEqual([`${manager}/Apply`]);
  });

  test("an explicit Provider's kubeconfig and namespace place the objects it serves, and destroy removes them through it", async () => {
    const run = await up(() => {
      const ns = new k8s.core.v1.Namespace("emu");
      const scoped = new k8s.Provider("scoped", {
        kubeconfig: cluster.kubeconfig,
        namespace: ns.metadata.name,
      });
      const cm = new k8s.core.v1.ConfigMap("cfg", { data: { a: "1" } }, { provider: scoped });
      return { namespace: ns.metadata.name, cmNamespace: cm.metadata.namespace, name: cm.metadata.name };
    });
    expect(run.exports.cmNamespace).toBe(run.exports.namespace);
    expect(
      await get(`/api/v1/namespaces/${run.exports.namespace}/configmaps/${run.exports.name}`),
    ).toBeDefined();
    await engine.destroyAll();
    const order = engine.calls.filter((c) => c.method === "delete").map((c) => c.type);
    expect(order).toEqual(["kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Namespace"]);
    expect(await get(`/api/v1/namespaces/${run.exports.namespace}`)).toBeUndefined();
  });

  test("a field the API does not know is refused by its strict validation, naming the field", async () => {
    const run = up(
      inNamespace((ns) => {
        const svc = new k8s.core.v1.Service("bad", {
          metadata: nsOf(ns),
          spec: { ports: [{ port: 80 }], portz: 1 } as k8s.types.input.core.v1.ServiceSpec,
        });
        return { name: svc.metadata.name };
      }),
    );
    await expect(run).rejects.toThrow(
      /was not successfully created by the Kubernetes API server: .*unknown field "spec.portz"/,
    );
  });

  test("destroy deletes everything, waiting until the namespace is gone, and leaves nothing labelled with the run", async () => {
    const run = await up(
      inNamespace((ns) => {
        new k8s.core.v1.ConfigMap("cfg", { metadata: nsOf(ns), data: { a: "1" } });
        const s = new k8s.core.v1.Secret("s", { metadata: nsOf(ns), stringData: { a: "1" } });
        return { secret: s.metadata.name as pulumi.Output<string> };
      }),
    );
    await engine.destroyAll();
    expect(await get(`/api/v1/namespaces/${run.exports.namespace}`)).toBeUndefined();
    const report = await cleanupKubernetesRun(cluster.kubeconfig, kube.runId);
    expect(report.removed).toEqual([]);
  });
});
