/**
 * The local cluster (scripts/kubernetes/cluster.sh) is a real one: a pod runs an image loaded
 * from the local Docker engine (nothing is pulled), and another pod reaches it through a
 * ClusterIP Service, i.e. through the scheduler, the kubelet, containerd, the CNI bridge and
 * kube-proxy's rules.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/docker-available.ts";
import { endedPod, type LocalCluster, localCluster } from "../support/kubernetes-cluster.ts";

// A tiny HTTP server on the project's base image (Node only: no shell, no package manager). It
// answers with its pod's name, which the downward API gives it, and ends on SIGTERM (as PID 1 it
// would otherwise ignore it, and the pod's deletion would wait out the grace period).
const SERVER = `
require("node:http").createServer((req, res) => res.end("served by " + process.env.POD_NAME))
  .listen(8080);
process.on("SIGTERM", () => process.exit(0));
`;
// The client fetches once through the Service's cluster IP and prints what it got; it retries
// while kube-proxy's rules for a new Service are still being written (the node refuses the cluster
// IP until then: cluster.sh's unreachable route for the service range). An answer other than 200
// is printed as such: it came from something else than the server pod.
const CLIENT = `
const url = "http://" + process.env.TARGET + "/";
(async () => {
  for (let i = 0; ; i++) {
    try { const r = await fetch(url); console.log(r.ok ? await r.text() : "HTTP " + r.status); return; }
    catch (error) { if (i === 100) throw error; await new Promise((r) => setTimeout(r, 200)); }
  }
})().catch((error) => { console.error(String(error.cause ?? error)); process.exit(1); });
`;

/** The image the pods run: the project's base image, loaded from Docker (set in beforeAll). */
let IMAGE = "";

const hardened = {
  runAsNonRoot: true,
  runAsUser: 65534,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

function pod(name: string, labels: Record<string, string>, script: string, env: object[], restart: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels },
    spec: {
      restartPolicy: restart,
      automountServiceAccountToken: false,
      containers: [
        {
          name: "node",
          image: IMAGE,
          imagePullPolicy: "Never",
          command: ["/usr/local/bin/node", "-e", script],
          env,
          securityContext: hardened,
          ...(restart === "Always"
            ? { readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }
            : {}),
        },
      ],
    },
  };
}

let cluster: LocalCluster;
let namespace = "";

beforeAll(async () => {
  cluster = await localCluster();
  IMAGE = await ensureBaseImage();
  await cluster.loadImage(IMAGE);
  namespace = await cluster.createNamespace("cluster-check");
});

afterAll(async () => {
  if (namespace) await cluster.deleteNamespace(namespace);
});

describe("the local Kubernetes cluster", () => {
  it("runs a pod from an image loaded from the local Docker engine", async () => {
    const server = pod(
      "echo-server",
      { app: "echo" },
      SERVER,
      [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      "Always",
    );
    await cluster.run(["-n", namespace, "apply", "-f", "-"], JSON.stringify(server));
    await cluster.run([
      "-n",
      namespace,
      "wait",
      "--for=condition=Ready",
      "pod/echo-server",
      "--timeout=120s",
    ]);

    const status = JSON.parse(
      await cluster.run(["-n", namespace, "get", "pod", "echo-server", "-o", "json"]),
    );
    expect(status.status.phase).toBe("Running");
    expect(status.status.containerStatuses[0].image).toBe(`docker.io/library/${IMAGE}`);
    // The image's id in the cluster is the one Docker has: the same image, not a pulled one.
    const dockerId = execFileSync("docker", ["image", "inspect", "--format", "{{.Id}}", IMAGE], {
      encoding: "utf8",
    }).trim();
    expect(status.status.containerStatuses[0].imageID).toContain(dockerId.replace(/^sha256:/, ""));
  });

  it("lets one pod reach another through a ClusterIP Service", async () => {
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "echo" },
      spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: 8080 }] },
    };
    await cluster.run(["-n", namespace, "apply", "-f", "-"], JSON.stringify(service));
    const clusterIp = await cluster.run([
      "-n",
      namespace,
      "get",
      "service",
      "echo",
      "-o",
      "jsonpath={.spec.clusterIP}",
    ]);
    expect(clusterIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    const client = pod(
      "echo-client",
      { app: "client" },
      CLIENT,
      [{ name: "TARGET", value: clusterIp }],
      "Never",
    );
    await cluster.run(["-n", namespace, "apply", "-f", "-"], JSON.stringify(client));
    // Until it has ended either way; its logs say why when it failed.
    const { phase, logs } = await endedPod(cluster, namespace, "echo-client");
    expect({ phase, logs: logs.trim() }).toEqual({ phase: "Succeeded", logs: "served by echo-server" });
  });
});
