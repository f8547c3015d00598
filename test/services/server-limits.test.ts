/**
 * Limits and shutdown: silent connections beyond the unauthenticated budget make room for newcomers
 * (the oldest is closed, see server-admission.test.ts for the verified budget); a request
 * whose headers never complete is closed after MTLS_HEADERS_TIMEOUT_MS; SIGTERM stops accepting,
 * lets the request in flight finish and exits 0, or closes what is left at the shutdown deadline.
 */
import { connect as netConnect, type Socket } from "node:net";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, getStatus, metric } from "./support/status.ts";
import { type Caller, callServer, expectCallRefused } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let good: Caller;

beforeAll(async () => {
  pki = await createTestPki();
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  good = { ca: pki.caPem, cert: pki.client.chainPem, key: pki.client.keyPem };
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

function openRaw(port: number): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, "127.0.0.1");
    const opened = Date.now();
    const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now() - opened)));
    socket.on("error", () => {});
    socket.once("connect", () => resolve({ socket, closed }));
    socket.once("error", reject);
  });
}

/** A TLS connection with the good identity that then sends `head` and nothing more. */
function stalledRequest(
  port: number,
  head: string,
): Promise<{ socket: TLSSocket; closed: Promise<{ afterMs: number; data: string }> }> {
  return new Promise((resolve, reject) => {
    let data = "";
    const socket = tlsConnect({ port, host: "127.0.0.1", servername: "localhost", ...good }, () => {
      socket.write(head);
      const sent = Date.now();
      resolve({
        socket,
        closed: new Promise((done) => socket.once("close", () => done({ afterMs: Date.now() - sent, data }))),
      });
    });
    socket.setEncoding("utf8").on("data", (chunk: string) => (data += chunk));
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}

describe("limits", () => {
  it("keeps at most MTLS_MAX_UNAUTHENTICATED_CONNECTIONS silent connections, closing the oldest for a newcomer", async () => {
    const server = await startServer({
      identity: files,
      env: { MTLS_MAX_CONNECTIONS: "3", MTLS_HANDSHAKE_TIMEOUT_MS: "5000" }, // 1 of the 3 for handshakes
    });
    const first = await openRaw(server.port);
    await eventually(
      () => metric(server.statusUrl, "mtls_connections_in_use", { budget: "unauthenticated" }),
      (open) => open === 1,
    );
    const second = await openRaw(server.port);
    await first.closed; // the server closes the oldest at once (the 5 s handshake timeout would be the other way)
    // A verified caller takes the slot of the second one in turn.
    expect((await callServer({ port: server.port, caller: good })).status).toBe(200);
    await second.closed;
    expect(
      await metric(server.statusUrl, "mtls_connections_closed_total", {
        budget: "unauthenticated",
        reason: "evicted",
      }),
    ).toBe(2);
    await eventually(
      () => metric(server.statusUrl, "mtls_open_connections"),
      (open) => open === 0,
    );
    await server.stop();
  });

  it("closes a request whose headers never complete after MTLS_HEADERS_TIMEOUT_MS", async () => {
    const server = await startServer({ identity: files, env: { MTLS_HEADERS_TIMEOUT_MS: "500" } });
    const stalled = await stalledRequest(server.port, "GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\n");
    const { afterMs, data } = await stalled.closed;
    expect(afterMs).toBeGreaterThanOrEqual(400); // not before the timeout
    expect(data).toMatch(/^HTTP\/1\.1 408/); // and closed by the headers timeout (408), nothing else
    expect((await callServer({ port: server.port, caller: good })).status).toBe(200);
    await server.stop();
  });
});

describe("graceful shutdown", () => {
  it("stops accepting on SIGTERM, finishes the request in flight, and exits 0", async () => {
    const server = await startServer({ identity: files });
    const body = Buffer.alloc(64 * 1024, 0x61);
    const stalled = await stalledRequest(
      server.port,
      `POST /v1/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body.subarray(0, 1000).toString()}`,
    );
    process.kill(server.pid, "SIGTERM");
    await server.waitForLine((line) => line.event === "shutdown");
    const readiness = await getStatus(server.statusUrl, "/readyz").catch(() => ({ status: 0, body: "" }));
    expect([0, 503]).toContain(readiness.status); // not ready while draining (or already closed)
    const refused = await expectCallRefused({ port: server.port, caller: good });
    expect(refused.code).toBe("ECONNREFUSED");
    // The request in flight is still answered once its body arrives.
    stalled.socket.write(body.subarray(1000));
    const { data } = await stalled.closed;
    expect(data).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(data.endsWith(body.toString())).toBe(true);
    expect((await server.exited).code).toBe(0);
    expect(server.lines.at(-1)).toMatchObject({ event: "stopped", signal: "SIGTERM", closedForcibly: 0 });
  });

  it("closes what is left at the shutdown deadline and still exits 0", async () => {
    const server = await startServer({ identity: files, env: { MTLS_SHUTDOWN_TIMEOUT_MS: "300" } });
    const stalled = await stalledRequest(
      server.port,
      "POST /v1/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc",
    );
    await eventually(
      () => metric(server.statusUrl, "mtls_open_connections"),
      (open) => open === 1,
    );
    process.kill(server.pid, "SIGTERM");
    await stalled.closed; // closed by the server at the deadline: the request never completes
    expect((await server.exited).code).toBe(0);
    expect(server.lines.at(-1)).toMatchObject({ event: "stopped", closedForcibly: 1 });
  });
});
