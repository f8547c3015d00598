/**
 * `npm run verify` on the swarm runtime: the swarm stack (Pulumi.swarm.yaml) deployed with the
 * emulated engine on a real single-node swarm, read by verify through the real scripts/pulumi.sh
 * and the stand-in `pulumi` (support/emulated-cli.ts). Each fault is made by hand with the docker
 * CLI as an operator would: a service scaled down, a task's container killed, a secret removed from
 * a service, a service pointed at a secret the stack does not declare; each is reported with its
 * repair, and --repair brings the service back to what the stack says. The findings Swarm's own
 * update machinery makes (a paused or rolled-back update, a certificate secret whose chain label
 * differs) are checked on the comparison itself, at the end.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_LABEL } from "../../emulation/index.ts";
import { compareSwarm } from "../../scripts/verify/swarm-findings.ts";
import type { SwarmServiceInStack } from "../../scripts/verify/swarm-stack.ts";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { ensureBaseImage } from "../support/docker-available.ts";
import { eventually } from "../support/eventually.ts";
import { stackConfig } from "../support/stack-files.ts";
import { swarmSkipReason } from "../support/swarm-available.ts";
import { emulatedCli } from "./support/emulated-cli.ts";
import { runVerify } from "./support/run-verify.ts";
import { type StandInPulumi, startStandInPulumi } from "./support/standin-pulumi.ts";

const run = promisify(execFile);
const skip = await swarmSkipReason();
const SERVICE = "docker:index/service:Service";
const SECRET = "docker:index/secret:Secret";

interface Outputs {
  serviceNames: { server: string; clients: Record<string, string> };
  clientCredentials: Record<string, { caPem: string }>;
}

const docker = async (...args: string[]) => (await run("docker", args)).stdout.trim();

/** The service's tasks that Swarm wants running, as `state` words. */
const taskStates = async (service: string) =>
  (
    await docker(
      "service",
      "ps",
      "--filter",
      "desired-state=running",
      "--format",
      "{{.CurrentState}}",
      service,
    )
  )
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(" ")[0]!.toLowerCase());
const runningTasks = async (service: string) =>
  (await taskStates(service)).filter((s) => s === "running").length;
const mountedFiles = async (service: string) =>
  JSON.parse(
    await docker(
      "service",
      "inspect",
      "--format",
      "{{json .Spec.TaskTemplate.ContainerSpec.Secrets}}",
      service,
    ),
  ).map((s: { SecretName: string; File: { Name: string; Mode: number; UID: string } }) => ({
    name: s.SecretName,
    file: s.File.Name,
    mode: s.File.Mode,
    uid: s.File.UID,
  }));

