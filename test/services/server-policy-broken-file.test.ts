/**
 * A broken policy file never weakens the policy in force: each problem (not JSON, not an object,
 * unknown key, wrong type, malformed serial) gives one warn line naming the file and the problem,
 * counted once, however often the file is re-read; the last good policy stays enforced (the revoked
 * client stays refused) and the validity gauge says 0 until the file is fixed. A removed file keeps
 * the last good policy too. At start, with no earlier policy to keep, a broken file stops the server
 * with one line and exit code 2.
 */
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type Leaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import {
  afterPolicyReload,
  policyPath,
  policyReloadLines,
  policyStatus,
  waitForPolicyChecks,
  writePolicy,
} from "./support/policy.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";
import { type Caller, callServer } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let server: RunningServer;
let revoked: Leaf;
let outsider: Leaf;
let policyFile: string;
const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-a" });
  revoked = await issueLeaf(pki.issuing, { commonName: "client-r", purpose: "client" });
  outsider = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  policyFile = policyPath(files.dir);
  await writePolicy(policyFile, {
    allowedClients: ["client-a", "client-r"],
    revokedSerials: [revoked.serial],
  });
  // A fast poll on top of the watch: the same broken file is re-read many times, reported once.
  server = await startServer({
    identity: files,
    env: { MTLS_POLICY_FILE: policyFile, MTLS_RELOAD_POLL_MS: "100" },
  });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

async function expectLastGoodPolicyEnforced(): Promise<void> {
  const good = await callServer({ port: server.port, caller: callerOf(pki.client) });
  expect(good.status).toBe(200);
  const stillRevoked = await callServer({ port: server.port, caller: callerOf(revoked) });
  expect(stillRevoked.status).toBe(403);
  expect(JSON.parse(stillRevoked.body).error.code).toBe("revoked");
  const stillOutside = await callServer({ port: server.port, caller: callerOf(outsider) });
  expect(stillOutside.status).toBe(403);
}

const BROKEN: Array<{ kind: string; text: string; says: string }> = [
  { kind: "not_json", text: '{"allowedClients": ["client-a",', says: "is not JSON" },
  { kind: "not_an_object", text: '["client-a"]', says: "must hold a JSON object" },
  {
    kind: "unknown_key",
    text: JSON.stringify({ allowedClients: ["client-b"], revokedSerial: [] }),
    says: 'has unknown key "revokedSerial": expected only allowedClients, revokedSerials',
  },
  {
    kind: "wrong_type",
    text: JSON.stringify({ allowedClients: "client-b" }),
    says: "allowedClients must be an array of strings, not a string",
  },
  {
    kind: "wrong_type",
    text: '{"revokedSerials": [1234]}',
    says: "revokedSerials[0] must be a string, not a number (1234) (write serials as hex strings",
  },
  {
    kind: "bad_serial",
    text: JSON.stringify({ revokedSerials: ["0A1B", "not-a-serial"] }),
    says: 'revokedSerials[1] "not-a-serial" is not a hexadecimal serial number',
  },
];

describe("broken policy file", () => {
  it.each(BROKEN)(
    "keeps the last good policy on a file with $kind and says so once ($says)",
    async ({ kind, text, says }) => {
      const failures = await metric(server.statusUrl, "mtls_policy_reloads_total", { result: "failure" });
      const from = server.lines.length;
      const line = await afterPolicyReload(
        server,
        () => writePolicy(policyFile, text),
        (entry) => entry.result === "failure",
      );
      expect(line).toMatchObject({
        level: "warn",
        reason: kind,
        file: policyFile,
        kept: { allowListSource: "file", allowedClients: ["client-a", "client-r"], revokedSerials: 1 },
      });
      expect(String(line.message)).toContain(`MTLS_POLICY_FILE (${policyFile})`);
      expect(String(line.message)).toContain(says);

      await waitForPolicyChecks(server.statusUrl, 3); // the poll re-reads the same broken file
      expect(policyReloadLines(server, from)).toHaveLength(1);
      expect(await metric(server.statusUrl, "mtls_policy_reloads_total", { result: "failure" })).toBe(
        failures + 1,
      );
      expect(await metric(server.statusUrl, "mtls_policy_file_valid")).toBe(0);
      expect(await policyStatus(server.statusUrl)).toMatchObject({
        fileState: "broken",
        lastReload: { result: "failure", reason: kind },
      });
      await expectLastGoodPolicyEnforced();
    },
  );

  it("puts a fixed file in force and turns the validity gauge back to 1", async () => {
    const line = await afterPolicyReload(server, () =>
      writePolicy(policyFile, {
        allowedClients: ["client-a", "client-b", "client-r"],
        revokedSerials: [revoked.serial],
      }),
    );
    expect(line).toMatchObject({
      result: "success",
      policy: { allowedClients: ["client-a", "client-b", "client-r"] },
    });
    expect(await metric(server.statusUrl, "mtls_policy_file_valid")).toBe(1);
    expect((await callServer({ port: server.port, caller: callerOf(outsider) })).status).toBe(200);
  });

  it("keeps the last good policy when the file is removed, and says so once", async () => {
    const from = server.lines.length;
    const line = await afterPolicyReload(server, () => rm(policyFile));
    expect(line).toMatchObject({
      level: "warn",
      result: "failure",
      reason: "missing",
      kept: { revokedSerials: 1 },
    });
    expect(String(line.message)).toContain("write {} to lift the file policy");
    await waitForPolicyChecks(server.statusUrl, 3);
    expect(policyReloadLines(server, from)).toHaveLength(1);
    const stillRevoked = await callServer({ port: server.port, caller: callerOf(revoked) });
    expect(JSON.parse(stillRevoked.body).error.code).toBe("revoked");
  });

  it("refuses to start with a broken file: one line naming the file and the problem, exit 2", async () => {
    const broken = `${files.dir}/broken-policy.json`;
    await writePolicy(broken, JSON.stringify({ allowedClients: ["client-a"], revokedSerials: ["0A:1G"] }));
    const failing = await startServer({
      identity: files,
      env: { MTLS_POLICY_FILE: broken },
      waitReady: false,
    });
    const { code } = await failing.exited;
    expect(code).toBe(2);
    const errors = failing.lines.filter((entry) => entry.level === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      event: "config_error",
      message: `MTLS_POLICY_FILE (${broken}): revokedSerials[0] "0A:1G" is not a hexadecimal serial number (digits 0-9, a-f, optional colons)`,
    });
    expect(failing.lines.some((entry) => entry.event === "listening")).toBe(false);
  });
});
