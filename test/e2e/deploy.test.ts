/**
 * End to end on a real Docker engine: the dev stack deployed through the program and the provider
 * emulation, then what a user does with it. The steps run in order and share one deployment:
 * deploy, talk to it, re-apply unchanged, meet a stranger, rotate, tighten the allow-list.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_LABEL } from "../../emulation/index.ts";
import { type Deployment, deploy, newStack, pkiProgram, type Stack } from "../program/deploy.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { stackConfig } from "../support/stack-files.ts";
import { jsonLogs, metricValue, runOnce, statusEndpoint, waitUntil } from "./containers.ts";

const execute = promisify(execFile);

interface Outputs {
  serverUrl: string;
  networkName: string;
  containerNames: { server: string; clients: Record<string, string> };
  server: { serialNumber: string };
  clientCredentials: Record<string, { certPem: string; keyPem: string; caPem: string }>;
}

const skip = await dockerSkipReason();

describe.skipIf(skip)("the dev stack on a real Docker engine", () => {
  const stack: Stack = newStack();
  let config: Record<string, string>;
  let deployment: Deployment;
  let outputs: Outputs;
  let credentialsDir: string;
  let imageDigest: string;

  const apply = async (changes: Record<string, string> = {}) => {
    deployment = await deploy("dev", { ...config, ...changes }, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
    return deployment;
  };

  beforeAll(async () => {
    const baseImage = await ensureBaseImage();
    config = { ...stackConfig("dev"), baseImage, publishPort: String(await freePort()) };
    await apply();
    imageDigest = String(
      stack.engine.resource("docker:index/image:Image", "services-image")?.outputs.repoDigest,
    );
    credentialsDir = writeCredentials(outputs.clientCredentials["client-a"]!);
  });
  afterAll(async () => {
    await deployment?.destroy();
    if (credentialsDir) rmSync(credentialsDir, { recursive: true, force: true });
  });

  it("runs the server healthy and the client completing rounds that name the server's identity", async () => {
    const rounds = await waitUntil("a successful client round", async () => {
      const lines = await jsonLogs(outputs.containerNames.clients["client-a"]!);
      const ok = lines.filter((l) => l.event === "round" && l.result === "ok");
      return ok.length > 0 ? ok : undefined;
    });
    expect(JSON.stringify(rounds[0]?.server)).toContain("mtls-server");
    expect(JSON.stringify(rounds[0]?.server)).toContain(outputs.server.serialNumber);
  });

  it("logs the client's identity on the server for each request", async () => {
    const lines = await jsonLogs(outputs.containerNames.server);
    const requests = lines.filter((l) => l.event === "request" && JSON.stringify(l).includes("client-a"));
    expect(requests.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.event === "ready")).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/PRIVATE KEY/);
  });

  it("answers curl on the published loopback port with the exported client credentials", async () => {
    const { stdout } = await execute("curl", [
      "--silent",
      "--show-error",
      "--fail",
      "--cacert",
      join(credentialsDir, "ca.crt"),
      "--cert",
      join(credentialsDir, "tls.crt"),
      "--key",
      join(credentialsDir, "tls.key"),
      `${outputs.serverUrl}/v1/whoami`,
    ]);
    expect(JSON.stringify(JSON.parse(stdout))).toContain("client-a");
  });

  it("changes nothing on a second run with the same config", async () => {
    const before = outputs.server.serialNumber;
    await apply();
    const changed = deployment.run.ops.filter((op) => op.op !== "same");
    expect(changed.map((op) => `${op.op} ${op.name} (${op.changed?.join(", ")})`)).toEqual([]);
    expect(deployment.engine.calls).toEqual([]);
    expect(outputs.server.serialNumber).toBe(before);
  });

  it("refuses a container holding a certificate from another CA, and counts why", async () => {
    const stranger = await deploy("intruder", { clients: '["client-a"]' }, { program: pkiProgram });
    const dir = mkdtempSync(join(tmpdir(), "mtls-stranger-"));
    try {
      const identity = stranger.identity("client-a");
      // It trusts our CA (so it would accept our server) besides its own (the client checks that
      // its certificate chains to its bundle before it starts), but our server trusts only ours.
      writeIdentity(dir, identity.cert, identity.key, deployment.identity("client-a").ca + identity.ca);
      const metricsBefore = await statusEndpoint(outputs.containerNames.server, "/metrics");
      const result = await runOnce([
        "--label",
        `${RUN_LABEL}=${stack.docker.runId}`,
        "--network",
        outputs.networkName,
        "--user",
        "10001:10001",
        "-v",
        `${dir}:/etc/mtls:ro`,
        "-e",
        "MTLS_SERVER_URL=https://mtls-server:8443",
        imageDigest,
        "client",
        "--once",
      ]);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/refused|unknown ca/i);
      const metricsAfter = await statusEndpoint(outputs.containerNames.server, "/metrics");
      const sample = 'mtls_handshake_failures_total{reason="unknown_ca"}';
      expect(metricValue(metricsAfter, sample)).toBeGreaterThan(metricValue(metricsBefore, sample));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await stranger.destroy();
    }
  });

  it("rotates the server certificate without replacing its container or failing a single call", async () => {
    const oldSerial = outputs.server.serialNumber;
    const serverContainer = outputs.containerNames.server;
    const caller = startCaller(outputs.serverUrl, outputs.clientCredentials["client-a"]!);
    try {
      await waitUntil("calls before the rotation", async () => (caller.serials.size > 0 ? true : undefined));
      // A new validity re-issues every leaf certificate (LocallySignedCert replaces on it).
      await apply({ leafValidityHours: "25" });
      const newSerial = outputs.server.serialNumber;
      expect(newSerial).not.toBe(oldSerial);
      await waitUntil("the new certificate in use", async () =>
        caller.serials.has(newSerial) ? true : undefined,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await caller.stop();
    }
    const serverOps = deployment.run.registrations.filter(
      (r) => r.type === "docker:index/container:Container",
    );
    expect(serverOps.find((r) => r.name === "mtls-server")?.op).toBe("same");
    expect(serverOps.find((r) => r.name === "mtls-server-delivery")?.op).toBe("replace");
    expect(outputs.containerNames.server).toBe(serverContainer);
    expect(caller.failures).toEqual([]);
    expect(caller.calls).toBeGreaterThan(10);
    expect(caller.serials).toContain(oldSerial);
  });

  it("answers 403 to a client left off the allow-list", async () => {
    await apply({ clients: '["client-a","client-b"]', allowedClients: '["client-a"]' });
    const refused = await waitUntil("a refused round of client-b", async () => {
      const lines = await jsonLogs(outputs.containerNames.clients["client-b"]!);
      return lines.find((l) => l.event === "round" && l.result === "failure");
    });
    expect(JSON.stringify(refused)).toMatch(/403|not allowed|forbidden/i);
    const serverLines = await jsonLogs(outputs.containerNames.server);
    expect(
      serverLines.some((l) => JSON.stringify(l).includes("client-b") && JSON.stringify(l).includes("403")),
    ).toBe(true);
  });
});

function writeIdentity(dir: string, cert: string, key: string, ca: string): void {
  // Readable by the container's user (10001), which does not own these files; test-only key.
  for (const [file, pem] of [
    ["tls.crt", cert],
    ["tls.key", key],
    ["ca.crt", ca],
  ] as const) {
    writeFileSync(join(dir, file), pem, { mode: 0o644 });
  }
  chmodSync(dir, 0o755);
}

function writeCredentials(credentials: { certPem: string; keyPem: string; caPem: string }): string {
  const dir = mkdtempSync(join(tmpdir(), "mtls-host-client-"));
  writeFileSync(join(dir, "tls.crt"), credentials.certPem, { mode: 0o600 });
  writeFileSync(join(dir, "tls.key"), credentials.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, "ca.crt"), credentials.caPem, { mode: 0o600 });
  return dir;
}

/** Calls the server from the host in a loop, one new connection per call, until stopped. */
function startCaller(url: string, credentials: { certPem: string; keyPem: string; caPem: string }) {
  const state = { calls: 0, failures: [] as string[], serials: new Set<string>(), stopped: false };
  const once = () =>
    new Promise<void>((resolve) => {
      const request = https.get(
        `${url}/v1/whoami`,
        {
          cert: credentials.certPem,
          key: credentials.keyPem,
          ca: credentials.caPem,
          agent: false,
          timeout: 5000,
        },
        (response) => {
          const serial = (response.socket as import("node:tls").TLSSocket).getPeerCertificate().serialNumber;
          response.resume();
          response.on("end", () => {
            state.calls++;
            if (response.statusCode === 200) state.serials.add(serial.toUpperCase());
            else state.failures.push(`HTTP ${response.statusCode}`);
            resolve();
          });
        },
      );
      request.on("timeout", () => request.destroy(new Error("timeout")));
      request.on("error", (error) => {
        state.calls++;
        state.failures.push(error.message);
        resolve();
      });
    });
  const loop = (async () => {
    while (!state.stopped) {
      await once();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    get calls() {
      return state.calls;
    },
    failures: state.failures,
    serials: state.serials,
    stop: async () => {
      state.stopped = true;
      await loop;
    },
  };
}
