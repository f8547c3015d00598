/**
 * The client's side of a revocation: a client in loop mode whose serial the server's policy file
 * revokes fails its next round with reason `revoked` (in its log line and its failure metric),
 * distinct from other refusals; `--once` says so in words and exits 4.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { afterPolicyReload, policyPath, writePolicy } from "./support/policy.ts";
import {
  CLIENT_ENTRY,
  type RunningServer,
  runClientOnce,
  spawnService,
  startServer,
  stopAllServices,
} from "./support/service-process.ts";
import { metric } from "./support/status.ts";

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;
let server: RunningServer;
let policyFile: string;

beforeAll(async () => {
  pki = await createTestPki();
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
  policyFile = policyPath(serverFiles.dir);
  await writePolicy(policyFile, { revokedSerials: [] });
  server = await startServer({ identity: serverFiles, env: { MTLS_POLICY_FILE: policyFile } });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(serverFiles.dir);
  await removeDir(clientFiles.dir);
});

it("a looping client fails its next round with reason revoked once its serial is revoked", async () => {
  const client = spawnService(CLIENT_ENTRY, [], clientFiles, {
    MTLS_SERVER_URL: `https://localhost:${server.port}`,
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
    MTLS_INTERVAL_MS: "100",
    MTLS_BACKOFF_INITIAL_MS: "100",
    MTLS_BACKOFF_MAX_MS: "200",
  });
  const status = await client.waitForLine((line) => line.event === "status_listening");
  const statusUrl = `http://${String(status.address)}`;
  await client.waitForLine((line) => line.event === "round" && line.result === "ok");

  await afterPolicyReload(server, () => writePolicy(policyFile, { revokedSerials: [pki.client.serial] }));
  const failed = await client.waitForLine((line) => line.event === "round" && line.result === "failure");
  expect(failed).toMatchObject({ level: "warn", reason: "revoked" });
  // A round is whoami then echo: the revocation may land between the two.
  expect(String(failed.message)).toMatch(
    /^revoked by the server: HTTP 403 from \/v1\/(whoami|echo): client "client-a": certificate serial [0-9A-F]+ is revoked/,
  );
  expect(await metric(statusUrl, "mtls_client_round_failures_total", { reason: "revoked" })).toBeGreaterThan(
    0,
  );
  expect(await metric(statusUrl, "mtls_client_round_failures_total", { reason: "refused_by_server" })).toBe(
    0,
  );
  await client.stop();
});

it("--once says revoked in words and exits 4", async () => {
  const run = await runClientOnce(clientFiles, { MTLS_SERVER_URL: `https://localhost:${server.port}` });
  expect(run.code).toBe(4);
  expect(run.result).toMatchObject({ event: "round", reason: "revoked" });
  expect(String(run.result?.message)).toContain("this certificate needs replacing");
});
