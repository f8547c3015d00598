/**
 * The opt-in delivery image on a real Docker engine: delivery containers run an image built from
 * nothing but `FROM ${BASE_IMAGE}`, deliver the identity (the server becomes healthy with it), and a
 * change in the services' code then replaces the service container but not the delivery container.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MtlsPki, MtlsService, ServiceImage, ServiceNetwork } from "../../components/index.ts";
import {
  CONTAINER_TYPE,
  cleanupRun,
  createDockerProvider,
  EmulatedEngine,
  IMAGE_TYPE,
  type OpRecord,
  type ProgramRun,
  runProgram,
  TlsProvider,
} from "../../emulation/index.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";

const execute = promisify(execFile);
const SERVICES = fileURLToPath(new URL("../../services", import.meta.url));

const skip = await dockerSkipReason();

describe.skipIf(skip)("the opt-in delivery image on a real Docker engine", () => {
  const docker = createDockerProvider();
  const engine = new EmulatedEngine([new TlsProvider(), docker]);
  let base: string;
  let contextDir: string;
  let first: ProgramRun;

  const program = async () => {
    const pki = new MtlsPki("pki");
    const identity = pki.issueServer("mtls-server");
    const image = new ServiceImage("svc", {
      imageName: `mtls-delivery-e2e:${docker.runId}`,
      deliveryImageName: `mtls-delivery-e2e-delivery:${docker.runId}`,
      baseImage: base,
      context: contextDir,
      deliveryImage: true,
    });
    const network = new ServiceNetwork("svc-net");
    const server = new MtlsService("mtls-server", {
      image: image.repoDigest,
      deliveryImage: image.deliveryRepoDigest!,
      role: "server",
      identity,
      networkName: network.name,
      aliases: ["mtls-server"],
    });
    return {
      repoDigest: image.repoDigest,
      deliveryDigest: image.deliveryRepoDigest,
      container: server.containerName,
    };
  };
  const deploy = () => runProgram({ engine, project: "mtls-pki", stack: "delivery", program });
  const opOf = (ops: readonly OpRecord[], type: string, name: string) =>
    ops.find((op) => op.type === type && op.name === name)?.op;

  beforeAll(async () => {
    base = await ensureBaseImage();
    // A copy of services/, so that the test can change "the services' code" without touching it.
    contextDir = mkdtempSync(path.join(tmpdir(), "mtls-delivery-context-"));
    cpSync(SERVICES, contextDir, { recursive: true });
    first = await deploy();
  });
  afterAll(async () => {
    try {
      await engine.destroyAll();
    } finally {
      await cleanupRun(docker.runId);
      if (contextDir) rmSync(contextDir, { recursive: true, force: true });
    }
  });

  it("runs the delivery container from the delivery image, and the server healthy with what it delivered", async () => {
    const delivery = engine.resource(CONTAINER_TYPE, "mtls-server-delivery")!;
    const { stdout } = await execute("docker", [
      "inspect",
      "-f",
      "{{.Image}}",
      String(delivery.outputs.name),
    ]);
    expect(stdout.trim()).toBe(first.exports.deliveryDigest);
    expect(first.exports.deliveryDigest).not.toBe(first.exports.repoDigest);
    const health = await execute("docker", [
      "inspect",
      "-f",
      "{{.State.Health.Status}}",
      String(first.exports.container),
    ]);
    expect(health.stdout.trim()).toBe("healthy");
  });

  it("replaces the service container but not the delivery container when the services' code changes", async () => {
    writeFileSync(path.join(contextDir, "src", "changed-code.ts"), "export const changed = true;\n");
    const second = await deploy();
    expect(second.exports.repoDigest).not.toBe(first.exports.repoDigest);
    expect(second.exports.deliveryDigest).toBe(first.exports.deliveryDigest);
    expect(opOf(second.ops, IMAGE_TYPE, "svc-image")).toBe("update");
    expect(opOf(second.ops, IMAGE_TYPE, "svc-delivery-image")).toBe("same");
    expect(opOf(second.ops, CONTAINER_TYPE, "mtls-server")).toBe("replace");
    expect(opOf(second.ops, CONTAINER_TYPE, "mtls-server-delivery")).toBe("same");
  });
});
