/**
 * The TLS policy from the policy file is applied without a restart (setSecureContext with new
 * protocol limits): switching an `intermediate` server to `modern` refuses new TLS 1.2 handshakes
 * at once while a TLS 1.2 connection made before keeps working (a connection keeps the version it
 * negotiated); an identity reload afterwards keeps the file's TLS policy; removing the key from the
 * file gives MTLS_TLS_POLICY back. A TLS policy the file names wrongly keeps the last good one.
 */
import { Agent } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { afterPolicyReload, policyPath, policyStatus, writePolicy } from "./support/policy.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, handshakeFailures, metric } from "./support/status.ts";
import { type Caller, callServer, expectCallRefused } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let server: RunningServer;
let policyFile: string;
let caller: Caller;
const TLS12 = { minVersion: "TLSv1.2", maxVersion: "TLSv1.2" } as const;

beforeAll(async () => {
  pki = await createTestPki();
  caller = { ca: pki.caPem, cert: pki.client.chainPem, key: pki.client.keyPem };
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  policyFile = policyPath(files.dir);
  await writePolicy(policyFile, {});
  server = await startServer({
    identity: files,
    env: { MTLS_POLICY_FILE: policyFile, MTLS_TLS_POLICY: "intermediate", MTLS_RELOAD_POLL_MS: "0" },
  });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

async function expectTls12Refused(): Promise<void> {
  const before = await handshakeFailures(server.statusUrl, "protocol_or_cipher_mismatch");
  await expectCallRefused({ port: server.port, caller, tls: TLS12 });
  await eventually(
    () => handshakeFailures(server.statusUrl, "protocol_or_cipher_mismatch"),
    (count) => count === before + 1,
  );
}

describe("TLS policy from the policy file", () => {
  it("switches new handshakes to TLS 1.3 only; a TLS 1.2 connection made before keeps working", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await callServer({ port: server.port, caller, tls: TLS12, agent });
      expect(before.protocol).toBe("TLSv1.2");

      const line = await afterPolicyReload(server, () => writePolicy(policyFile, { tlsPolicy: "modern" }));
      expect(line).toMatchObject({
        result: "success",
        policy: { tlsPolicy: "modern", tlsPolicySource: "file" },
      });
      expect(await policyStatus(server.statusUrl)).toMatchObject({
        tlsPolicy: "modern",
        tlsPolicySource: "file",
      });

      await expectTls12Refused();
      expect((await callServer({ port: server.port, caller })).protocol).toBe("TLSv1.3");
      const kept = await callServer({ port: server.port, caller, tls: TLS12, agent });
      expect(kept).toMatchObject({ status: 200, reusedSocket: true, protocol: "TLSv1.2" });
    } finally {
      agent.destroy();
    }
  });

  it("keeps the file's TLS policy across an identity reload", async () => {
    const reloads = await metric(server.statusUrl, "mtls_reloads_total", { result: "success" });
    const renewed = await issueLeaf(pki.issuing, {
      commonName: "mtls-server",
      purpose: "server",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    await writeIdentity({ cert: renewed.chainPem, key: renewed.keyPem }, files.dir);
    await eventually(
      () => metric(server.statusUrl, "mtls_reloads_total", { result: "success" }),
      (count) => count === reloads + 1,
    );
    expect((await callServer({ port: server.port, caller })).serverSerial).toBe(renewed.serial);
    await expectTls12Refused();
  });

  it("keeps the last good TLS policy when the file names an unknown one", async () => {
    const line = await afterPolicyReload(
      server,
      () => writePolicy(policyFile, { tlsPolicy: "tls10" }),
      (entry) => entry.result === "failure",
    );
    expect(line).toMatchObject({ reason: "bad_tls_policy", kept: { tlsPolicy: "modern" } });
    expect(String(line.message)).toContain(
      'tlsPolicy "tls10" is not a TLS policy: expected modern or intermediate',
    );
    await expectTls12Refused();
  });

  it("gives MTLS_TLS_POLICY back when the file no longer sets one", async () => {
    const line = await afterPolicyReload(server, () => writePolicy(policyFile, {}));
    expect(line).toMatchObject({
      result: "success",
      policy: { tlsPolicy: "intermediate", tlsPolicySource: "env" },
    });
    expect((await callServer({ port: server.port, caller, tls: TLS12 })).protocol).toBe("TLSv1.2");
  });
});
