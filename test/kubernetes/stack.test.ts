/**
 * End to end on the real single-node cluster: the kubernetes stack (Pulumi.kubernetes.yaml)
 * deployed through the program under the emulation, in a namespace of this run's own, then what a
 * user does with it, in order on one deployment: the two server pods answer a caller pod over mTLS
 * behind the Service named as the server's certificate; a stranger pod (no certificate, or one of
 * another CA) is refused; the pods run restricted with the identity mounted read-only; no key
 * material is in any plaintext output, state, pod spec or annotation; a leaf rotation rolls the
 * server pods with zero failed calls from the caller pod, and leaves no old Secret; destroy leaves
 * nothing in the namespace, and the namespace goes too. Figures (deploy and rotation times, calls)
 * are printed, never asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/eventually.ts";
import { localCluster } from "../support/kubernetes-cluster.ts";
import { createCa, issueLeaf } from "../support/pki-fixtures/pki.ts";
import { type CallerPod, type CallRecord, callOnce, startCallerPod } from "./support/caller-pod.ts";
import {
  getJson,
  type KubeList,
  type KubernetesStack,
  kubernetesStack,
  readyPods,
  serverImage,
} from "./support/kubernetes-stack.ts";

const SECRET = "kubernetes:core/v1:Secret";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const cluster = await localCluster();

describe("the kubernetes stack on a real single-node cluster", () => {
  let k: KubernetesStack;
  let caller: CallerPod | undefined;
  let image: string;
  const server = () => ({
    name: "mtls-server",
    ip: k.outputs.kubernetes.serverService.clusterIp,
    port: 8443,
  });
  const ns = () => k.namespace;
  const okCalls = (calls: CallRecord[]) => calls.filter((c) => c.ok);

  beforeAll(async () => {
    k = await kubernetesStack(cluster);
    const ms = await k.apply();
    console.info(
      `kubernetes stack: first up (images built and loaded, every rollout complete) in ${(ms / 1000).toFixed(1)} s`,
    );
    image = await serverImage(cluster, k);
  }, 900_000);
  afterAll(async () => {
    await caller?.stop().catch(() => undefined);
    await k?.destroy();
  }, 300_000);

  it("answers a caller pod over mTLS from both server pods, behind the Service named as the certificate", async () => {
    expect(k.outputs.kubernetes.namespace).toBe(ns());
    expect(k.outputs.kubernetes.serverService.name).toBe("mtls-server");
    caller = await startCallerPod(cluster, {
      namespace: ns(),
      image,
      server: server(),
      credentials: k.outputs.clientCredentials["client-a"]!,
    });
    const calls = await eventually(
      () => caller!.calls(),
      (list) => new Set(okCalls(list).map((c) => c.servedBy)).size >= 2,
      120_000,
    );
    const pods = (await readyPods(cluster, ns(), "mtls-server")).map((p) => p.metadata.name).sort();
    expect(pods).toHaveLength(2);
    expect([...new Set(okCalls(calls).map((c) => c.servedBy))].sort()).toEqual(pods);
    expect(new Set(okCalls(calls).map((c) => c.serial))).toEqual(new Set([k.outputs.server.serialNumber]));
  });

  it("refuses a stranger pod: without a certificate at the handshake, with another CA's certificate with 400", async () => {
    const caPem = k.outputs.clientCredentials["client-a"]!.caPem;
    const none = await callOnce(cluster, {
      namespace: ns(),
      image,
      server: server(),
      credentials: { caPem },
    });
    expect(none.ok).toBe(false);
    expect(none.code).toMatch(/CERTIFICATE_REQUIRED/);
    const otherCa = await createCa({ commonName: "a stranger's CA" });
    const stranger = await issueLeaf(otherCa, { commonName: "client-a", purpose: "client" });
    const foreign = await callOnce(cluster, {
      namespace: ns(),
      image,
      server: server(),
      credentials: { certPem: stranger.chainPem, keyPem: stranger.keyPem, caPem },
    });
    expect(foreign).toMatchObject({ ok: false, error: "HTTP 400" });
  });

  it("runs restricted pods with the identity as a kubernetes.io/tls Secret, read-only at /etc/mtls, group 10001 only", async () => {
    const namespace = await getJson<{ metadata: { labels: Record<string, string> } }>(cluster, [
      "get",
      "namespace",
      ns(),
    ]);
    expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const secretId = k.stack.engine.resource(SECRET, "mtls-server-tls")!.id!;
    const name = secretId.split("/").at(-1)!;
    const secret = await getJson<{ type: string; data: Record<string, string> }>(cluster, [
      "-n",
      ns(),
      "get",
      "secret",
      name,
    ]);
    expect(secret.type).toBe("kubernetes.io/tls");
    expect(Object.keys(secret.data).sort()).toEqual(["ca.crt", "tls.crt", "tls.key"]);

    const [pod] = await readyPods(cluster, ns(), "mtls-server");
    const script = `const fs=require("fs");const out={uid:process.getuid(),gid:process.getgid(),files:{}};
for (const f of ["tls.crt","tls.key","ca.crt","policy.json"]) { const s=fs.statSync("/etc/mtls/"+f); out.files[f]={mode:(s.mode&0o777).toString(8),gid:s.gid}; }
try { fs.writeFileSync("/etc/mtls/x",""); out.write="allowed"; } catch (e) { out.write=e.code; }
try { fs.writeFileSync("/tmp/x",""); out.root="writable"; } catch (e) { out.root=e.code; }
console.log(JSON.stringify(out));`;
    const seen = JSON.parse(
      await cluster.run(["-n", ns(), "exec", pod!.metadata.name, "-c", "server", "--", "node", "-e", script]),
    );
    console.info(`kubernetes identity files in a server pod: ${JSON.stringify(seen)}`);
    expect(seen.uid).toBe(10001);
    expect(seen.gid).toBe(10001);
    for (const file of ["tls.crt", "tls.key", "ca.crt", "policy.json"]) {
      // defaultMode 0400; the kubelet adds the fsGroup's read bit.
      expect(seen.files[file], file).toEqual({ mode: "440", gid: 10001 });
    }
    expect(seen.write).toBe("EROFS");
    expect(seen.root).toBe("EROFS");
  });

  it("keeps key material out of every plaintext output, resource state, pod spec and annotation", async () => {
    const pems = k.stack.engine
      .resources()
      .filter((r) => r.type === "tls:index/privateKey:PrivateKey")
      .flatMap((r) => [r.outputs.privateKeyPem, r.outputs.privateKeyPemPkcs8].map(String));
    expect(pems.length).toBeGreaterThanOrEqual(8);
    const material = pems.flatMap((pem) => [pem.trim(), Buffer.from(pem).toString("base64")]);
    const holdsKey = (value: unknown) => {
      const text = JSON.stringify(value) ?? "";
      return material.some((m) => text.includes(m)) || text.includes("PRIVATE KEY");
    };
    for (const output of Object.keys(k.deployment!.run.exports).filter(
      (n) => !k.deployment!.run.isSecret(n),
    )) {
      expect(holdsKey(k.deployment!.run.exports[output]), output).toBe(false);
    }
    let holders = 0;
    for (const resource of k.stack.engine.resources().filter((r) => r.custom)) {
      for (const [property, value] of Object.entries(resource.outputs)) {
        if (!holdsKey(value)) continue;
        holders++;
        expect(resource.secretOutputs, `${resource.name}.${property}`).toContain(property);
      }
    }
    expect(holders).toBeGreaterThan(0);
    // What anyone with read access to the namespace's workloads sees: no key in any spec,
    // environment or annotation (the Secrets themselves are the only place).
    const objects = await getJson<KubeList<unknown>>(cluster, [
      "-n",
      ns(),
      "get",
      "deployments,replicasets,pods,services,configmaps",
    ]);
    expect(objects.items.length).toBeGreaterThan(5);
    expect(holdsKey(objects)).toBe(false);
  });

  it("rotates a leaf with zero failed calls from the caller pod: the server pods roll onto a new Secret, the old one goes", async () => {
    const oldSerial = k.outputs.server.serialNumber;
    const oldSecret = k.stack.engine.resource(SECRET, "mtls-server-tls")!.id;
    const before = (await caller!.calls()).length;
    // A new validity re-issues every leaf certificate (LocallySignedCert replaces on it).
    const ms = await k.apply({ leafValidityHours: "25" });
    const newSerial = k.outputs.server.serialNumber;
    expect(newSerial).not.toBe(oldSerial);
    expect(k.op(SECRET, "mtls-server-tls")).toBe("replace");
    expect(k.op(DEPLOYMENT, "mtls-server")).toBe("update");
    expect(k.stack.engine.resource(SECRET, "mtls-server-tls")!.id).not.toBe(oldSecret);
    // `up` returned after the rollout: the caller soon hears only the new certificate, from both pods.
    await eventually(
      () => caller!.calls(),
      (list) =>
        new Set(
          okCalls(list.slice(before))
            .filter((c) => c.serial === newSerial)
            .map((c) => c.servedBy),
        ).size >= 2,
      60_000,
    );
    const calls = (await caller!.calls()).slice(before);
    const failed = calls.filter((c) => !c.ok);
    const switched = calls.find((c) => c.serial === newSerial);
    console.info(
      `kubernetes leaf rotation: up (rollout of 2 server pods included) ${(ms / 1000).toFixed(1)} s; ${calls.length} calls, ${failed.length} failed, answered by ${new Set(calls.map((c) => c.servedBy)).size} server pods; first call with the new leaf ${switched ? ((switched.at - calls[0]!.at) / 1000).toFixed(1) : "?"} s after the first of the rotation`,
    );
    expect(failed).toEqual([]);
    expect(calls.length).toBeGreaterThan(20);
    expect(new Set(calls.map((c) => c.serial))).toEqual(new Set([oldSerial, newSerial]));
    // Exactly the Secrets the stack declares: the old server Secret is gone.
    const secrets = await getJson<KubeList<{ metadata: { name: string } }>>(cluster, [
      "-n",
      ns(),
      "get",
      "secrets",
      "-l",
      "app.kubernetes.io/part-of=mtls-pki",
    ]);
    const declared = k.stack.engine
      .resources()
      .filter((r) => r.type === SECRET)
      .map((r) => r.id!.split("/").at(-1)!)
      .sort();
    expect(secrets.items.map((s) => s.metadata.name).sort()).toEqual(declared);
  }, 600_000);

  it("destroy leaves nothing in the namespace, and removes the namespace", async () => {
    await caller?.stop();
    caller = undefined;
    await k.destroy();
    const left = await cluster.run(["get", "namespace", ns(), "--ignore-not-found", "-o", "name"]);
    expect(left.trim()).toBe("");
    const anywhere = await getJson<KubeList<{ metadata: { namespace: string } }>>(cluster, [
      "get",
      "deployments,pods,services,secrets,configmaps",
      "-A",
    ]);
    expect(anywhere.items.filter((item) => item.metadata.namespace === ns())).toEqual([]);
  }, 300_000);
});
