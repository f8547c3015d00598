/**
 * docker.Secret and docker.Service through the emulated engine on a real single-node swarm: a
 * hardened replicated service with an auto-named secret mounted as a file, a re-apply that changes
 * nothing, a new secret value rolled out as the provider does it (new secret, service updated in
 * place, old secret deleted), a fixed secret name that makes the same change fail (delete-first while
 * in use), an update whose new task never turns healthy failing once Swarm rolled it back, and a
 * destroy that leaves no swarm object behind.
 */
import * as docker from "@pulumi/docker";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ensureBaseImage } from "../test/support/docker-available.ts";
import { eventually } from "../test/support/eventually.ts";
import { swarmSkipReason } from "../test/support/swarm-available.ts";
import { dockerApi } from "./docker/engine-api.ts";
import { cleanupRun, createDockerProvider, RUN_LABEL, SECRET_TYPE, SERVICE_TYPE } from "./docker/provider.ts";
import { EmulatedEngine } from "./engine/engine.ts";
import { runProgram } from "./run-program.ts";

const skip = await swarmSkipReason();

/** Serves the secret file's owner, mode and content on 9090; healthy once it listens. */
const SERVER = `
const fs = require("fs");
require("http").createServer((q, s) => {
  const st = fs.statSync("/etc/mtls/tls.key");
  s.end(JSON.stringify({ uid: st.uid, gid: st.gid, mode: (st.mode & 0o777).toString(8), content: fs.readFileSync("/etc/mtls/tls.key", "utf8") }));
}).listen(9090);
process.on("SIGTERM", () => process.exit(0));`;
const HEALTH = [
  "CMD",
  "node",
  "-e",
  "fetch('http://127.0.0.1:9090').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
];

interface Task {
  Status: { State: string; ContainerStatus?: { ContainerID: string } };
  DesiredState: string;
}

const byRun = (runId: string) => JSON.stringify({ label: [`${RUN_LABEL}=${runId}`] });

