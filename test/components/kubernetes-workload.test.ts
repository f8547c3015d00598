/**
 * MtlsKubernetesWorkload in preview under the emulated engine: the app and our sidecars in one pod,
 * each sidecar a native sidecar (an init container with restartPolicy Always, started before the
 * app once its startup probe passes); the app on the pod's loopback, reached only through the
 * server sidecar (which adds XFCC), or calling its servers through tunnels on loopback; only the
 * sidecars see the identity; each bad arg refused in one line. The pod's behaviour on a real
 * cluster (start order, restarts, recovery) is test/kubernetes's.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MtlsKubernetesWorkload, type MtlsKubernetesWorkloadArgs } from "../../components/index.ts";
import { createCa, issueLeaf, type Leaf } from "../support/pki-fixtures/pki.ts";
import { type ComponentRun, refusal, runComponents } from "./harness.ts";
import { expectNoPlaintextKey, K8S } from "./kubernetes-helpers.ts";

type Container = Record<string, unknown> & { name: string; env: { name: string; value: string }[] };
type Pod = {
  initContainers?: Container[];
  containers: Container[];
  volumes: unknown[];
  hostAliases?: unknown;
};

let leaf: Leaf;
let caPem: string;
beforeAll(async () => {
  const ca = await createCa({ commonName: "kubernetes workload test CA" });
  caPem = ca.certPem;
  leaf = await issueLeaf(ca, { commonName: "hello", purpose: "server", dnsNames: ["hello"] });
});

const workload = (name: string, args: Partial<MtlsKubernetesWorkloadArgs>) =>
  new MtlsKubernetesWorkload(name, {
    role: "server",
    image: "mtls-service:k8s-0123456789ab",
    imagePullPolicy: "Never",
    identity: { chainPem: leaf.chainPem, privateKeyPem: leaf.keyPem, caBundlePem: caPem },
    namespace: "mtls-test",
    appImage: "mtls-demo-app:k8s-ba9876543210",
    appImagePullPolicy: "Never",
    ...args,
  } as MtlsKubernetesWorkloadArgs);
const preview = (program: () => void) =>
  runComponents(
    () => {
      program();
      return {};
    },
    { preview: true },
  );
const podOf = (run: ComponentRun, name: string) =>
  (run.child(K8S.deployment, name).inputs.spec as { template: { spec: Pod } }).template.spec;
const envOf = (container: Container) => Object.fromEntries(container.env.map((e) => [e.name, e.value]));

describe("a server workload's pod", () => {
  let run: ComponentRun;
  let pod: Pod;
  beforeAll(async () => {
    run = await preview(() => workload("hello", { appPort: 8080, allowedClients: ["caller"] }));
    pod = podOf(run, "hello");
  });

  it("runs the server sidecar as a native sidecar, started (its startup probe passed) before the app", () => {
    expect(pod.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([["sidecar", "Always"]]);
    const sidecar = pod.initContainers![0]!;
    expect(sidecar.startupProbe).toMatchObject({ httpGet: { path: "/readyz", port: "status" } });
    expect(sidecar.readinessProbe).toMatchObject({ httpGet: { path: "/readyz", port: "status" } });
    expect(pod.containers.map((c) => c.name)).toEqual(["app"]);
  });

  it("puts the app on the pod's loopback, reached through the sidecar as an HTTP upstream", () => {
    const sidecar = envOf(pod.initContainers![0]!);
    expect(sidecar).toMatchObject({
      MTLS_LISTEN: "0.0.0.0:8443",
      MTLS_UPSTREAM: "http://127.0.0.1:8080",
      MTLS_STATUS_LISTEN: "0.0.0.0:9090",
    });
    expect(envOf(pod.containers[0]!)).toEqual({ MTLS_APP_PORT: "8080", MTLS_APP_HOST: "127.0.0.1" });
    // No port of the app is declared: nothing but the sidecar is meant to reach it.
    expect(pod.containers[0]!.ports).toBeUndefined();
  });

  it("mounts the identity into the sidecar only, and hardens the app as the sidecar", () => {
    expect(pod.initContainers![0]!.volumeMounts).toEqual([
      { name: "identity", mountPath: "/etc/mtls", readOnly: true },
    ]);
    expect(pod.containers[0]!.volumeMounts).toBeUndefined();
    expect(pod.containers[0]!.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      runAsUser: 10001,
      runAsGroup: 10001,
    });
    expect(pod.containers[0]!.lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
    expectNoPlaintextKey(run, leaf.keyPem);
  });

  it("lets in only its callers (the policy file) and is reached through a Service named after it", () => {
    const data = run.child(K8S.configMap, "hello-policy").inputs.data as Record<string, string>;
    expect(JSON.parse(data["policy.json"]!).allowedClients).toEqual(["caller"]);
    expect(run.child(K8S.service, "hello-service").inputs).toMatchObject({
      metadata: { name: "hello", namespace: "mtls-test" },
      spec: { ports: [{ name: "mtls", port: 8443, targetPort: "mtls", protocol: "TCP" }] },
    });
  });
});

describe("a client workload's pod", () => {
  it("has one tunnel sidecar per call on the pod's loopback, each with a status port of its own", async () => {
    const run = await preview(() =>
      workload("caller", {
        role: "client",
        calls: [
          { name: "hello", serverUrl: "https://hello:8443", localPort: 15001 },
          { name: "orders", serverUrl: "https://orders:8443", localPort: 15002 },
        ],
        hostAliases: [{ ip: "10.96.0.20", hostnames: ["hello"] }],
      }),
    );
    const pod = podOf(run, "caller");
    expect(pod.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ["tunnel-hello", "Always"],
      ["tunnel-orders", "Always"],
    ]);
    expect(envOf(pod.initContainers![0]!)).toMatchObject({
      MTLS_SERVER_URL: "https://hello:8443",
      MTLS_LOCAL_LISTEN: "127.0.0.1:15001",
      MTLS_STATUS_LISTEN: "0.0.0.0:9091",
    });
    expect(envOf(pod.initContainers![1]!)).toMatchObject({
      MTLS_LOCAL_LISTEN: "127.0.0.1:15002",
      MTLS_STATUS_LISTEN: "0.0.0.0:9092",
    });
    expect(envOf(pod.containers[0]!)).toEqual({
      MTLS_TUNNEL_HELLO: "127.0.0.1:15001",
      MTLS_TUNNEL_ORDERS: "127.0.0.1:15002",
    });
    expect(pod.hostAliases).toEqual([{ ip: "10.96.0.20", hostnames: ["hello"] }]);
    expect(run.run.registrations.map((r) => r.type)).not.toContain(K8S.service);
  });
});

describe("MtlsKubernetesWorkload refusals", () => {
  const call = (localPort: number, name = "hello") => ({
    name,
    serverUrl: `https://${name}:8443`,
    localPort,
  });
  it.each([
    [{ appPort: 8443 }, "appPort: 8443 is taken in the pod by the sidecar"],
    [{ appPort: 9090 }, "appPort: 9090 is taken in the pod by the sidecar"],
    [
      { role: "client", calls: [call(9092), call(15001, "b")] },
      "calls[0].localPort: 9092 is a tunnel's status port in this pod",
    ],
    [
      { role: "client", calls: [call(15001), call(15001, "b")] },
      "calls[1].localPort: 15001 is another call's port",
    ],
    [{ appPort: 8080, appUser: "app" }, 'appUser: "app" is not a numeric uid:gid'],
    [{ appPort: 8080, appUser: "0:0" }, 'appUser: "0:0" is root'],
    [{ appPort: 8080, subnet: "172.16.0.0/28" }, "subnet: is an MtlsWorkload (Docker) arg"],
    [{ role: "client", calls: [call(15001)], appPort: 8080 }, "appPort: is for a server; this is a client"],
  ] as [Record<string, unknown>, string][])("refuses %j in one line naming the arg", async (args, line) => {
    const { message, registrations } = await refusal(
      () => workload("hello", args as Partial<MtlsKubernetesWorkloadArgs>),
      {
        preview: true,
      },
    );
    expect(message).toContain(`mtls:kubernetes:MtlsKubernetesWorkload "hello": ${line}`);
    expect(registrations.filter((r) => r.type.startsWith("kubernetes:"))).toEqual([]);
  });
});
