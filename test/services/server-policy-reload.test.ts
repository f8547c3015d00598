/**
 * The access policy file is reloaded without a restart: a server started without the file enforces
 * MTLS_ALLOWED_CLIENTS; once the file appears or changes, new connections get the new allow-list at
 * once, a kept-alive caller dropped from it is cut off at its next request (403, then the connection
 * closes) while a caller that stays allowed keeps its connection, and SIGHUP re-reads the file.
 */
import { Agent } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type Leaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { afterPolicyReload, policyPath, policyStatus, writePolicy } from "./support/policy.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";
import { type Caller, callServer } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let server: RunningServer;
let clientB: Leaf;
let policyFile: string;
const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-a" });
  clientB = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  policyFile = policyPath(files.dir); // absent at start
  // Polling off: these tests exercise the directory watch and SIGHUP.
  server = await startServer({
    identity: files,
    env: {
      MTLS_POLICY_FILE: policyFile,
      MTLS_ALLOWED_CLIENTS: "client-a",
      MTLS_RELOAD_POLL_MS: "0",
    },
  });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

function errorOf(body: string): { code: string; message: string } {
  return (JSON.parse(body) as { error: { code: string; message: string } }).error;
}

describe("access policy reload", () => {
  it("starts without a policy file and enforces MTLS_ALLOWED_CLIENTS", async () => {
    const loaded = await server.waitForLine((line) => line.event === "policy_loaded");
    expect(loaded).toMatchObject({ state: "absent", file: policyFile, policy: { allowListSource: "env" } });
    expect(await policyStatus(server.statusUrl)).toMatchObject({
      fileState: "absent",
      allowListSource: "env",
    });
    expect((await callServer({ port: server.port, caller: callerOf(pki.client) })).status).toBe(200);
    const refused = await callServer({ port: server.port, caller: callerOf(clientB) });
    expect(refused.status).toBe(403);
    expect(errorOf(refused.body)).toEqual({
      status: 403,
      code: "forbidden",
      message: 'client "client-b" is not on the allow-list (MTLS_ALLOWED_CLIENTS)',
    });
  });

  it("applies an allow-list written to the file to new connections, without a restart", async () => {
    const successes = await metric(server.statusUrl, "mtls_policy_reloads_total", { result: "success" });
    const line = await afterPolicyReload(server, () =>
      writePolicy(policyFile, { allowedClients: ["client-a", "client-b"] }),
    );
    expect(line).toMatchObject({
      level: "info",
      result: "success",
      trigger: "change",
      file: policyFile,
      changed: true,
      policy: { allowListSource: "file", allowedClients: ["client-a", "client-b"], revokedSerials: 0 },
    });
    const admitted = await callServer({ port: server.port, caller: callerOf(clientB) });
    expect(admitted.status).toBe(200);
    expect(JSON.parse(admitted.body).commonName).toBe("client-b");
    expect(await metric(server.statusUrl, "mtls_policy_reloads_total", { result: "success" })).toBe(
      successes + 1,
    );
    expect(await policyStatus(server.statusUrl)).toMatchObject({
      fileState: "valid",
      allowListSource: "file",
    });
    // The same process all along: one start line.
    expect(server.lines.filter((entry) => entry.event === "start")).toHaveLength(1);
  });

  it("cuts off a kept-alive caller dropped from the allow-list at its next request, keeping the others' connections", async () => {
    const agentB = new Agent({ keepAlive: true, maxSockets: 1 });
    const agentA = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await callServer({ port: server.port, caller: callerOf(clientB), agent: agentB })).status).toBe(
        200,
      );
      expect(
        (await callServer({ port: server.port, caller: callerOf(pki.client), agent: agentA })).status,
      ).toBe(200);

      await afterPolicyReload(server, () => writePolicy(policyFile, { allowedClients: ["client-a"] }));

      const cutOff = await callServer({ port: server.port, caller: callerOf(clientB), agent: agentB });
      expect(cutOff.reusedSocket).toBe(true); // refused on the connection it already had
      expect(cutOff.status).toBe(403);
      expect(cutOff.headers.connection).toBe("close");
      expect(errorOf(cutOff.body)).toMatchObject({
        code: "forbidden",
        message: `client "client-b" is not on the allow-list (MTLS_POLICY_FILE ${policyFile})`,
      });
      const again = await callServer({ port: server.port, caller: callerOf(clientB), agent: agentB });
      expect(again.reusedSocket).toBe(false); // the old connection was closed
      expect(again.status).toBe(403);

      const stillServed = await callServer({
        port: server.port,
        caller: callerOf(pki.client),
        agent: agentA,
      });
      expect(stillServed.status).toBe(200);
      expect(stillServed.reusedSocket).toBe(true);

      const refusal = await server.waitForLine(
        (entry) => entry.event === "request" && entry.status === 403 && entry.refusal === "not_allowed",
      );
      expect(refusal).toMatchObject({ level: "warn", peer: { commonName: "client-b" } });
      expect(await metric(server.statusUrl, "mtls_access_refusals_total", { reason: "not_allowed" })).toBe(3);
    } finally {
      agentA.destroy();
      agentB.destroy();
    }
  });

  it("re-reads the file on SIGHUP", async () => {
    const line = await afterPolicyReload(server, () => process.kill(server.pid, "SIGHUP"));
    expect(line).toMatchObject({ result: "success", trigger: "signal", changed: false });
    expect(await policyStatus(server.statusUrl)).toMatchObject({
      lastReload: { result: "success", trigger: "signal" },
    });
  });
});