describe.skipIf(skip)("docker emulation: secrets and services on a swarm", () => {
  const provider = createDockerProvider();
  const engine = new EmulatedEngine([provider]);
  let image: string;

  const up = (content: string, secretName?: string, health = HEALTH) =>
    runProgram({
      engine,
      project: "proj",
      stack: "swarm",
      program: async () => {
        const network = new docker.Network("net", { driver: "overlay", attachable: true });
        const secret = new docker.Secret("key", {
          data: Buffer.from(content).toString("base64"),
          ...(secretName ? { name: secretName } : {}),
        });
        const service = new docker.Service("svc", {
          taskSpec: {
            containerSpec: {
              image,
              commands: ["node", "-e", SERVER],
              user: "10001:10001",
              readOnly: true,
              capDrops: ["ALL"],
              healthcheck: { tests: health, interval: "1s", timeout: "2s", retries: 2 },
              secrets: [
                {
                  secretId: secret.id,
                  secretName: secret.name,
                  fileName: "/etc/mtls/tls.key",
                  fileUid: "10001",
                  fileGid: "10001",
                  fileMode: 0o400,
                },
              ],
            },
            resources: { limits: { memoryBytes: 128 * 1024 * 1024 } },
            networksAdvanceds: [{ id: network.id }],
          },
          mode: { replicated: { replicas: 2 } },
          endpointSpec: { mode: "dnsrr" },
          updateConfig: { parallelism: 1, order: "start-first", failureAction: "rollback", monitor: "2s" },
          convergeConfig: { delay: "1s", timeout: "2m" },
        });
        return { serviceId: service.id, secretId: secret.id, secretData: secret.data };
      },
    });

  /** What each running task's server answers, read from inside its container. */
  const answers = async (serviceId: string) => {
    const filters = JSON.stringify({ service: [serviceId], "desired-state": ["running"] });
    const tasks = (await dockerApi("GET", "/tasks", { query: { filters } })).body as Task[];
    const results: string[] = [];
    for (const task of tasks.filter((t) => t.Status.State === "running")) {
      const id = task.Status.ContainerStatus!.ContainerID;
      const { body } = await dockerApi("POST", `/containers/${id}/exec`, {
        json: {
          Cmd: [
            "node",
            "-e",
            "fetch('http://127.0.0.1:9090').then(r=>r.text()).then(t=>process.stdout.write(t))",
          ],
          AttachStdout: true,
        },
      });
      const started = await dockerApi("POST", `/exec/${(body as { Id: string }).Id}/start`, {
        json: { Detach: false },
      });
      // The attach stream is multiplexed: one 8-byte header per frame, then JSON.
      const text = String(started.body);
      results.push(text.slice(text.indexOf("{")));
    }
    return results.map((t) => JSON.parse(t) as { uid: number; gid: number; mode: string; content: string });
  };
  const secretIds = async () =>
    (
      (await dockerApi("GET", "/secrets", { query: { filters: byRun(provider.runId) } })).body as {
        ID: string;
      }[]
    ).map((s) => s.ID);

  beforeAll(async () => {
    image = await ensureBaseImage();
  });
  afterAll(async () => {
    await engine.destroyAll().catch(() => undefined);
    await cleanupRun(provider.runId);
  });

  let first: Record<string, unknown>;

  test("runs every replica healthy, with the secret as a file owned by 10001 and mode 0400", async () => {
    first = (await up("KEY-1")).exports;
    const served = await answers(String(first.serviceId));
    expect(served).toHaveLength(2);
    for (const answer of served)
      expect(answer).toEqual({ uid: 10001, gid: 10001, mode: "400", content: "KEY-1" });
    const spec = (await dockerApi("GET", `/services/${first.serviceId}`)).body as {
      Spec: {
        TaskTemplate: { ContainerSpec: { User: string; ReadOnly: boolean; CapabilityDrop: string[] } };
      };
    };
    expect(spec.Spec.TaskTemplate.ContainerSpec).toMatchObject({
      User: "10001:10001",
      ReadOnly: true,
      CapabilityDrop: ["ALL"],
    });
  });

  test("keeps the secret's data a secret output", async () => {
    const run = await up("KEY-1");
    expect(run.isSecret("secretData")).toBe(true);
  });

  test("changes nothing when re-applied unchanged", async () => {
    const run = await up("KEY-1");
    const kinds = run.ops
      .filter((op) => op.type === SECRET_TYPE || op.type === SERVICE_TYPE)
      .map((op) => op.op);
    expect(kinds).toEqual(["same", "same"]);
  });

  test("rolls new secret data out: new secret first, the service updated in place, the old secret deleted", async () => {
    const run = await up("KEY-2");
    const ops = run.ops
      .filter((op) => op.type === SECRET_TYPE || op.type === SERVICE_TYPE)
      .map((op) => `${op.op} ${op.type.split(":").pop()}`);
    expect(ops).toEqual(["replace Secret", "update Service"]);
    expect(run.exports.serviceId).toBe(first.serviceId);
    expect(run.exports.secretId).not.toBe(first.secretId);
    expect(await secretIds()).toEqual([run.exports.secretId]);
    const served = await answers(String(first.serviceId));
    expect(served.map((a) => a.content)).toEqual(["KEY-2", "KEY-2"]);
  });

  test("fails an update whose new task never turns healthy, once Swarm has rolled it back", async () => {
    const never = ["CMD", "node", "-e", "process.exit(1)"];
    await expect(up("KEY-2", undefined, never)).rejects.toThrow(/service rollback completed/);
    // Rolled back, both replicas serve the previous spec again; a task the rollback restarted may
    // still be starting when Swarm reports the rollback complete.
    const served = await eventually(
      () => answers(String(first.serviceId)),
      (list) => list.length === 2,
      30_000,
    );
    expect(served.map((a) => a.content)).toEqual(["KEY-2", "KEY-2"]);
  });

  test("fails a fixed-name secret change: replaced delete-first, refused while the service uses it", async () => {
    const fixed = new EmulatedEngine([provider]);
    const apply = (content: string) =>
      runProgram({
        engine: fixed,
        project: "proj",
        stack: "fixed",
        program: async () => {
          const secret = new docker.Secret("fixed", {
            name: `fixed-${provider.runId}`,
            data: Buffer.from(content).toString("base64"),
          });
          const service = new docker.Service("user", {
            taskSpec: {
              containerSpec: {
                image,
                commands: ["node", "-e", "setInterval(() => {}, 1e6)"],
                secrets: [{ secretId: secret.id, secretName: secret.name, fileName: "/etc/mtls/tls.key" }],
              },
            },
          });
          return { serviceId: service.id };
        },
      });
    try {
      await apply("KEY-1");
      await expect(apply("KEY-2")).rejects.toThrow(/is in use by the following service/);
    } finally {
      await fixed.destroyAll();
    }
  });

  test("destroy removes the service and the secret, and the network once Swarm has let it go", async () => {
    await engine.destroyAll();
    const filters = byRun(provider.runId);
    expect((await dockerApi("GET", "/services", { query: { filters } })).body).toEqual([]);
    expect(await secretIds()).toEqual([]);
    // Swarm finishes removing an overlay network a few seconds after the delete returned.
    const networks = async () =>
      (await dockerApi("GET", "/networks", { query: { filters } })).body as unknown[];
    expect(await eventually(networks, (list) => list.length === 0, 30_000)).toEqual([]);
  });
});
