/**
 * End to end on a real single-node swarm: the swarm stack (Pulumi.swarm.yaml) deployed through the
 * program and the provider emulation, then what a user does with it, in order on one deployment:
 * two server replicas serve behind one name, a leaf rotation rolls the tasks with zero failed calls
 * from a continuous caller, no old secret is left behind, and destroy removes every swarm object
 * (not the swarm itself). Key material never appears in a plaintext input, output or service spec.
 * A caller outside the stack, the services image's own client in one-shot mode on the overlay
 * network with a client's credentials mounted (the README's call, which needs no registry), is
 * answered.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerApi, RUN_LABEL } from "../../emulation/index.ts";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { ensureBaseImage } from "../support/docker-available.ts";
import { eventually } from "../support/eventually.ts";
import { stackConfig } from "../support/stack-files.ts";
import { swarmSkipReason } from "../support/swarm-available.ts";
import { type CallRecord, type NetworkCaller, startNetworkCaller } from "./network-caller.ts";

interface Outputs {
  networkName: string;
  serviceNames: { server: string; clients: Record<string, string> };
  server: { serialNumber: string };
  clientCredentials: Record<string, { certPem: string; keyPem: string; caPem: string }>;
}

const run = promisify(execFile);
const SECRET = "docker:index/secret:Secret";
const SERVICE = "docker:index/service:Service";
const skip = await swarmSkipReason();

describe.skipIf(skip)("the swarm stack on a real single-node swarm", () => {
  const stack: Stack = newStack();
  let config: Record<string, string>;
  let deployment: Deployment;
  let outputs: Outputs;
  let baseImage: string;
  let caller: NetworkCaller | undefined;
  const byRun = () => JSON.stringify({ label: [`${RUN_LABEL}=${stack.docker.runId}`] });

  const apply = async (changes: Record<string, string> = {}) => {
    deployment = await deploy("swarm", { ...config, ...changes }, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
  };
  const newCaller = () =>
    startNetworkCaller({
      image: baseImage,
      network: outputs.networkName,
      url: "https://mtls-server:8443",
      runId: stack.docker.runId,
      credentials: outputs.clientCredentials["client-a"]!,
    });
  const okCalls = (calls: CallRecord[]) => calls.filter((c) => c.ok);
  const secretIds = async () =>
    ((await dockerApi("GET", "/secrets", { query: { filters: byRun() } })).body as { ID: string }[])
      .map((s) => s.ID)
      .sort();

  beforeAll(async () => {
    baseImage = await ensureBaseImage();
    config = { ...stackConfig("swarm"), baseImage };
    await apply();
  });
  afterAll(async () => {
    await caller?.stop().catch(() => undefined);
    await deployment?.destroy();
  });

  it("serves from two server replicas: one certificate, two tasks answering", async () => {
    caller = await newCaller();
    const calls = await eventually(
      () => caller!.calls(),
      (list) => new Set(okCalls(list).map((c) => c.servedBy)).size >= 2,
      60_000,
    );
    const ok = okCalls(calls);
    expect(new Set(ok.map((c) => c.serial))).toEqual(new Set([outputs.server.serialNumber]));
    expect(new Set(ok.map((c) => c.servedBy)).size).toBe(2);
    await caller.stop();
    caller = undefined;
  });

  it("answers the README's one-shot call from the services image's client on the overlay network", async () => {
    // As scripts/client-credentials.sh writes them: 0600 files in a 0700 directory, the caller's own.
    const dir = mkdtempSync(path.join(tmpdir(), "mtls-swarm-creds-"));
    try {
      const credentials = outputs.clientCredentials["client-a"]!;
      for (const [file, pem] of [
        ["tls.crt", credentials.certPem],
        ["tls.key", credentials.keyPem],
        ["ca.crt", credentials.caPem],
      ] as const) {
        writeFileSync(path.join(dir, file), pem, { mode: 0o600 });
      }
      // The stack's own image by id: the README names its tag, mtls-service:local, which another
      // build on this engine may have taken meanwhile.
      const image = String(
        stack.engine.resource("docker:index/image:Image", "services-image")!.outputs.repoDigest,
      );
      const user = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
      const { stdout } = await run("docker", [
        "run",
        "--rm",
        "--label",
        `${RUN_LABEL}=${stack.docker.runId}`,
        "--network",
        outputs.networkName,
        "--user",
        user,
        "-v",
        `${dir}:/etc/mtls:ro`,
        image,
        "client",
        "--once",
      ]);
      const lines = stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]!) as { result: string; identity: { commonName?: string } };
      expect(line.result).toBe("ok");
      expect(JSON.stringify(line.identity)).toContain("client-a");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs the server as a replicated service with its identity as three swarm secrets and its policy file as a fourth", async () => {
    const server = stack.engine.resource(SERVICE, "mtls-server")!;
    const spec = (await dockerApi("GET", `/services/${server.id}`)).body as {
      Spec: {
        Mode: { Replicated: { Replicas: number } };
        TaskTemplate: {
          ContainerSpec: { User: string; ReadOnly: boolean; Secrets: { File: { Name: string } }[] };
        };
      };
    };
    expect(spec.Spec.Mode.Replicated.Replicas).toBe(2);
    expect(spec.Spec.TaskTemplate.ContainerSpec).toMatchObject({ User: "10001:10001", ReadOnly: true });
    expect(spec.Spec.TaskTemplate.ContainerSpec.Secrets.map((s) => s.File.Name)).toEqual([
      "/etc/mtls/tls.crt",
      "/etc/mtls/tls.key",
      "/etc/mtls/ca.crt",
      "/etc/mtls/policy.json",
    ]);
  });

  it("keeps key material out of every plaintext output, resource state and service spec", async () => {
    // Every private key the stack holds, as PEM and as the base64 a swarm secret's data carries.
    const pems = stack.engine
      .resources()
      .filter((r) => r.type === "tls:index/privateKey:PrivateKey")
      .flatMap((r) => [r.outputs.privateKeyPem, r.outputs.privateKeyPemPkcs8].map(String));
    const material = pems.flatMap((pem) => [pem.trim(), Buffer.from(pem).toString("base64")]);
    expect(pems.length).toBeGreaterThanOrEqual(6);
    const holdsKey = (value: unknown) => {
      const text = JSON.stringify(value) ?? "";
      return material.some((m) => text.includes(m)) || text.includes("PRIVATE KEY");
    };
    for (const name of Object.keys(deployment.run.exports).filter((n) => !deployment.run.isSecret(n))) {
      expect(holdsKey(deployment.run.exports[name]), name).toBe(false);
    }
    let secretHolders = 0;
    for (const resource of stack.engine.resources().filter((r) => r.custom)) {
      for (const [property, value] of Object.entries(resource.outputs)) {
        if (!holdsKey(value)) continue;
        secretHolders++;
        expect(resource.secretOutputs, `${resource.name}.${property}`).toContain(property);
      }
    }
    expect(stack.engine.resource(SECRET, "mtls-server-tls-key")!.secretOutputs).toContain("data");
    expect(secretHolders).toBeGreaterThan(0);
    const services = (await dockerApi("GET", "/services", { query: { filters: byRun() } })).body;
    expect(holdsKey(services)).toBe(false);
  });

  it("rolls a leaf rotation through the tasks with zero failed calls, keeping the unchanged CA secret", async () => {
    const oldSerial = outputs.server.serialNumber;
    const serverId = stack.engine.resource(SERVICE, "mtls-server")!.id;
    const caSecret = stack.engine.resource(SECRET, "mtls-server-ca-crt")!.id;
    caller = await newCaller();
    await eventually(
      () => caller!.calls(),
      (list) => okCalls(list).length > 0,
      60_000,
    );
    // A new validity re-issues every leaf certificate (LocallySignedCert replaces on it).
    await apply({ leafValidityHours: "25" });
    const newSerial = outputs.server.serialNumber;
    expect(newSerial).not.toBe(oldSerial);
    // The rollout has converged when `up` returns; the caller then sees only the new certificate
    // from both replicas.
    await eventually(
      () => caller!.calls(),
      (list) => {
        const recent = okCalls(list).filter((c) => c.serial === newSerial);
        return new Set(recent.map((c) => c.servedBy)).size >= 2;
      },
      60_000,
    );
    const calls = await caller.stop();
    caller = undefined;
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    expect(calls.length).toBeGreaterThan(20);
    expect(new Set(calls.map((c) => c.serial))).toEqual(new Set([oldSerial, newSerial]));

    const op = (type: string, name: string) =>
      deployment.run.registrations.find((r) => r.type === type && r.name === name)?.op;
    expect(op(SECRET, "mtls-server-tls-crt")).toBe("replace");
    // The key did not change: its secret stays (an unchanged file keeps its secret).
    expect(op(SECRET, "mtls-server-tls-key")).toBe("same");
    expect(op(SECRET, "mtls-server-ca-crt")).toBe("same");
    expect(op(SECRET, "mtls-server-policy")).toBe("same");
    expect(op(SERVICE, "mtls-server")).toBe("update");
    expect(stack.engine.resource(SERVICE, "mtls-server")!.id).toBe(serverId);
    expect(stack.engine.resource(SECRET, "mtls-server-ca-crt")!.id).toBe(caSecret);
  });

  it("leaves no old secret behind: the swarm holds exactly the secrets the stack declares", async () => {
    const declared = stack.engine
      .resources()
      .filter((r) => r.type === SECRET)
      .map((r) => r.id!)
      .sort();
    // The server's three identity files and its policy file; the client's three identity files.
    expect(declared).toHaveLength(7);
    expect(await secretIds()).toEqual(declared);
  });

  it("destroy removes the services, secrets, tasks and overlay network, and leaves the swarm", async () => {
    await deployment.destroy();
    const filters = byRun();
    expect((await dockerApi("GET", "/services", { query: { filters } })).body).toEqual([]);
    expect(await secretIds()).toEqual([]);
    const leftovers = async () => {
      const containers = (
        await dockerApi("GET", "/containers/json", {
          query: { all: true, filters: JSON.stringify({ label: [`com.docker.swarm.service.name`] }) },
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
