/**
 * The client loop reports on-disk drift of its identity files as the server does: a key file
 * replaced by one that does not match its certificate turns `mtls_identity_files_valid` to 0 and
 * `/readyz` names the files of the problem, while the client stays ready and its rounds keep
 * succeeding with the identity in memory; restoring the key turns the gauge back to 1.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type IdentityFiles, removeDir, replaceFile, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import {
  CLIENT_ENTRY,
  type LogLine,
  spawnService,
  startServer,
  stopAllServices,
} from "./support/service-process.ts";
import { eventually, getMetrics, getStatus, sample } from "./support/status.ts";

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;

beforeAll(async () => {
  pki = await createTestPki();
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(serverFiles.dir);
  await removeDir(clientFiles.dir);
});

const okRounds = (lines: LogLine[]) => lines.filter((l) => l.event === "round" && l.result === "ok").length;

it("reports a key that no longer matches its certificate, keeps its rounds succeeding, and clears once repaired", async () => {
  const server = await startServer({ identity: serverFiles });
  const client = spawnService(CLIENT_ENTRY, [], clientFiles, {
    MTLS_SERVER_URL: `https://localhost:${server.port}`,
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
    MTLS_INTERVAL_MS: "100",
    MTLS_RELOAD_DEBOUNCE_MS: "50",
    MTLS_RELOAD_POLL_MS: "100",
  });
  const listening = await client.waitForLine((line) => line.event === "status_listening");
  const statusUrl = `http://${String(listening.address)}`;
  const filesValid = async () => sample(await getMetrics(statusUrl), "mtls_identity_files_valid");
  await client.waitForLine(() => okRounds(client.lines) > 0);
  expect(await filesValid()).toBe(1);

  const other = await issueLeaf(pki.issuing, { commonName: "client-a", purpose: "client" });
  await replaceFile(clientFiles.key, other.keyPem, 0o600);
  expect(await eventually(filesValid, (value) => value === 0)).toBe(0);
  const { status, body } = await getStatus(statusUrl, "/readyz");
  expect(status).toBe(200);
  const files = JSON.parse(body).identityFiles;
  expect(files.state).toBe("broken");
  expect(files.reason).toBe("key_mismatch");
  expect(files.files).toEqual([clientFiles.cert, clientFiles.key]);
  const roundsThen = okRounds(client.lines);
  await client.waitForLine(() => okRounds(client.lines) >= roundsThen + 3);
  expect(client.lines.filter((l) => l.event === "round" && l.result !== "ok")).toEqual([]);

  await replaceFile(clientFiles.key, pki.client.keyPem, 0o600);
  expect(await eventually(filesValid, (value) => value === 1)).toBe(1);
  expect(JSON.parse((await getStatus(statusUrl, "/readyz")).body).identityFiles.state).toBe("valid");
});
