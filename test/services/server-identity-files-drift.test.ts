/**
 * On-disk drift of the identity files is visible while the server keeps serving: a corrupted
 * certificate file turns `mtls_identity_files_valid` to 0 and `/readyz` names the broken file (the
 * server stays ready, with its identity in memory, and every call keeps succeeding with the old
 * certificate); the poll timer re-checks unchanged files; repairing the file turns the gauge back
 * to 1. One warn line when the files break, one info line when they are valid again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, replaceFile, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, getMetrics, getStatus, sample } from "./support/status.ts";
import { callServer } from "./support/tls-client.ts";

interface FilesStatus {
  state: string;
  files: string[];
  reason: string | null;
  message: string | null;
  checks: number;
}

let pki: TestPki;
let files: IdentityFiles;
let server: RunningServer;

beforeAll(async () => {
  pki = await createTestPki();
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  server = await startServer({
    identity: files,
    env: { MTLS_RELOAD_DEBOUNCE_MS: "50", MTLS_RELOAD_POLL_MS: "100" },
  });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

async function readyz(): Promise<{ status: number; body: { status: string; identityFiles: FilesStatus } }> {
  const { status, body } = await getStatus(server.statusUrl, "/readyz");
  return { status, body: JSON.parse(body) };
}

const filesValid = async () => sample(await getMetrics(server.statusUrl), "mtls_identity_files_valid");

async function callSucceedsWithOldCertificate(): Promise<void> {
  const call = await callServer({
    port: server.port,
    caller: { ca: pki.caPem, cert: pki.client.chainPem, key: pki.client.keyPem },
  });
  expect(call.status).toBe(200);
  expect(call.serverSerial).toBe(pki.server.serial.toUpperCase());
}

describe("identity files drifting on disk under a running server", () => {
  it("reports valid files after start, and re-checks them on the poll timer while nothing changes", async () => {
    expect(await filesValid()).toBe(1);
    const first = (await readyz()).body.identityFiles;
    expect(first.state).toBe("valid");
    const later = await eventually(
      async () => (await readyz()).body.identityFiles,
      (status) => status.checks >= first.checks + 3,
    );
    expect(later.state).toBe("valid");
  });

  it("turns the gauge to 0 and names the broken file in /readyz, still ready and serving the old identity", async () => {
    await replaceFile(files.cert, "this is not a certificate\n");
    expect(await eventually(filesValid, (value) => value === 0)).toBe(0);
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.status).toBe("ready");
    expect(body.identityFiles.state).toBe("broken");
    expect(body.identityFiles.files).toEqual([files.cert]);
    expect(body.identityFiles.reason).toBe("not_pem");
    expect(body.identityFiles.message).toContain(`MTLS_CERT_FILE (${files.cert})`);
    await callSucceedsWithOldCertificate();
    const warned = server.lines.filter((l) => l.event === "identity_files" && l.state === "broken");
    expect(warned).toHaveLength(1);
    expect(JSON.stringify(warned[0])).not.toContain("PRIVATE KEY");
  });

  it("stays broken across further timer checks without repeating the warning", async () => {
    const before = (await readyz()).body.identityFiles.checks;
    await eventually(
      async () => (await readyz()).body.identityFiles,
      (status) => status.checks >= before + 3,
    );
    expect(await filesValid()).toBe(0);
    expect(server.lines.filter((l) => l.event === "identity_files" && l.state === "broken")).toHaveLength(1);
  });

  it("turns the gauge back to 1 once the file is repaired, and says so once", async () => {
    await replaceFile(files.cert, pki.server.chainPem);
    expect(await eventually(filesValid, (value) => value === 1)).toBe(1);
    const { body } = await readyz();
    expect(body.identityFiles).toMatchObject({ state: "valid", files: [], reason: null, message: null });
    await server.waitForLine((l) => l.event === "identity_files" && l.state === "valid");
    await callSucceedsWithOldCertificate();
  });
});
