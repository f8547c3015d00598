/**
 * Callers who must never reach the upstream, in both proxy modes: a certificate from another CA,
 * no certificate at all, and a certificate of our CA that is not on MTLS_ALLOWED_CLIENTS. The
 * upstream counts the connections it accepted: zero. The allowed caller, last, shows the path works.
 */
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createCa, createTestPki, issueLeaf, type Leaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, handshakeFailures, metric } from "./support/status.ts";
import { type Caller, callServer, expectCallRefused } from "./support/tls-client.ts";
import { echoThenCount, startHttpUpstream, startTcpUpstream } from "./support/upstreams.ts";

let pki: TestPki;
let files: IdentityFiles;
let stranger: Leaf;
let notListed: Leaf;
const closers: Array<() => Promise<void>> = [];

const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki();
  const otherCa = await createCa({ commonName: "someone else's root" });
  stranger = await issueLeaf(otherCa, { commonName: "client-a", purpose: "client" });
  notListed = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
});

afterAll(async () => {
  await stopAllServices();
  for (const close of closers) await close();
  await removeDir(files.dir);
});

/** Opens a TLS connection, writes `data`, and resolves with what came back before the close. */
function tlsExchange(port: number, caller: Caller, data: string): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", ...caller }, () => {
      socket.end(data); // half-close: the echo upstream answers and ends
    });
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => {});
    socket.on("close", () => resolve(received));
  });
}

describe("strangers never reach the upstream", () => {
  it("http://: another CA's certificate, no certificate and a caller off the allow-list open no upstream connection", async () => {
    const upstream = await startHttpUpstream();
    closers.push(() => upstream.close());
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}`, MTLS_ALLOWED_CLIENTS: "client-a" },
    });
    // Another CA's certificate is told why (400) and never forwarded; none at all: the handshake.
    const rejected = await callServer({ port: server.port, caller: callerOf(stranger), path: "/admin" });
    expect(rejected.status).toBe(400);
    expect(rejected.body).toBe("client certificate rejected: issued by an unknown CA\n");
    await expectCallRefused({ port: server.port, caller: { ca: pki.caPem } });
    const denied = await callServer({ port: server.port, caller: callerOf(notListed), path: "/admin" });
    expect(denied.status).toBe(403);
    await eventually(
      () => handshakeFailures(server.statusUrl, "unknown_ca"),
      (count) => count === 1,
    );
    expect(await handshakeFailures(server.statusUrl, "no_certificate")).toBe(1);
    expect(upstream.connections()).toBe(0);
    expect(upstream.requests).toEqual([]);

    const allowed = await callServer({ port: server.port, caller: callerOf(pki.client), path: "/admin" });
    expect(allowed.status).toBe(200);
    expect(upstream.requests.map((request) => request.url)).toEqual(["/admin"]);
  });

  it("tcp://: the same three callers are closed before any upstream connection; the forbidden one is counted", async () => {
    const upstream = await startTcpUpstream(echoThenCount);
    closers.push(() => upstream.close());
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}`, MTLS_ALLOWED_CLIENTS: "client-a" },
    });
    expect(await tlsExchange(server.port, callerOf(stranger), "PING\r\n")).toBe("");
    expect(await tlsExchange(server.port, { ca: pki.caPem }, "PING\r\n")).toBe("");
    expect(await tlsExchange(server.port, callerOf(notListed), "PING\r\n")).toBe("");
    await eventually(
      () => metric(server.statusUrl, "mtls_proxy_tunnels_total", { result: "forbidden" }),
      (count) => count === 1,
    );
    expect(await handshakeFailures(server.statusUrl, "unknown_ca")).toBe(1);
    expect(await handshakeFailures(server.statusUrl, "no_certificate")).toBe(1);
    const line = await server.waitForLine(
      (entry) => entry.event === "tunnel" && entry.result === "forbidden",
    );
    expect(line).toMatchObject({ level: "warn", peer: { commonName: "client-b" } });
    expect(upstream.connections()).toBe(0);

    expect(await tlsExchange(server.port, callerOf(pki.client), "PING\r\n")).toContain("PING");
    expect(upstream.connections()).toBe(1);
  });
});
