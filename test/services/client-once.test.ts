/**
 * The client's --once mode: one round, one JSON line, exit 0; or one clear line with the reason in
 * words and exit 4: unknown CA, name mismatch, refused by the server (TLS-level and 403),
 * connection refused, timeout. Start-up errors of the client's own identity exit 3.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createCa, createTestPki, issueLeaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { refusingPort } from "./support/ports.ts";
import {
  MAIN_ENTRY,
  type RunningServer,
  runClientOnce,
  startServer,
  stopAllServices,
} from "./support/service-process.ts";

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;
let server: RunningServer;
const dirs: string[] = [];

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-a" });
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
  dirs.push(serverFiles.dir, clientFiles.dir);
  server = await startServer({ identity: serverFiles, env: { MTLS_ALLOWED_CLIENTS: "client-a,client-x" } });
});

afterAll(async () => {
  await stopAllServices();
  for (const dir of dirs) await removeDir(dir);
});

async function filesFor(contents: { cert: string; key: string; ca: string }): Promise<IdentityFiles> {
  const files = await writeIdentity(contents);
  dirs.push(files.dir);
  return files;
}

/** Runs --once, expects a failure with `reason`; returns the message. */
async function expectFailure(
  files: IdentityFiles,
  env: Record<string, string>,
  reason: string,
): Promise<string> {
  const run = await runClientOnce(files, env);
  expect(run.code, run.stdout + run.stderr).toBe(4);
  expect(run.stdout).toBe("");
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.result).toMatchObject({ level: "error", event: "round", result: "failure", reason });
  return String(run.result?.message);
}

describe("client --once", () => {
  it("prints one JSON line and exits 0 after whoami and echo (through main.ts client)", async () => {
    const run = await runClientOnce(
      clientFiles,
      { MTLS_SERVER_URL: `https://localhost:${server.port}` },
      MAIN_ENTRY,
      ["client", "--once"],
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    expect(run.result).toMatchObject({
      event: "round",
      result: "ok",
      identity: { commonName: "client-a", serialNumber: pki.client.serial },
      server: { commonName: "mtls-server", serialNumber: pki.server.serial, protocol: "TLSv1.3" },
    });
  });

  it("says unknown CA when the server's certificate is from a CA it does not trust", async () => {
    const otherCa = await createCa({ commonName: "impostor root" });
    const impostor = await issueLeaf(otherCa, {
      commonName: "mtls-server",
      purpose: "server",
      dnsNames: ["localhost"],
    });
    // Its own bundle holds both roots: it starts (its chain checks out) and would accept our client.
    const impostorFiles = await filesFor({
      cert: impostor.chainPem,
      key: impostor.keyPem,
      ca: otherCa.certPem + pki.caPem,
    });
    const impostorServer = await startServer({ identity: impostorFiles });
    const message = await expectFailure(
      clientFiles,
      { MTLS_SERVER_URL: `https://localhost:${impostorServer.port}` },
      "unknown_ca",
    );
    expect(message).toMatch(/^unknown CA: the server's certificate does not chain to a CA in MTLS_CA_FILE/);
    await impostorServer.stop();
  });

  it("says name mismatch when the server's certificate does not carry the expected name", async () => {
    const message = await expectFailure(
      clientFiles,
      { MTLS_SERVER_URL: `https://localhost:${server.port}`, MTLS_SERVER_NAME: "payments.internal" },
      "name_mismatch",
    );
    expect(message).toMatch(/^name mismatch: the server's certificate is not valid for "payments.internal"/);
  });

  it("says refused by the server, quoting its 400, when the server does not accept its certificate", async () => {
    const otherCa = await createCa({ commonName: "unknown to the server" });
    const stranger = await issueLeaf(otherCa, { commonName: "client-x", purpose: "client" });
    const strangerFiles = await filesFor({
      cert: stranger.chainPem,
      key: stranger.keyPem,
      ca: otherCa.certPem + pki.caPem,
    });
    const message = await expectFailure(
      strangerFiles,
      { MTLS_SERVER_URL: `https://localhost:${server.port}` },
      "refused_by_server",
    );
    expect(message).toBe(
      "refused by the server: HTTP 400 from /v1/whoami: client certificate rejected: issued by an unknown CA",
    );
  });

  it("says refused by the server on 403 (not on the allow-list)", async () => {
    const outsider = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
    const outsiderFiles = await filesFor({ cert: outsider.chainPem, key: outsider.keyPem, ca: pki.caPem });
    const message = await expectFailure(
      outsiderFiles,
      { MTLS_SERVER_URL: `https://localhost:${server.port}` },
      "refused_by_server",
    );
    expect(message).toMatch(
      /^refused by the server: HTTP 403 from \/v1\/whoami: client "client-b" is not on the allow-list/,
    );
  });

  it("says connection refused when nothing listens", async () => {
    const { port, release } = await refusingPort();
    try {
      const message = await expectFailure(
        clientFiles,
        { MTLS_SERVER_URL: `https://localhost:${port}` },
        "connection_refused",
      );
      expect(message).toBe(`connection refused: nothing listens on localhost:${port}`);
    } finally {
      await release();
    }
  });

  it("says timeout when the server never answers", async () => {
    const silent = await silentServer();
    try {
      const message = await expectFailure(
        clientFiles,
        { MTLS_SERVER_URL: `https://localhost:${silent.port}`, MTLS_REQUEST_TIMEOUT_MS: "500" },
        "timeout",
      );
      expect(message).toBe(`timeout: no complete answer from localhost:${silent.port} within 500 ms`);
    } finally {
      silent.server.close();
    }
  });

  it("exits 3 with one line when its own certificate is not for client use", async () => {
    const wrong = await filesFor({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
    const run = await runClientOnce(wrong, { MTLS_SERVER_URL: `https://localhost:${server.port}` });
    expect(run.code).toBe(3);
    expect(run.result).toMatchObject({ event: "identity_error", kind: "wrong_purpose" });
    expect(String(run.result?.message)).toMatch(
      /without clientAuth .* which the client needs \(it has: serverAuth\)/,
    );
  });
});

/** A TCP listener that accepts and never says a word (no TLS ServerHello). */
async function silentServer(): Promise<{ server: Server; port: number }> {
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  server.on("close", () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = server.close.bind(server);
  server.close = ((callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  }) as typeof server.close;
  return { server, port: (server.address() as { port: number }).port };
}
