/**
 * End to end on a real single-node swarm, the staged CA rotation (README, "Rotating the CA") on the
 * swarm runtime: Pulumi.swarm.yaml (two server replicas) deployed through the program and the
 * provider emulation, then ["1"] -> ["1","2"] -> issuingCa "2" -> ["2"], one `up` each, while a
 * caller on the overlay network makes a new mTLS connection per call with the stack's exported
 * client credentials, taking the new ones after each `up` as a caller re-reading the outputs would.
 *
 * Each `up` replaces the changed secrets create-first (new names), updates the services in place,
 * and Swarm rolls the tasks one at a time, start-first and health-gated, so old and new tasks serve
 * side by side for a moment. That is never a trust gap: the step that changes what the servers
 * present (issuingCa "2") comes after every bundle, the caller's included, already holds root 2,
 * and the step that drops root 1 from the servers' bundles comes after the caller holds a
 * certificate of generation 2. The only condition on the caller is the one README states: take the
 * new credentials after each step, before the next one.
 */
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerApi, RUN_LABEL } from "../../emulation/index.ts";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { ensureBaseImage } from "../support/docker-available.ts";
import { eventually } from "../support/eventually.ts";
import { stackConfig } from "../support/stack-files.ts";
import { swarmSkipReason } from "../support/swarm-available.ts";
import { jsonLogs } from "./containers.ts";
import { type CallRecord, type NetworkCaller, startNetworkCaller } from "./network-caller.ts";

const execute = promisify(execFile);

interface Outputs {
  networkName: string;
  serviceNames: { server: string; clients: Record<string, string> };
  server: { serialNumber: string; fingerprintSha256: string };
  clientCredentials: Record<string, { certPem: string; keyPem: string; caPem: string }>;
  ca: { generations: string[]; issuing: string; roots: Record<string, { fingerprintSha256: string }> };
}

interface SwarmService {
  ID: string;
  Spec: { TaskTemplate: { ContainerSpec: { Secrets: { SecretID: string }[] } } };
  UpdateStatus?: { State: string; StartedAt?: string; Message?: string };
}

interface SwarmTask {
  Spec: { ContainerSpec: { Secrets?: { SecretID: string }[] } };
  Status: { State: string; ContainerStatus?: { ContainerID: string } };
}

const SECRET = "docker:index/secret:Secret";
const SERVICE = "docker:index/service:Service";
const skip = await swarmSkipReason();

/** Splits a PEM bundle into its certificates. */
function certificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}

/** One spelling for a fingerprint, whoever prints it (colons or not, either case). */
const plainHex = (fingerprint: string) => fingerprint.replaceAll(":", "").toLowerCase();

/** A file a task was given, read inside its container (the image has Node, no shell tools). */
async function taskFile(containerId: string, path: string): Promise<string> {
  const script = `process.stdout.write(require("node:fs").readFileSync(${JSON.stringify(path)}, "utf8"))`;
  const { stdout } = await execute("docker", ["exec", containerId, "node", "-e", script]);
  return stdout;
}

