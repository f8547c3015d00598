/**
 * End to end on the real single-node cluster, the staged CA rotation (README, "Rotating the CA") on
 * the kubernetes runtime: Pulumi.kubernetes.yaml (two server pods) deployed through the program and
 * the emulation, then ["1"] -> ["1","2"] -> issuingCa "2" -> ["2"], one `up` each, while a caller
 * pod makes a new mTLS connection per call with the stack's exported client credentials, taking the
 * new ones after each `up` as a caller re-reading the outputs would.
 *
 * Each step changes what the server pods mount (a bundle or a leaf): a new Secret, and a rollout
 * (a new pod ready before an old one stops) that `up` waits for. Old and new pods serve side by side
 * for a moment; that is never a trust gap, for the reasons the swarm test gives: the step that
 * changes what the servers present comes after every bundle holds root 2, and the step that drops
 * root 1 after the caller holds a generation-2 certificate.
 */
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { localCluster } from "../support/kubernetes-cluster.ts";
import { type CallerPod, type CallRecord, startCallerPod } from "./support/caller-pod.ts";
import { type KubernetesStack, kubernetesStack, readyPods, serverImage } from "./support/kubernetes-stack.ts";

const SECRET = "kubernetes:core/v1:Secret";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const cluster = await localCluster();

function certificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}
const plainHex = (fingerprint: string) => fingerprint.replaceAll(":", "").toLowerCase();

describe("the staged CA rotation on a real single-node cluster", () => {
  let k: KubernetesStack;
  let caller: CallerPod | undefined;
  let image: string;

  beforeAll(async () => {
    k = await kubernetesStack(cluster);
    await k.apply();
    image = await serverImage(cluster, k);
  }, 900_000);
  afterAll(async () => {
    await caller?.stop().catch(() => undefined);
    await k?.destroy();
  }, 300_000);

  it("rotates the CA in three ups with zero failed calls from a caller pod, ending with only generation 2", async () => {
    caller = await startCallerPod(cluster, {
      namespace: k.namespace,
      image,
      server: { name: "mtls-server", ip: k.outputs.kubernetes.serverService.clusterIp, port: 8443 },
      credentials: k.outputs.clientCredentials["client-a"]!,
    });
    await eventually(
      () => caller!.calls(),
      (list) => list.some((c) => c.ok),
      120_000,
    );
    const figures: string[] = [];
    let counted = (await caller.calls()).length;
    const step = async (what: string, change: Record<string, string>) => {
      const ms = await k.apply(change);
      // Every step changes what the server pods mount, so every step rolls them.
      expect(k.op(DEPLOYMENT, "mtls-server"), what).toBe("update");
      expect(k.op(SECRET, "mtls-server-tls"), what).toBe("replace");
      const version = await caller!.useCredentials(k.outputs.clientCredentials["client-a"]!);
      const calls = await eventually(
        () => caller!.calls(),
        (list) => list.some((c) => c.credentials === version && c.ok),
        60_000,
      );
      const mine = calls.slice(counted);
      figures.push(
        `${what}: up ${(ms / 1000).toFixed(1)} s, ${mine.length} calls, ${mine.filter((c) => !c.ok).length} failed`,
      );
      counted = calls.length;
      return version;
    };
    const oldSerial = k.outputs.server.serialNumber;
    const root1 = plainHex(k.outputs.ca.roots["1"]!.fingerprintSha256);

    await step("add generation 2", { caGenerations: '["1","2"]', issuingCa: "1" });
    expect(k.outputs.ca.generations).toEqual(["1", "2"]);
    expect(k.outputs.server.serialNumber).toBe(oldSerial);
    await step("issue from generation 2", { issuingCa: "2" });
    const newLeaf = k.outputs.server.serialNumber;
    expect(newLeaf).not.toBe(oldSerial);
    const last = await step("drop generation 1", { caGenerations: '["2"]' });
    expect(k.outputs.ca.generations).toEqual(["2"]);
    const deleted = k.deployment!.run.ops.filter((o) => o.op === "delete").map((o) => o.name);
    expect(deleted).toEqual(expect.arrayContaining(["pki-root", "pki-root-key"]));

    const calls: CallRecord[] = await eventually(
      () => caller!.calls(),
      (list) =>
        new Set(
          list.filter((c) => c.ok && c.credentials === last && c.serial === newLeaf).map((c) => c.servedBy),
        ).size >= 2,
      60_000,
    );
    await caller.stop();
    caller = undefined;
    const failed = calls.filter((c) => !c.ok);
    console.info(
      `kubernetes CA rotation: ${calls.length} calls, ${failed.length} failed, answered by ${new Set(calls.map((c) => c.servedBy)).size} server pods; ${figures.join("; ")}`,
    );
    expect(failed).toEqual([]);
    expect(new Set(calls.map((c) => c.serial))).toEqual(new Set([oldSerial, newLeaf]));
    // Rolled three times: more pods answered than run at once.
    expect(new Set(calls.map((c) => c.servedBy)).size).toBeGreaterThan(2);

    // Every server pod's bundle holds root 2 only, and its leaf is issued by root 2.
    const [anchor] = certificates(k.outputs.clientCredentials["client-a"]!.caPem);
    expect(plainHex(anchor!.fingerprint256)).not.toBe(root1);
    const read = `process.stdout.write(JSON.stringify({ca:require("fs").readFileSync("/etc/mtls/ca.crt","utf8"),crt:require("fs").readFileSync("/etc/mtls/tls.crt","utf8")}))`;
    const pods = await readyPods(cluster, k.namespace, "mtls-server");
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      const files = JSON.parse(
        await cluster.run([
          "-n",
          k.namespace,
          "exec",
          pod.metadata.name,
          "-c",
          "server",
          "--",
          "node",
          "-e",
          read,
        ]),
      ) as { ca: string; crt: string };
      expect(certificates(files.ca).map((c) => plainHex(c.fingerprint256))).toEqual([
        plainHex(anchor!.fingerprint256),
      ]);
      const [leaf] = certificates(files.crt);
      expect(leaf!.checkIssued(anchor!) && leaf!.verify(anchor!.publicKey), pod.metadata.name).toBe(true);
    }
  }, 1_200_000);
});
