/**
 * `pulumi preview` of @pulumi/kubernetes resources under the emulation needs no cluster (the
 * kubeconfig here names nothing that answers): Check's autoname and default namespace show in the
 * planned outputs, a Secret's data is secret, and what the emulation does not model is refused
 * before anything is planned.
 */
import * as k8s from "@pulumi/kubernetes";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { EmulatedEngine } from "./engine/engine.ts";
import { createKubernetesProvider } from "./kubernetes/provider.ts";
import { runProgram } from "./run-program.ts";

// A kubeconfig for a server nothing listens on: preview must not need it to answer.
const NOWHERE = `
apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: u, user: { token: not-a-real-token } }]
contexts: [{ name: ctx, context: { cluster: c, user: u, namespace: from-context } }]
current-context: ctx
`;

let engine: EmulatedEngine;

beforeEach(() => {
  engine = new EmulatedEngine([createKubernetesProvider({ kubeconfig: NOWHERE })]);
});

afterEach(async () => {
  await engine.destroyAll();
});

const preview = (program: () => Record<string, unknown>) =>
  runProgram({ engine, project: "proj", stack: "dev", preview: true, program: async () => program() });

describe("kubernetes preview", () => {
  test("an unnamed object is planned with the autoname <name>-<8 hex> and the pulumi.com/autonamed annotation", async () => {
    const run = await preview(() => {
      const cm = new k8s.core.v1.ConfigMap("settings", { data: { a: "1" } });
      return { name: cm.metadata.name, annotations: cm.metadata.annotations };
    });
    expect(run.exports.name).toMatch(/^settings-[0-9a-f]{8}$/);
    expect(run.exports.annotations).toEqual({ "pulumi.com/autonamed": "true" });
  });

  test("namespaced objects go to the explicit provider's namespace, else the kubeconfig context's", async () => {
    const run = await preview(() => {
      const team = new k8s.Provider("team", { kubeconfig: NOWHERE, namespace: "team-ns" });
      const mine = new k8s.core.v1.ConfigMap("mine", { data: {} }, { provider: team });
      const ambient = new k8s.core.v1.ConfigMap("ambient", { data: {} });
      return { mine: mine.metadata.namespace, ambient: ambient.metadata.namespace };
    });
    expect(run.exports).toEqual({ mine: "team-ns", ambient: "from-context" });
  });

  test("a Secret's stringData is planned as base64 data, and data is a secret output", async () => {
    const run = await preview(() => {
      const s = new k8s.core.v1.Secret("tls", {
        type: "kubernetes.io/tls",
        stringData: { "tls.crt": "PEM" },
      });
      return { data: s.data };
    });
    expect(run.exports.data).toEqual({ "tls.crt": Buffer.from("PEM").toString("base64") });
    expect(run.isSecret("data")).toBe(true);
  });

  test("a resource type the emulation does not model is refused by name", async () => {
    await expect(
      preview(() => ({
        p: new k8s.core.v1.Pod("p", { spec: { containers: [{ name: "c", image: "x" }] } }).id,
      })),
    ).rejects.toThrow(/resource type kubernetes:core\/v1:Pod is not emulated/);
  });

  test("a pulumi.com annotation the emulation does not model is refused by name", async () => {
    await expect(
      preview(() => ({
        c: new k8s.core.v1.ConfigMap("c", {
          metadata: { annotations: { "pulumi.com/waitFor": "jsonpath={.x}" } },
        }).id,
      })),
    ).rejects.toThrow(/ConfigMap "c": annotation pulumi.com\/waitFor is not emulated/);
  });

  test("metadata.generateName fails with the plugin's Server-Side Apply message", async () => {
    await expect(
      preview(() => ({ c: new k8s.core.v1.ConfigMap("c", { metadata: { generateName: "c-" } }).id })),
    ).rejects.toThrow("the `.metadata.generateName` field is not supported in Server-Side Apply mode");
  });

  test("an up against a cluster that does not answer fails with the plugin's unreachable message and the connection error", async () => {
    const run = runProgram({
      engine,
      project: "proj",
      stack: "dev",
      program: async () => ({ c: new k8s.core.v1.ConfigMap("c", { data: {} }).id }),
    });
    await expect(run).rejects.toThrow(
      /configured Kubernetes cluster is unreachable: unable to load schema information from the API server: GET "https:\/\/127\.0\.0\.1:1\/version": connect ECONNREFUSED/,
    );
  });

  test("a kubeconfig that names no context fails with one line naming it", async () => {
    const bad = new EmulatedEngine([
      createKubernetesProvider({ kubeconfig: "apiVersion: v1\nkind: Config\n" }),
    ]);
    const run = runProgram({
      engine: bad,
      project: "proj",
      stack: "dev",
      program: async () => ({ c: new k8s.core.v1.ConfigMap("c", { data: {} }).id }),
    });
    await expect(run).rejects.toThrow(
      "configured Kubernetes cluster is unreachable: kubeconfig: no current-context and no `context` given",
    );
  });

  test("a provider input the emulation does not model is refused by name", async () => {
    await expect(
      preview(() => ({ p: new k8s.Provider("p", { kubeconfig: NOWHERE, deleteUnreachable: true }).urn })),
    ).rejects.toThrow(/provider "p": input\(s\) not emulated: deleteUnreachable/);
  });
});