describe.skipIf(skip)("the staged CA rotation on a real single-node swarm", () => {
  const stack: Stack = newStack();
  let config: Record<string, string>;
  let deployment: Deployment;
  let outputs: Outputs;
  let baseImage: string;
  let caller: NetworkCaller | undefined;
  const byRun = () => JSON.stringify({ label: [`${RUN_LABEL}=${stack.docker.runId}`] });

  const apply = async (changes: Record<string, string> = {}) => {
    config = { ...config, ...changes };
    deployment = await deploy("swarm", config, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
  };
  const op = (type: string, name: string) =>
    deployment.run.registrations.find((r) => r.type === type && r.name === name)?.op;
  const swarmServices = () => [
    stack.engine.resource(SERVICE, "mtls-server")!.id!,
    ...Object.keys(outputs.clientCredentials).map((name) => stack.engine.resource(SERVICE, name)!.id!),
  ];
  const inspect = async (id: string) => (await dockerApi("GET", `/services/${id}`)).body as SwarmService;
  const runningTasks = async (id: string) =>
    (
      (
        await dockerApi("GET", "/tasks", {
          query: { filters: JSON.stringify({ service: [id], "desired-state": ["running"] }) },
        })
      ).body as SwarmTask[]
    ).filter((t) => t.Status.State === "running");
  const swarmSecrets = async () =>
    (
      (await dockerApi("GET", "/secrets", { query: { filters: byRun() } })).body as {
        ID: string;
        Spec: { Name: string; Labels: Record<string, string> };
      }[]
    ).sort((a, b) => a.ID.localeCompare(b.ID));
  const declaredSecrets = () =>
    stack.engine
      .resources()
      .filter((r) => r.type === SECRET)
      .sort((a, b) => a.id!.localeCompare(b.id!));

  /**
   * Every service's rollout of this step has converged: its update (started after `since`) has
   * completed, and it runs as many tasks as it has replicas, each with the secrets of the new spec.
   * The server's `up` already waited for it (convergeConfig); the clients' does not, so wait.
   */
  const converged = async (since: number) => {
    for (const id of swarmServices()) {
      const service = await eventually(
        () => inspect(id),
        (s) =>
          s.UpdateStatus?.State === "completed" && Date.parse(s.UpdateStatus.StartedAt ?? "") >= since - 1000,
        180_000,
      );
      const wanted = service.Spec.TaskTemplate.ContainerSpec.Secrets.map((s) => s.SecretID).sort();
      const replicas = id === stack.engine.resource(SERVICE, "mtls-server")!.id ? 2 : 1;
      const tasks = await eventually(
        () => runningTasks(id),
        (list) =>
          list.length === replicas &&
          list.every(
            (t) =>
              JSON.stringify((t.Spec.ContainerSpec.Secrets ?? []).map((s) => s.SecretID).sort()) ===
              JSON.stringify(wanted),
          ),
        60_000,
      );
      expect(tasks).toHaveLength(replicas);
    }
  };

  beforeAll(async () => {
    baseImage = await ensureBaseImage();
    config = { ...stackConfig("swarm"), baseImage };
    await apply();
  });
  afterAll(async () => {
    await caller?.stop().catch(() => undefined);
    await deployment?.destroy();
  });

  it("rotates the CA in three ups with zero failed calls, each rollout converged, ending with only generation 2 in use", async () => {
    const rotationStart = Date.now();
    caller = await startNetworkCaller({
      image: baseImage,
      network: outputs.networkName,
      url: "https://mtls-server:8443",
      runId: stack.docker.runId,
      credentials: outputs.clientCredentials["client-a"]!,
    });
    const counts: { step: string; calls: number; failed: number }[] = [];
    let counted = 0;
    const step = async (what: string, change: Record<string, string>) => {
      const since = Date.now();
      await apply(change);
      // Every step changes what the tasks mount (a bundle or a leaf), so every step rolls them.
      expect(op(SERVICE, "mtls-server"), `${what}: the server service`).toBe("update");
      await converged(since);
      // The caller takes this step's credentials (what a caller re-reading the outputs does) and
      // the step ends with a call that used them.
      const version = caller!.useCredentials(outputs.clientCredentials["client-a"]!);
      const calls = await eventually(
        () => caller!.calls(),
        (list) => list.some((c) => c.credentials === version && c.ok),
        60_000,
      );
      const mine = calls.slice(counted);
      counts.push({ step: what, calls: mine.length, failed: mine.filter((c) => !c.ok).length });
      counted = calls.length;
      return version;
    };
    await eventually(
      () => caller!.calls(),
      (list) => list.some((c) => c.ok),
      60_000,
    );
    const before = await caller.calls();
    counts.push({
      step: "before the rotation",
      calls: before.length,
      failed: before.filter((c) => !c.ok).length,
    });
    counted = before.length;
    const oldSerial = outputs.server.serialNumber;
    const root1 = plainHex(outputs.ca.roots["1"]!.fingerprintSha256);

    // 1. Trust both: every bundle gains root 2 (the CA secrets are replaced), no leaf changes.
    await step("add generation 2", { caGenerations: '["1","2"]', issuingCa: "1" });
    expect(outputs.ca.generations).toEqual(["1", "2"]);
    expect(outputs.server.serialNumber).toBe(oldSerial);
    expect(op(SECRET, "mtls-server-ca-crt")).toBe("replace");
    expect(op(SECRET, "mtls-server-tls-crt")).toBe("same");
    expect(op(SERVICE, "mtls-server")).toBe("update");

    // 2. Issue from 2: leaves re-issued (the certificate secrets replaced, the keys kept), the bundles kept.
    await step("issue from generation 2", { issuingCa: "2" });
    expect(outputs.ca.issuing).toBe("2");
    expect(outputs.server.serialNumber).not.toBe(oldSerial);
    expect(op(SECRET, "mtls-server-tls-crt")).toBe("replace");
    expect(op(SECRET, "mtls-server-tls-key")).toBe("same");
    expect(op(SECRET, "mtls-server-ca-crt")).toBe("same");
    expect(op(SERVICE, "mtls-server")).toBe("update");
    const newLeaf = outputs.server.serialNumber;

    // 3. Drop 1: bundles lose root 1 (the CA secrets replaced again), root 1 deleted.
    const lastVersion = await step("drop generation 1", { caGenerations: '["2"]' });
    expect(outputs.ca.generations).toEqual(["2"]);
    const deleted = deployment.run.ops.filter((o) => o.op === "delete").map((o) => o.name);
    expect(deleted).toEqual(expect.arrayContaining(["pki-root", "pki-root-key"]));
    expect(op(SECRET, "mtls-server-ca-crt")).toBe("replace");

    // Calls go on until both replicas have answered with the generation-2 leaf after the last step.
    const root2 = plainHex(outputs.ca.roots["2"]!.fingerprintSha256);
    const calls = await eventually(
      () => caller!.calls(),
      (list) =>
        new Set(
          list
            .filter((c) => c.ok && c.credentials === lastVersion && c.serial === newLeaf)
            .map((c) => c.servedBy),
        ).size >= 2,
      60_000,
    );
    await caller.stop();
    caller = undefined;
    const failed = calls.filter((c: CallRecord) => !c.ok);
    console.info(
      `swarm CA rotation: ${calls.length} calls, ${failed.length} failed, answered by ${new Set(calls.map((c) => c.servedBy)).size} server tasks; ${counts
        .map((c) => `${c.step}: ${c.calls} calls, ${c.failed} failed`)
        .join("; ")}`,
    );
    expect(failed).toEqual([]);
    expect(counts.slice(1).every((c) => c.calls > 0)).toBe(true);
    // The calls crossed the rollouts: both leaves were presented, by old tasks and their successors.
    expect(new Set(calls.map((c) => c.serial))).toEqual(new Set([oldSerial, newLeaf]));
    expect(new Set(calls.map((c) => c.servedBy)).size).toBeGreaterThan(2);

    // What the server tasks present: the last calls from both replicas got the new leaf, issued
    // by root 2's CA.
    const [anchor] = certificates(outputs.clientCredentials["client-a"]!.caPem);
    expect(plainHex(anchor!.fingerprint256)).toBe(root2);
    const lastCalls = calls.filter((c) => c.credentials === lastVersion);
    expect(new Set(lastCalls.map((c) => c.serial))).toEqual(new Set([newLeaf]));
    expect(new Set(lastCalls.map((c) => c.issuer))).toEqual(new Set([anchor!.subject.match(/CN=(.*)/)?.[1]]));
    expect(new Set(lastCalls.map((c) => plainHex(c.fingerprint256!)))).toEqual(
      new Set([plainHex(outputs.server.fingerprintSha256)]),
    );

    // The client's bundle (what the caller trusts) holds root 2 only; so does every task's bundle,
    // and every task's leaf is issued by root 2.
    expect(certificates(outputs.clientCredentials["client-a"]!.caPem)).toHaveLength(1);
    for (const id of swarmServices()) {
      for (const task of await runningTasks(id)) {
        const container = task.Status.ContainerStatus!.ContainerID;
        const bundle = certificates(await taskFile(container, "/etc/mtls/ca.crt"));
        expect(bundle.map((c) => plainHex(c.fingerprint256))).toEqual([root2]);
        const [leaf] = certificates(await taskFile(container, "/etc/mtls/tls.crt"));
        expect(leaf!.checkIssued(anchor!) && leaf!.verify(anchor!.publicKey)).toBe(true);
      }
    }

    // The swarm holds exactly the secrets the stack declares, and every certificate they hold
    // chains to root 2 only: no secret of generation 1 is left.
    const declared = declaredSecrets();
    const inSwarm = await swarmSecrets();
    expect(inSwarm.map((s) => s.ID)).toEqual(declared.map((r) => r.id));
    expect(declared).toHaveLength(7);
    for (const secret of declared) {
      const text = Buffer.from(String(secret.outputs.data), "base64").toString("utf8");
      const held = certificates(text);
      expect(
        held.every((c) => plainHex(c.fingerprint256) !== root1),
        secret.name,
      ).toBe(true);
      for (const cert of held) {
        const chainsTo2 =
          plainHex(cert.fingerprint256) === root2 ||
          (cert.checkIssued(anchor!) && cert.verify(anchor!.publicKey));
        expect(chainsTo2, secret.name).toBe(true);
      }
      if (secret.name.endsWith("-tls-crt")) {
        // The label that says which chain a leaf secret holds names the generation-2 chain.
        const labels = inSwarm.find((s) => s.ID === secret.id)!.Spec.Labels;
        expect(labels["mtls-pki.chain-sha256"], secret.name).toBe(
          createHash("sha256").update(text, "utf8").digest("hex"),
        );
        expect(held.length, secret.name).toBeGreaterThan(0);
      }
    }

    // The client service's own rounds (its tasks rolled three times too) never failed.
    const clientContainers = (
      (
        await dockerApi("GET", "/containers/json", {
          query: {
            all: true,
            filters: JSON.stringify({
              label: [`com.docker.swarm.service.name=${outputs.serviceNames.clients["client-a"]}`],
            }),
          },
        })
      ).body as { Id: string }[]
    ).map((c) => c.Id);
    const rounds = (await Promise.all(clientContainers.map(jsonLogs)))
      .flat()
      .filter((l) => l.event === "round" && Date.parse(String(l.time)) >= rotationStart);
    expect(rounds.length).toBeGreaterThan(0);
    expect(rounds.filter((l) => l.result !== "ok")).toEqual([]);
  }, 900_000);

  it("destroy removes the services, secrets, tasks and overlay network, and leaves the swarm", async () => {
    // The caller is a container on the stack's network: not the stack's, so it goes first.
    await caller?.stop();
    caller = undefined;
    await deployment.destroy();
    const filters = byRun();
    expect((await dockerApi("GET", "/services", { query: { filters } })).body).toEqual([]);
    expect(await swarmSecrets()).toEqual([]);
    const leftovers = async () => {
      const containers = (
        await dockerApi("GET", "/containers/json", {
          query: { all: true, filters: JSON.stringify({ label: ["com.docker.swarm.service.name"] }) },
        })
      ).body as { Labels: Record<string, string> }[];
      const names = Object.values(outputs.serviceNames.clients).concat(outputs.serviceNames.server);
      const tasks = containers.filter((c) => names.includes(c.Labels["com.docker.swarm.service.name"] ?? ""));
      const networks = (await dockerApi("GET", "/networks", { query: { filters } })).body as unknown[];
      return tasks.length + networks.length;
    };
    // Swarm stops the tasks and lets the overlay network go a few seconds after the deletes return.
    expect(await eventually(leftovers, (n) => n === 0, 60_000)).toBe(0);
    const info = (await dockerApi("GET", "/info")).body as { Swarm: { ControlAvailable: boolean } };
    expect(info.Swarm.ControlAvailable).toBe(true);
  });
});
