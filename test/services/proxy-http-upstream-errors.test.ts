/**
 * MTLS_UPSTREAM=http:// when the upstream fails: refused gives 502, accepted-but-silent gives 504
 * after MTLS_UPSTREAM_TIMEOUT_MS, each with a short JSON body and counted by reason; a burst of
 * failures is logged once, and the first answer after it logs one recovery line with the count;
 * an upstream that dies mid-answer gives the caller a cut answer, never a complete-looking one.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer as createTcpServer, type Socket } from "node:net";
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

  it("cuts the caller's answer when the upstream dies in the middle of its body", async () => {
    const dying = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-length": "100000" });
      res.write(Buffer.alloc(1000, 1), () => res.socket?.destroy());
    });
    await new Promise<void>((resolve) => dying.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => dying.close());
    const port = (dying.address() as { port: number }).port;
    const server = await startServer({ identity: files, env: { MTLS_UPSTREAM: `http://127.0.0.1:${port}` } });
    const seen = await new Promise<{ complete: boolean; bytes: number }>((resolve, reject) => {
      const req = httpsRequest({
        host: "127.0.0.1",
        port: server.port,
        servername: "localhost",
        agent: false,
        ...good,
      });
      req.on("error", reject);
      req.on("response", (res) => {
        let bytes = 0;
        res.on("data", (chunk: Buffer) => (bytes += chunk.length));
        res.on("error", () => {});
        res.on("close", () => resolve({ complete: res.complete, bytes }));
      });
      req.end();
    });
    expect(seen.complete).toBe(false);
    expect(seen.bytes).toBeLessThan(100_000);
  });
});
