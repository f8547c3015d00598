/**
 * ServiceImage, ServiceNetwork and MtlsService run as a Pulumi program under the emulated engine
 * with the docker emulation on a real engine: the child contract (names, types, parents, the inputs
 * that matter), the identity files delivered into the volume, a healthy hardened server, a no-op
 * second run, and a re-issued certificate that replaces only the delivery container while the
 * server keeps running and presents the new certificate (zero-downtime rotation, end to end).
 */
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { connect } from "node:tls";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HEALTHCHECK_COMMAND } from "../../components/mtls-service.ts";
import { hostPlatform } from "../../components/service-image.ts";
import {
  CONTAINER_TYPE,
  cleanupRun,
  createDockerProvider,
  dockerApi,
  EmulatedEngine,
  IMAGE_TYPE,
  type ProgramRun,
  type Registration,
  RUN_LABEL,
  runProgram,
  VOLUME_TYPE,
} from "../../emulation/index.ts";
import { DEFAULT_SERVER_NAME, ENV, SERVICE_GID, SERVICE_UID } from "../../services/src/contract.ts";
import { jsonLogs } from "../e2e/containers.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { probe } from "../support/docker-probe.ts";
import { eventually } from "../support/eventually.ts";
import { createCa, issueLeaf, type Leaf } from "../support/pki-fixtures/pki.ts";

const run = promisify(execFile);
const skip = await dockerSkipReason();

// The server is published without a host port: it reaches the provider as a port without
// `external`, so Docker assigns a free one (`ports[].external` is computed) and the test reads it
// back: no free-then-bind race with other tests.

/** The serial of the certificate the server presents on the published port, over real mTLS. */
function presentedSerial(port: number, caPem: string, client: Leaf): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: "127.0.0.1",
        port,
        servername: DEFAULT_SERVER_NAME,
        ca: caPem,
        cert: client.chainPem,
        key: client.keyPem,
      },
      () => {
        const serial = socket.getPeerCertificate().serialNumber.toUpperCase();
        socket.end();
        resolve(serial);
      },
    );
    socket.setTimeout(5000, () => socket.destroy(new Error("TLS connection timed out")));
    socket.once("error", reject);
  });
}

