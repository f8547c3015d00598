/**
 * Revocation through the policy file: revoking a client's serial while it holds a kept-alive
 * connection cuts it off at its next request (403 with code `revoked`, then the connection closes),
 * new connections of it are refused the same way, counted and logged with reason `revoked`, while
 * another client on the same server, on kept-alive and new connections alike, sees zero failures.
 * A revoked certificate is refused even when its name is on the allow-list, and lifting the
 * revocation lets it back in.
 */
import { Agent } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type Leaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { afterPolicyReload, policyPath, policyStatus, writePolicy } from "./support/policy.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";
import { type Caller, type CallResult, callServer } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let server: RunningServer;
let leaked: Leaf;
let policyFile: string;
const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-b" });
  leaked = await issueLeaf(pki.issuing, { commonName: "client-a", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  policyFile = policyPath(files.dir);
  await writePolicy(policyFile, { revokedSerials: [] });
  server = await startServer({ identity: files, env: { MTLS_POLICY_FILE: policyFile } });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

/** The other client: one kept-alive connection and a new connection per call, both in a loop. */
function bystander(caller: Caller) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const keptAlive: CallResult[] = [];
  const fresh: CallResult[] = [];
  const failures: unknown[] = [];
  let running = true;
  const loop = async (call: () => Promise<CallResult>, into: CallResult[]) => {
    while (running) {
      try {
        const result = await call();
        if (result.status !== 200) throw new Error(`HTTP ${result.status}: ${result.body}`);
        into.push(result);
      } catch (error) {
        failures.push(error);
      }
      await sleep(10); // pacing of the load, not synchronisation
    }
  };
  const done = Promise.all([
    loop(() => callServer({ port: server.port, caller, agent }), keptAlive),
    loop(() => callServer({ port: server.port, caller }), fresh),
  ]);
  return {
    keptAlive,
    fresh,
    failures,
    async stop() {
      running = false;
      await done;
      agent.destroy();
    },
  };
}

describe("revocation", () => {
  it("cuts off a revoked caller's kept-alive connection at its next request; the other client sees zero failures", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const other = bystander(callerOf(pki.client));
    try {
      expect((await callServer({ port: server.port, caller: callerOf(leaked), agent })).status).toBe(200);

      // As `openssl x509 -serial -noout` prints it.
      const reload = await afterPolicyReload(server, () =>
        writePolicy(policyFile, { revokedSerials: [`serial=${leaked.serial}`] }),
      );
      expect(reload).toMatchObject({
        result: "success",
        newlyRevoked: [leaked.serial.replace(/^0+/, "")],
        policy: { revokedSerials: 1 },
      });

      const cutOff = await callServer({ port: server.port, caller: callerOf(leaked), agent });
      expect(cutOff.reusedSocket).toBe(true);
      expect(cutOff.status).toBe(403);
      expect(cutOff.headers.connection).toBe("close");
      expect(JSON.parse(cutOff.body).error).toEqual({
        status: 403,
        code: "revoked",
        message: `client "client-a": certificate serial ${leaked.serial} is revoked (MTLS_POLICY_FILE ${policyFile})`,
      });
      const fresh = await callServer({ port: server.port, caller: callerOf(leaked), agent });
      expect(fresh.reusedSocket).toBe(false);
      expect(fresh.status).toBe(403);
      expect(JSON.parse(fresh.body).error.code).toBe("revoked");

      const line = await server.waitForLine(
        (entry) => entry.event === "request" && entry.refusal === "revoked",
      );
      expect(line).toMatchObject({
        level: "warn",
        status: 403,
        peer: { commonName: "client-a", serialNumber: leaked.serial },
      });
      expect(await metric(server.statusUrl, "mtls_access_refusals_total", { reason: "revoked" })).toBe(2);
      expect(await metric(server.statusUrl, "mtls_policy_revoked_serials")).toBe(1);
      expect(await policyStatus(server.statusUrl)).toMatchObject({ revokedSerials: 1, fileState: "valid" });
    } finally {
      await other.stop();
      agent.destroy();
    }
    expect(other.failures).toEqual([]);
    expect(other.keptAlive.length).toBeGreaterThan(3);
    expect(other.fresh.length).toBeGreaterThan(3);
    // The bystander's kept-alive connection was never dropped.
    expect(other.keptAlive.slice(1).every((result) => result.reusedSocket)).toBe(true);
  });

  it("refuses a revoked certificate even when its name is on the allow-list", async () => {
    await afterPolicyReload(server, () =>
      writePolicy(policyFile, { allowedClients: ["client-a", "client-b"], revokedSerials: [leaked.serial] }),
    );
    const refused = await callServer({ port: server.port, caller: callerOf(leaked) });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.code).toBe("revoked");
  });

  it("lets the certificate back in once its serial is no longer revoked", async () => {
    const reload = await afterPolicyReload(server, () =>
      writePolicy(policyFile, { allowedClients: ["client-a", "client-b"], revokedSerials: [] }),
    );
    expect(reload).toMatchObject({ noLongerRevoked: [leaked.serial.replace(/^0+/, "")] });
    const admitted = await callServer({ port: server.port, caller: callerOf(leaked) });
    expect(admitted.status).toBe(200);
    expect(await metric(server.statusUrl, "mtls_policy_revoked_serials")).toBe(0);
  });
});
