/**
 * examples/yaml deployed on a real Docker engine through the package's component provider, as a
 * Pulumi YAML program gets it (test/plugin/support/yaml-program.ts stands in for the YAML language
 * host, as the tests run without the Pulumi CLI): `pulumi up`, then the worker's calls must reach
 * the api over mTLS, and the exported worker credentials must work from the host on the published
 * port.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanupRun,
  createDockerProvider,
  EmulatedEngine,
  type ProgramRun,
  runProgram,
  TlsProvider,
} from "../../emulation/index.ts";
import { newProvider, ROOT } from "../plugin/support/construct.ts";
import { readYamlProgram, runYamlProgram } from "../plugin/support/yaml-program.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { jsonLogs, waitUntil } from "./containers.ts";

const execute = promisify(execFile);
const skip = await dockerSkipReason();

describe.skipIf(skip)("examples/yaml on a real Docker engine", () => {
  const docker = createDockerProvider();
  const engine = new EmulatedEngine([new TlsProvider(), docker]);
  let run: ProgramRun;
  let port: number;
  let credentials: string;

  beforeAll(async () => {
    const baseImage = await ensureBaseImage();
    port = await freePort();
    const program = readYamlProgram(path.join(ROOT, "examples/yaml/Pulumi.yaml"));
    run = await runProgram({
      engine,
      project: program.name,
      stack: "dev",
      program: async () =>
        (await runYamlProgram(program, newProvider(), { baseImage, apiHostPort: port })).outputs,
    });
    credentials = mkdtempSync(path.join(tmpdir(), "mtls-yaml-worker-"));
    const worker = run.exports.workerCredentials as { certPem: string; keyPem: string; caPem: string };
    writeFileSync(path.join(credentials, "tls.crt"), worker.certPem);
    writeFileSync(path.join(credentials, "tls.key"), worker.keyPem);
    chmodSync(path.join(credentials, "tls.key"), 0o600);
    writeFileSync(path.join(credentials, "ca.crt"), worker.caPem);
  }, 300_000);

  afterAll(async () => {
    try {
      await engine.destroyAll();
    } finally {
      await cleanupRun(docker.runId);
      if (credentials) rmSync(credentials, { recursive: true, force: true });
    }
  }, 180_000);

  it("runs the worker completing mTLS rounds against api", async () => {
    const names = run.exports.containerNames as { api: string; worker: string };
    const rounds = await waitUntil("a successful worker round", async () => {
      const ok = (await jsonLogs(names.worker)).filter((l) => l.event === "round" && l.result === "ok");
      return ok.length > 0 ? ok : undefined;
    });
    expect(JSON.stringify(rounds[0]?.server)).toContain("api");
  });

  it("answers the host on the published port with the exported worker credentials", async () => {
    expect(run.exports.apiUrl).toBe(`https://localhost:${port}`);
    const { stdout } = await execute("curl", [
      "--silent",
      "--show-error",
      "--fail",
      "--cacert",
      path.join(credentials, "ca.crt"),
      "--cert",
      path.join(credentials, "tls.crt"),
      "--key",
      path.join(credentials, "tls.key"),
      `${run.exports.apiUrl}/v1/whoami`,
    ]);
    expect(JSON.stringify(JSON.parse(stdout))).toContain("spiffe://example.internal/worker");
  });
});
