/**
 * Why a rotation on Kubernetes rolls the pods (README, "Kubernetes"): a Secret updated in place does
 * reach a running pod's mounted file, but only when the kubelet next syncs that pod, with nothing to
 * tell anyone when every pod has it. Measured on the real cluster: one Secret, one pod mounting it
 * as the components do (projected, 0400, fsGroup 10001), the Secret's data replaced, the file read
 * in the pod until it holds the new value. The delay is printed, never asserted; what is asserted
 * is that the refresh does happen, in place, without a restart.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBaseImage } from "../support/docker-available.ts";
import { eventually } from "../support/eventually.ts";
import { localCluster } from "../support/kubernetes-cluster.ts";
import { getJson, type Pod } from "./support/kubernetes-stack.ts";

const cluster = await localCluster();

describe("a Secret updated in place, seen from a running pod", () => {
  let ns: string;
  const secret = (value: string) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "refresh", namespace: ns },
    stringData: { value },
  });

  beforeAll(async () => {
    const image = await ensureBaseImage();
    await cluster.loadImage(image);
    ns = await cluster.createNamespace("mtls-refresh");
    await cluster.run(["apply", "-f", "-"], JSON.stringify(secret("first")));
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "reader", namespace: ns },
      spec: {
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
        containers: [
          {
            name: "reader",
            image,
            imagePullPolicy: "Never",
            command: ["node", "-e", "setInterval(() => {}, 1 << 30)"],
            volumeMounts: [{ name: "s", mountPath: "/etc/mtls", readOnly: true }],
          },
        ],
        volumes: [
          { name: "s", projected: { defaultMode: 0o400, sources: [{ secret: { name: "refresh" } }] } },
        ],
      },
    };
    await cluster.run(["apply", "-f", "-"], JSON.stringify(pod));
    await eventually(
      () => getJson<Pod>(cluster, ["-n", ns, "get", "pod", "reader"]),
      (p) => p.status.phase === "Running",
      120_000,
    );
  }, 300_000);
  afterAll(async () => {
    if (ns) await cluster.deleteNamespace(ns);
  }, 180_000);

  it("reaches the mounted file in place, at the kubelet's next sync of the pod (the delay printed)", async () => {
    const read = () =>
      cluster.run([
        "-n",
        ns,
        "exec",
        "reader",
        "--",
        "node",
        "-e",
        'process.stdout.write(require("fs").readFileSync("/etc/mtls/value","utf8"))',
      ]);
    expect(await read()).toBe("first");
    const next = `second-${randomBytes(4).toString("hex")}`;
    const started = Date.now();
    await cluster.run(["apply", "-f", "-"], JSON.stringify(secret(next)));
    await eventually(read, (value) => value === next, 300_000);
    const seconds = (Date.now() - started) / 1000;
    const pod = await getJson<Pod>(cluster, ["-n", ns, "get", "pod", "reader"]);
    expect(pod.status.containerStatuses?.[0]?.restartCount).toBe(0);
    console.info(
      `kubernetes: a Secret updated in place reached the running pod's file after ${seconds.toFixed(1)} s (no restart)`,
    );
  }, 360_000);
});