describe.skipIf(skip)("docker components under the emulated engine", () => {
  const docker = createDockerProvider();
  const engine = new EmulatedEngine([docker]);
  let base: string;
  let caPem: string;
  let leaf: Leaf;
  let client: Leaf;
  let hostPort: number;
  let first: ProgramRun;

  /** The program under test; reads the identity of the moment, so a run after a re-issue sees it. */
  const program = async () => {
    const { ServiceImage } = await import("../../components/service-image.ts");
    const { ServiceNetwork } = await import("../../components/service-network.ts");
    const { MtlsService } = await import("../../components/mtls-service.ts");
    const image = new ServiceImage("svc", {
      imageName: `mtls-component-test:${docker.runId}`,
      baseImage: base,
    });
    const network = new ServiceNetwork("svc-net");
    const server = new MtlsService("server", {
      image: image.repoDigest,
      role: "server",
      identity: {
        chainPem: leaf.chainPem,
        privateKeyPem: pulumi.secret(leaf.keyPem),
        caBundlePem: caPem,
      },
      networkName: network.name,
      aliases: [DEFAULT_SERVER_NAME],
      publish: {}, // no hostPort: Docker assigns one, read back below
    });
    const clientService = new MtlsService("client-a", {
      image: image.repoDigest,
      role: "client",
      identity: {
        chainPem: client.chainPem,
        privateKeyPem: pulumi.secret(client.keyPem),
        caBundlePem: caPem,
      },
      networkName: network.name,
    });
    return {
      repoDigest: image.repoDigest,
      containerName: server.containerName,
      volumeName: server.volumeName,
      serverPorts: server.front!.ports,
      frontName: server.front!.name,
      clientContainerName: clientService.containerName,
    };
  };
  const deploy = () => runProgram({ engine, project: "mtls-pki", stack: "test", program });
  const registration = (type: string, name: string, run: ProgramRun = first): Registration => {
    const found = run.registrations.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no registration ${type} ${name}`);
    return found;
  };
  const issueServerCert = async (ca: Awaited<ReturnType<typeof createCa>>) =>
    issueLeaf(ca, { commonName: DEFAULT_SERVER_NAME, purpose: "server", dnsNames: [DEFAULT_SERVER_NAME] });

  let ca: Awaited<ReturnType<typeof createCa>>;

  beforeAll(async () => {
    base = await ensureBaseImage();
    ca = await createCa({ commonName: "component test CA" });
    caPem = ca.certPem;
    leaf = await issueServerCert(ca);
    client = await issueLeaf(ca, { commonName: "client-a", purpose: "client" });
    first = await deploy();
    hostPort = (first.exports.serverPorts as { external: number }[])[0]!.external;
  });

  afterAll(async () => {
    try {
      await engine.destroyAll();
    } finally {
      await cleanupRun(docker.runId);
    }
  });

  test("a preview of the first deploy plans every resource and makes none", async () => {
    const planner = createDockerProvider();
    const planned = await runProgram({
      engine: new EmulatedEngine([planner]),
      project: "mtls-pki",
      stack: "preview",
      preview: true,
      program,
    });
    expect(new Set(planned.ops.map((op) => op.op))).toEqual(new Set(["create"]));
    expect(planned.isKnown("repoDigest")).toBe(false);
    expect(await cleanupRun(planner.runId)).toEqual({
      services: [],
      secrets: [],
      containers: [],
      networks: [],
      volumes: [],
      images: [],
    });
  });

  test("children are named after their component and parented to it", () => {
    const children = first.registrations
      .filter((r) => r.custom)
      .map((r) => [r.type, r.name, r.parent?.split("::").at(-1) ?? "(stack)"]);
    expect(children).toEqual(
      expect.arrayContaining([
        [IMAGE_TYPE, "svc-image", "svc"],
        [VOLUME_TYPE, "server-identity", "server"],
        [CONTAINER_TYPE, "server-delivery", "server"],
        [CONTAINER_TYPE, "server-service", "server"],
        [CONTAINER_TYPE, "server", "server"],
        [CONTAINER_TYPE, "client-a", "client-a"],
      ]),
    );
  });

  test("the image is built from services/ with paths relative to the working directory", () => {
    const build = registration(IMAGE_TYPE, "svc-image").inputs.build as Record<string, unknown>;
    expect(build).toEqual({
      context: "services",
      dockerfile: "services/Dockerfile",
      args: { BASE_IMAGE: base },
      platform: hostPlatform(),
    });
    expect(first.exports.repoDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test("the services image runs as the service user, is health-checked, and runs its own JavaScript entry point", async () => {
    const image = first.exports.repoDigest as string;
    const { body } = await dockerApi("GET", `/images/${image}/json`);
    const config = (body as { Config: Record<string, unknown> }).Config as {
      User: string;
      Healthcheck: { Test: string[] };
      Entrypoint: string[];
      Labels: Record<string, string>;
    };
    expect(config.User).toBe(`${SERVICE_UID}:${SERVICE_GID}`);
    expect(config.Healthcheck.Test).toEqual(HEALTHCHECK_COMMAND);
    expect(config.Entrypoint).toEqual(["node", "/app/src/main.js"]);
    expect(config.Labels["org.opencontainers.image.title"]).toBe("mtls-service");
  });

  test("the services image ships every service module type-stripped to .js and no TypeScript, so Node never loads its stripper", async () => {
    const image = first.exports.repoDigest as string;
    const files = (
      await probe({
        runId: docker.runId,
        image,
        script:
          "const fs = require('fs'); console.log(fs.readdirSync('/app', { recursive: true }).filter((f) => fs.statSync('/app/' + f).isFile()).sort().join(' '))",
      })
    ).split(" ");
    const sources = (await readdir("services/src", { recursive: true }))
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
      .map((f) => `src/${f.replace(/\.ts$/, ".js")}`)
      .sort();
    // Beside them, the one runtime dependency, vendored as it is (JavaScript already).
    const vendored = (await readdir("services/vendor", { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative("services", path.join(entry.parentPath, entry.name)));
    expect(vendored.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toBe(false);
    expect(files).toEqual([...sources, "src/package.json", ...vendored].sort());
  });

  test("the services image's entry point loads the whole client and server (each stops on the missing identity, exit 3) and refuses an unknown role (exit 2)", async () => {
    const image = first.exports.repoDigest as string;
    const runImage = async (args: string[]) => {
      try {
        const { stdout, stderr } = await run("docker", [
          "run",
          "--rm",
          "--network",
          "none",
          "--label",
          `${RUN_LABEL}=${docker.runId}`,
          ...args,
        ]);
        return { code: 0, output: `${stdout}${stderr}` };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: Number(failed.code), output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
      }
    };
    for (const role of [["client", "--once"], []]) {
      const { code, output } = await runImage(["-e", `${ENV.identityWaitMs}=0`, image, ...role]);
      expect({ code, output }).toMatchObject({
        code: 3,
        output: expect.stringContaining(`${ENV.certFile} (/etc/mtls/tls.crt) does not exist`),
      });
    }
    const unknown = await runImage([image, "bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.output).toContain('unknown role \\"bogus\\"');
  });

  test("the service container carries no certificate material and starts after the delivery", () => {
    const service = registration(CONTAINER_TYPE, "server-service");
    expect(JSON.stringify(service.inputs)).not.toContain("BEGIN");
    expect(service.options.dependencies).toContain(registration(CONTAINER_TYPE, "server-delivery").urn);
  });

  test("the delivery container's uploads (with the private key) are secret in the state", () => {
    const delivery = engine.resource(CONTAINER_TYPE, "server-delivery");
    expect(delivery?.secretOutputs).toContain("uploads");
  });

  test("the identity files and the server's policy file sit in the volume, owned by the service user, key 0400", async () => {
    const listing = await probe({
      runId: docker.runId,
      image: base,
      volumes: { [first.exports.volumeName as string]: "/x" },
      script: `const fs = require("fs");
        console.log(fs.readdirSync("/x").sort().map((f) => {
          const s = fs.statSync("/x/" + f);
          return [f, s.uid, s.gid, (s.mode & 0o777).toString(8)].join(":");
        }).join(" "));`,
    });
    const id = `${SERVICE_UID}:${SERVICE_GID}`;
    expect(listing).toBe(`ca.crt:${id}:444 policy.json:${id}:444 tls.crt:${id}:444 tls.key:${id}:400`);
  });

  test("the server container is hardened and healthy", async () => {
    const { body } = await dockerApi("GET", `/containers/${first.exports.containerName}/json`);
    const info = body as {
      State: { Health?: { Status: string } };
      Config: { User: string };
      HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[]; SecurityOpt: string[]; Memory: number };
    };
    expect(info.State.Health?.Status).toBe("healthy");
    expect(info.Config.User).toBe(`${SERVICE_UID}:${SERVICE_GID}`);
    expect([info.HostConfig.ReadonlyRootfs, info.HostConfig.CapDrop, info.HostConfig.SecurityOpt]).toEqual([
      true,
      ["ALL"],
      ["no-new-privileges:true"],
    ]);
    expect(info.HostConfig.Memory).toBeGreaterThan(0);
  });

  test("the server presents its certificate over mTLS, through its front, on 127.0.0.1 only", async () => {
    expect(await presentedSerial(hostPort, caPem, client)).toBe(leaf.serial);
    const { body } = await dockerApi("GET", `/containers/${first.exports.frontName}/json`);
    const bindings = (body as { HostConfig: { PortBindings: Record<string, { HostIp: string }[]> } })
      .HostConfig.PortBindings;
    expect(
      Object.values(bindings)
        .flat()
        .map((b) => b.HostIp),
    ).toEqual(["127.0.0.1"]);
  });

  test("the client container becomes healthy and completes rounds with the server over mTLS", async () => {
    const name = first.exports.clientContainerName as string;
    const { body } = await dockerApi("GET", `/containers/${name}/json`);
    expect((body as { State: { Health?: { Status: string } } }).State.Health?.Status).toBe("healthy");
    const rounds = await eventually(
      async () => (await jsonLogs(name)).filter((e) => e.event === "round" && e.level === "info"),
      (ok) => ok.length > 0,
      15_000,
    );
    expect(rounds.length).toBeGreaterThan(0);
  });

  test("running the same program again changes nothing", async () => {
    const again = await deploy();
    expect(again.ops.filter((op) => op.op !== "same")).toEqual([]);
  });

  test("a re-issued certificate replaces only the delivery container; the running server serves it", async () => {
    const serverId = engine.resource(CONTAINER_TYPE, "server-service")?.id;
    leaf = await issueServerCert(ca);
    const reissue = await deploy();
    expect(reissue.ops.filter((op) => op.op !== "same").map((op) => [op.op, op.name, op.changed])).toEqual([
      ["replace", "server-delivery", ["uploads"]],
    ]);
    expect(engine.resource(CONTAINER_TYPE, "server-service")?.id).toBe(serverId);
    const served = await probe({
      runId: docker.runId,
      image: base,
      volumes: { [reissue.exports.volumeName as string]: "/x" },
      script: `process.stdout.write(require("fs").readFileSync("/x/tls.crt", "utf8"))`,
    });
    expect(served).toBe(leaf.chainPem.trim());
    expect(
      await eventually(
        () => presentedSerial(hostPort, caPem, client),
        (serial) => serial === leaf.serial,
        20_000,
      ),
    ).toBe(leaf.serial);
  });
});