describe.skipIf(skip)("npm run verify on a deployed swarm stack", () => {
  const stack: Stack = newStack();
  let deployment: Deployment;
  let config: Record<string, string>;
  let outputs: Outputs;
  let cli: StandInPulumi;
  let env: NodeJS.ProcessEnv;

  const verify = (args: string[] = [], extra: NodeJS.ProcessEnv = {}) =>
    runVerify(args, { ...env, ...extra });
  const secretName = (name: string) => String(stack.engine.resource(SECRET, name)?.outputs.name);

  beforeAll(async () => {
    config = { ...stackConfig("swarm"), baseImage: await ensureBaseImage() };
    deployment = await deploy("swarm", config, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
    const emulated = emulatedCli({
      stack: "swarm",
      current: () => deployment,
      redeploy: async () => {
        deployment = await deploy("swarm", config, { stack });
        return deployment;
      },
    });
    cli = await startStandInPulumi((args) => emulated.handle(args));
    env = { ...cli.env, STACK: "swarm" };
  });

  afterAll(async () => {
    await cli?.close();
    await deployment?.destroy();
  });

  it("exits 0 with one line when every service and secret is as the stack says", async () => {
    const result = await verify();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([
      "verify: stack swarm: mtls-server, client-a deployed as the stack says (swarm services at their replicas with every task running and healthy, no paused or rolled-back update, exactly the declared secrets mounted, certificate secrets matching the stack's chains)",
    ]);
    expect(cli.calls.map((args) => args.slice(0, 2).join(" "))).toEqual(["stack export"]);
  });

  it("reports a server scaled down by hand with docker service scale as the repair, and --repair scales it back", async () => {
    const server = outputs.serviceNames.server;
    await docker("service", "scale", "--detach=false", `${server}=1`);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: mtls-server: swarm service ${server} is scaled to 1 replicas, the stack says 2. Repair: docker service scale --detach=false ${server}=2`,
    ]);
    const repaired = await verify(["--repair"]);
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
    expect(repaired.lines.at(-1)).toContain("deployed as the stack says");
    expect(await runningTasks(server)).toBe(2);
  });

  it("reports a task whose container was killed, with a forced rolling update as the repair, and --repair converges", async () => {
    const server = outputs.serviceNames.server;
    const [container] = (
      await docker("ps", "--quiet", "--filter", `label=com.docker.swarm.service.name=${server}`)
    ).split("\n");
    await docker("kill", container!);
    // Swarm notices the dead task and schedules a new one, which is "running" only once healthy.
    await eventually(
      () => runningTasks(server),
      (n) => n < 2,
      30_000,
    );
    // No settling: this run shows the moment before Swarm has the replacement task healthy.
    const result = await verify([], { MTLS_VERIFY_SETTLE_MS: "0" });
    expect(result.code).toBe(1);
    expect(result.lines).toHaveLength(1);
    expect(result.lines[0]).toMatch(
      new RegExp(
        `^verify: mtls-server: swarm service ${server} has 1/2 tasks running and healthy .*\\(see docker service ps ${server}\\)\\. Repair: docker service update --force --detach=false ${server}$`,
      ),
    );
    const repaired = await verify(["--repair"]);
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
    expect(await runningTasks(server)).toBe(2);
  });

  it("reports a secret removed from a service by hand, with a secret-add of the stack's own mount as the repair", async () => {
    const server = outputs.serviceNames.server;
    const policy = secretName("mtls-server-policy");
    const before = await mountedFiles(server);
    await docker("service", "update", "--detach=false", "--secret-rm", policy, server);
    expect((await mountedFiles(server)).map((m: { name: string }) => m.name)).not.toContain(policy);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.lines).toEqual([
      `verify: mtls-server: swarm service ${server} does not mount ${policy} at /etc/mtls/policy.json. Repair: docker service update --detach=false --secret-add source=${policy},target=/etc/mtls/policy.json,uid=10001,gid=10001,mode=0444 ${server}`,
    ]);
    const repaired = await verify(["--repair"]);
    expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
    expect(await mountedFiles(server)).toEqual(before);
  });

  it("reports a service pointed at a secret the stack does not declare, and --repair puts the declared one back", async () => {
    const client = outputs.serviceNames.clients["client-a"]!;
    const declaredCa = secretName("client-a-ca-crt");
    const caId = stack.engine.resource(SECRET, "client-a-ca-crt")!.id!;
    const before = await mountedFiles(client);
    // The same CA bundle in a secret of its own: the tasks keep working, the stack no longer says what runs.
    const foreign = `verify-foreign-ca-${stack.docker.runId}`;
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile(
        "docker",
        ["secret", "create", `--label=${RUN_LABEL}=${stack.docker.runId}`, foreign, "-"],
        (error, out) => (error ? reject(error) : resolve({ stdout: out })),
      );
      child.stdin!.end(outputs.clientCredentials["client-a"]!.caPem);
    });
    const foreignId = stdout.trim();
    try {
      await docker(
        "service",
        "update",
        "--detach=false",
        "--secret-rm",
        declaredCa,
        "--secret-add",
        `source=${foreign},target=/etc/mtls/ca.crt,uid=10001,gid=10001,mode=0444`,
        client,
      );
      const result = await verify();
      expect(result.code).toBe(1);
      expect(result.lines).toEqual([
        `verify: client-a: swarm service ${client} does not mount ${declaredCa} at /etc/mtls/ca.crt; mounts ${foreign} (${foreignId}) at /etc/mtls/ca.crt, which the stack does not declare. Repair: docker service update --detach=false --secret-rm ${foreign} --secret-add source=${declaredCa},target=/etc/mtls/ca.crt,uid=10001,gid=10001,mode=0444 ${client}`,
      ]);
      const repaired = await verify(["--repair"]);
      expect(repaired.code, repaired.stdout + repaired.stderr).toBe(0);
      expect(await mountedFiles(client)).toEqual(before);
      expect(before.find((m: { file: string }) => m.file === "/etc/mtls/ca.crt")).toBeDefined();
      expect(caId).toMatch(/^[a-z0-9]+$/);
    } finally {
      await docker("secret", "rm", foreign).catch(() => undefined);
    }
  });

  it("never prints key material: no PEM block and no secret's data in any verify output", async () => {
    const keys = stack.engine
      .resources()
      .filter((r) => r.type === "tls:index/privateKey:PrivateKey")
      .map((r) => String(r.outputs.privateKeyPem).trim());
    expect(keys.length).toBeGreaterThan(0);
    await docker("service", "scale", "--detach=false", `${outputs.serviceNames.server}=1`);
    const result = await verify(["--repair"]);
    const printed = result.stdout + result.stderr;
    expect(result.code, printed).toBe(0);
    expect(result.lines).toContain(
      `verify: running: docker service scale --detach=false ${outputs.serviceNames.server}=2`,
    );
    expect(printed).not.toContain("PRIVATE KEY");
    expect(printed).not.toContain("BEGIN CERTIFICATE");
    for (const key of keys) expect(printed).not.toContain(Buffer.from(key).toString("base64").slice(0, 40));
    expect(stack.engine.resource(SERVICE, "mtls-server")).toBeDefined();
  });
});

describe("the swarm comparison, for the states Swarm's update machinery and the API make", () => {
  const urn = (type: string, name: string) =>
    `urn:pulumi:swarm::mtls-pki::mtls:swarm:MtlsSwarmService$${type}::${name}`;
  const chain = "a".repeat(64);
  const declared: SwarmServiceInStack = {
    name: "mtls-server",
    role: "server",
    service: { urn: urn(SERVICE, "mtls-server"), id: "svc1", name: "mtls-server-1234567", replicas: 2 },
    secrets: [
      {
        urn: urn(SECRET, "mtls-server-tls-crt"),
        id: "crt1",
        name: "mtls-server-tls-crt-aaaaaaa",
        mount: { file: "/etc/mtls/tls.crt", uid: "10001", gid: "10001", mode: 0o444 },
        chainSha256: chain,
      },
    ],
  };
  const healthy = {
    exists: true,
    replicas: 2,
    secrets: [{ id: "crt1", name: "mtls-server-tls-crt-aaaaaaa", file: "/etc/mtls/tls.crt" }],
    updateState: "completed",
    tasks: [1, 2].map((slot) => ({ slot, state: "running", desiredState: "running" })),
  };
  const secrets = (labels: Record<string, string> | null) =>
    new Map([["crt1", labels ? { exists: true, labels } : { exists: false }]]);
  /** `labels` null: Swarm has no such secret. */
  const compare = (
    service: object,
    labels: Record<string, string> | null = { "mtls-pki.chain-sha256": chain },
  ) =>
    compareSwarm("swarm", declared, { service: { ...healthy, ...service }, secrets: secrets(labels) }).map(
      (f) => `${f.problem}. Repair: ${f.repair}`,
    );

  it("finds nothing when the service and its secret are as declared", () => {
    expect(compare({})).toEqual([]);
  });

  it("reports a paused update with a forced update as the repair", () => {
    expect(compare({ updateState: "paused", updateMessage: "update paused due to failure" })).toEqual([
      "swarm service mtls-server-1234567: its update is paused (update paused due to failure; see docker service ps mtls-server-1234567). Repair: docker service update --force --detach=false mtls-server-1234567",
    ]);
  });

  it("reports a rolled-back update with a targeted refresh and up of the service (URN quoted)", () => {
    const service = `'${declared.service.urn}'`;
    expect(compare({ updateState: "rollback_completed", updateMessage: "rollback completed" })).toEqual([
      `swarm service mtls-server-1234567: Swarm rolled its last update back (rollback completed), so it runs its previous spec, not the stack's. Repair: scripts/pulumi.sh refresh --target ${service} --stack swarm --yes && scripts/pulumi.sh up --target ${service} --stack swarm --yes`,
    ]);
  });

  it("reports a certificate secret whose chain label is not the stack's chain, with its replacement as the repair", () => {
    expect(compare({}, { "mtls-pki.chain-sha256": "b".repeat(64) })).toEqual([
      `swarm secret mtls-server-tls-crt-aaaaaaa: its mtls-pki.chain-sha256 label is bbbbbbbbbbbb, the stack's chain hashes to aaaaaaaaaaaa. Repair: scripts/pulumi.sh up --target-replace '${declared.secrets[0]!.urn}' --stack swarm --yes`,
    ]);
  });

  it("reports a declared secret Swarm no longer has, recreating it and rolling the service onto it", () => {
    const [secret, service] = [declared.secrets[0]!.urn, declared.service.urn].map((u) => `'${u}'`);
    expect(compare({}, null)).toEqual([
      `swarm secret mtls-server-tls-crt-aaaaaaa (crt1) does not exist. Repair: scripts/pulumi.sh refresh --target ${secret} --target ${service} --stack swarm --yes && scripts/pulumi.sh up --target ${secret} --target ${service} --stack swarm --yes`,
    ]);
  });

  it("reports a service Swarm no longer has, recreating it", () => {
    expect(compare({ exists: false })).toHaveLength(1);
    expect(compare({ exists: false })[0]).toMatch(
      /^swarm service mtls-server-1234567 does not exist\. Repair: scripts\/pulumi\.sh refresh --target '.*' --stack swarm --yes && scripts\/pulumi\.sh up --target '.*' --stack swarm --yes$/,
    );
  });
});

