/**
 * MTLS_UPSTREAM=http:// when the upstream fails: refused gives 502, accepted-but-silent gives 504
 * after MTLS_UPSTREAM_TIMEOUT_MS, each with a short JSON body and counted by reason; a burst of
 * failures is logged once, and the first answer after it logs one recovery line with the count;
 * an upstream that dies mid-answer gives the caller a cut answer, never a complete-looking one:
 * no last chunk of a chunked body, and the connection closed so that nothing can follow a short
 * Content-Length body.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer as createTcpServer, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.ts";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";
import { type Caller, callServer } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let good: Caller;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  pki = await createTestPki();
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  good = { ca: pki.caPem, cert: pki.client.chainPem, key: pki.client.keyPem };
});

afterAll(async () => {
  await stopAllServices();
  for (const cleanup of cleanups) cleanup();
  await removeDir(files.dir);
});

function listenHttp(port: number): Promise<Server> {
  const server = createHttpServer((req, res) => {
    req.resume();
    res.end("back");
  });
  cleanups.push(() => server.closeAllConnections());
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

const STATUS_LINE = /HTTP\/1\.1 \d{3}/g;

/** Bytes of the answer an upstream of dyingUpstream() sends before it dies. */
const CUT_AFTER = 1000;

/**
 * An upstream that answers 200 with a 100,000-byte body announced by Content-Length, or chunked,
 * and destroys its connection after the first CUT_AFTER bytes of it.
 */
async function dyingUpstream(framing: "content-length" | "chunked"): Promise<number> {
  const dying = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, framing === "content-length" ? { "content-length": "100000" } : {});
    res.write(Buffer.alloc(CUT_AFTER, 1), () => res.socket?.destroy());
  });
  await new Promise<void>((resolve) => dying.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => {
    dying.closeAllConnections();
    dying.close();
  });
  return (dying.address() as { port: number }).port;
}

function proxyTo(port: number): Promise<RunningServer> {
  return startServer({ identity: files, env: { MTLS_UPSTREAM: `http://127.0.0.1:${port}` } });
}

/** One request on a new connection; what the caller saw when the connection closed. */
function callAndRead(port: number): Promise<{ status: number; complete: boolean; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: "127.0.0.1", port, servername: "localhost", agent: false, ...good });
    req.on("error", reject);
    req.on("response", (res) => {
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("error", () => {}); // "aborted": the cut itself, checked through res.complete
      res.on("close", () => resolve({ status: res.statusCode ?? 0, complete: res.complete, bytes }));
    });
    req.end();
  });
}

describe("reverse proxy: upstream failures", () => {
  it("answers 502 while the upstream refuses, logs the burst once, and one recovery line when it is back", async () => {
    const port = await freePort(); // nothing listens there now
    const server = await startServer({ identity: files, env: { MTLS_UPSTREAM: `http://127.0.0.1:${port}` } });
    for (let index = 0; index < 5; index++) {
      const result = await callServer({ port: server.port, caller: good, path: `/try/${index}` });
      expect(result.status).toBe(502);
      expect(JSON.parse(result.body)).toEqual({
        error: {
          status: 502,
          code: "bad_gateway",
          message: `the upstream 127.0.0.1:${port} refused the connection`,
        },
      });
    }
    expect(
      await metric(server.statusUrl, "mtls_upstream_errors_total", { reason: "connection_refused" }),
    ).toBe(5);
    expect(await metric(server.statusUrl, "mtls_requests_total", { route: "proxy", status: "502" })).toBe(5);
    const errorLines = server.lines.filter((line) => line.event === "upstream_error");
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatchObject({
      level: "warn",
      reason: "connection_refused",
      code: "ECONNREFUSED",
    });

    const upstream = await listenHttp(port);
    const back = await callServer({ port: server.port, caller: good });
    expect(back).toMatchObject({ status: 200, body: "back" });
    const recovered = await server.waitForLine((line) => line.event === "upstream_recovered");
    expect(recovered).toMatchObject({ failures: 5 });
    expect(server.lines.filter((line) => line.event === "upstream_error")).toHaveLength(1);
    upstream.close();
  });

  it("answers 504 when the upstream accepts and never answers within MTLS_UPSTREAM_TIMEOUT_MS", async () => {
    const silent: Socket[] = [];
    const blackHole = createTcpServer((socket) => {
      silent.push(socket);
      socket.resume(); // reads the request, never writes
    });
    await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => {
      for (const socket of silent) socket.destroy();
      blackHole.close();
    });
    const port = (blackHole.address() as { port: number }).port;
    const server: RunningServer = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `http://127.0.0.1:${port}`, MTLS_UPSTREAM_TIMEOUT_MS: "300" },
    });
    const result = await callServer({ port: server.port, caller: good, timeoutMs: 10_000 });
    expect(result.status).toBe(504);
    expect(JSON.parse(result.body).error).toMatchObject({ code: "gateway_timeout" });
    expect(silent).toHaveLength(1); // the request did reach the upstream
    expect(await metric(server.statusUrl, "mtls_upstream_errors_total", { reason: "timeout" })).toBe(1);
    expect(
      await metric(server.statusUrl, "mtls_upstream_errors_total", { reason: "connection_refused" }),
    ).toBe(0);
  });

  it("cuts the caller's answer when the upstream dies in the middle of a Content-Length body", async () => {
    const server = await proxyTo(await dyingUpstream("content-length"));
    const seen = await callAndRead(server.port);
    expect(seen.status).toBe(200);
    expect(seen.complete).toBe(false);
    expect(seen.bytes).toBe(CUT_AFTER);
  });

  it("never sends the last chunk of a chunked answer the upstream died in the middle of", async () => {
    const server = await proxyTo(await dyingUpstream("chunked"));
    const seen = await callAndRead(server.port);
    expect(seen.status).toBe(200);
    // A terminating zero-length chunk would make the cut body look complete.
    expect(seen.complete).toBe(false);
    expect(seen.bytes).toBe(CUT_AFTER);
  });

  it("closes a keep-alive connection whose answer was cut: nothing follows the short body, not even a pipelined answer", async () => {
    const server = await proxyTo(await dyingUpstream("content-length"));
    // Two requests in one write: had the cut answer been ended as if complete, the second
    // answer's bytes would follow on the same connection and the caller would read them as the
    // rest of the first body.
    const request = "GET /first HTTP/1.1\r\nhost: localhost\r\n\r\n";
    const received = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: "127.0.0.1", port: server.port, servername: "localhost", ...good });
      const chunks: Buffer[] = [];
      const text = () => Buffer.concat(chunks).toString("latin1");
      socket.on("secureConnect", () => socket.write(request + request.replace("first", "second")));
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        // A second answer on this connection is the failure itself: no need to wait for more.
        if ((text().match(STATUS_LINE) ?? []).length > 1) socket.destroy();
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(text()));
    });
    expect(received.match(STATUS_LINE)).toEqual(["HTTP/1.1 200"]);
    expect(received.endsWith("\x01".repeat(CUT_AFTER))).toBe(true);
  });
});