describe("npm run verify on a swarm stack whose engine does not answer", () => {
  const PREFIX = "urn:pulumi:swarm::mtls-pki::";
  const COMPONENT = `${PREFIX}mtls:swarm:MtlsSwarmService::mtls-server`;
  /** A deployed one-server swarm stack, as `stack export` prints it. */
  const DEPLOYED = {
    version: 3,
    deployment: {
      manifest: {},
      resources: [
        { urn: COMPONENT, type: "mtls:swarm:MtlsSwarmService", custom: false },
        {
          urn: `${PREFIX}mtls:swarm:MtlsSwarmService$${SERVICE}::mtls-server`,
          type: SERVICE,
          custom: true,
          parent: COMPONENT,
          id: "svc1",
          outputs: { name: "mtls-server-1234567", mode: { replicated: { replicas: 2 } } },
        },
      ],
    },
  };
  let cli: StandInPulumi;
  beforeAll(async () => {
    cli = await startStandInPulumi(() => ({ stdout: JSON.stringify(DEPLOYED) }));
  });
  afterAll(async () => {
    await cli?.close();
  });

  it("names DOCKER_HOST, exits 3 and runs no repair even with --repair", async () => {
    const result = await runVerify(["--repair"], {
      ...cli.env,
      STACK: "swarm",
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
    });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^verify: the Docker engine at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock does not answer: /,
    );
    expect(cli.calls.map((args) => args.slice(0, 2).join(" "))).toEqual(["stack export"]);
  });
});
