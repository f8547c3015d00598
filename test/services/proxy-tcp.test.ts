/**
 * MTLS_UPSTREAM=tcp://: bytes piped both ways between an authenticated caller and the upstream,
 * with half-close in either direction, a full close on either side closing the other, the idle
 * timeout, a refused upstream closing the caller, and bytes counted.
 */
import { createHash } from "node:crypto";
import type { Socket } from "node:net";
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.ts";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, metric } from "./support/status.ts";
import { echoThenCount, startTcpUpstream, type TcpUpstream } from "./support/upstreams.ts";

let pki: TestPki;
let files: IdentityFiles;
let upstream: TcpUpstream;
let server: RunningServer;
/** What the next upstream connection does. */
let behaviour: (socket: Socket) => void = echoThenCount;

beforeAll(async () => {
  pki = await createTestPki();
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  upstream = await startTcpUpstream((socket) => behaviour(socket));
  server = await startServer({
    identity: files,
    env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}`, MTLS_TUNNEL_IDLE_TIMEOUT_MS: "400" },
  });
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  await removeDir(files.dir);
});

interface Tunnel {
  socket: TLSSocket;
  received: () => string;
  bytes: () => Buffer;
  ended: Promise<void>;
  closed: Promise<void>;
}

function openTunnel(port = server.port): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: pki.caPem,
      cert: pki.client.chainPem,
      key: pki.client.keyPem,
      allowHalfOpen: true,
    } as ConnectionOptions);
    const ended = new Promise<void>((done) => socket.once("end", () => done()));
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    const bytes = () => Buffer.concat(chunks);
    socket.once("secureConnect", () =>
      resolve({ socket, received: () => bytes().toString("utf8"), bytes, ended, closed }),
    );
    socket.once("error", reject);
  });
}

function nextUpstreamSocket(): Promise<Socket> {
  return new Promise((resolve) => {
    behaviour = (socket) => {
      behaviour = echoThenCount;
      resolve(socket);
    };
  });
}

describe("TCP tunnel mode", () => {
  it("passes the caller's half-close on: the upstream answers after the caller stopped sending", async () => {
    const tunnel = await openTunnel();
    tunnel.socket.end("hello");
    await tunnel.ended;
    await tunnel.closed;
    // echoThenCount sends the count only after it saw our FIN.
    expect(tunnel.received()).toBe("hello\ncount=5\n");
  });

  it("passes the upstream's half-close on: the caller can still send after the upstream stopped", async () => {
    const upstreamSide = nextUpstreamSocket();
    const tunnel = await openTunnel();
    const socket = await upstreamSide;
    let late = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (late += chunk));
    const upstreamGotEnd = new Promise<void>((done) => socket.once("end", () => done()));
    socket.end("banner\n");
    await tunnel.ended;
    expect(tunnel.received()).toBe("banner\n");
    tunnel.socket.end("still talking");
    await upstreamGotEnd;
    expect(late).toBe("still talking");
    await tunnel.closed;
  });

  it("ends the caller's side when the upstream closes, and the upstream's when the caller closes", async () => {
    const first = nextUpstreamSocket();
    const tunnel = await openTunnel();
    (await first).destroy();
    await tunnel.ended;
    tunnel.socket.end();
    await tunnel.closed;

    const second = nextUpstreamSocket();
    const other = await openTunnel();
    const socket = await second;
    const upstreamEnded = new Promise<void>((done) => socket.once("end", () => done()));
    other.socket.destroy();
    await upstreamEnded;
  });

  it("closes both sides at once when the upstream resets its connection", async () => {
    const upstreamSide = nextUpstreamSocket();
    const tunnel = await openTunnel();
    const socket = await upstreamSide;
    // Reset only once bytes flow end to end (before that, the sidecar would see a failed connect).
    tunnel.socket.write("x");
    await new Promise((resolve) => socket.once("data", resolve));
    socket.resetAndDestroy();
    await tunnel.ended;
    const line = await server.waitForLine((entry) => entry.event === "tunnel" && entry.end === "ECONNRESET");
    expect(line).toMatchObject({ result: "closed" });
    await eventually(
      () => metric(server.statusUrl, "mtls_proxy_open_tunnels"),
      (open) => open === 0,
    );
  });

  it("carries 20 MiB each way intact", async () => {
    const tunnel = await openTunnel();
    const payload = Buffer.alloc(20 * 1024 * 1024);
    for (let offset = 0; offset < payload.length; offset += 4)
      payload.writeUInt32LE((offset * 2654435761) >>> 0, offset);
    const before = await metric(server.statusUrl, "mtls_proxy_bytes_total", { direction: "to_upstream" });
    tunnel.socket.end(payload);
    await tunnel.closed;
    const all = tunnel.bytes();
    const echoed = all.subarray(0, payload.length);
    expect(createHash("sha256").update(echoed).digest("hex")).toBe(
      createHash("sha256").update(payload).digest("hex"),
    );
    expect(all.subarray(payload.length).toString()).toBe(`\ncount=${payload.length}\n`);
    expect(await metric(server.statusUrl, "mtls_proxy_bytes_total", { direction: "to_upstream" })).toBe(
      before + payload.length,
    );
  }, 60_000);

  it("closes a tunnel idle for MTLS_TUNNEL_IDLE_TIMEOUT_MS, and logs why", async () => {
    const upstreamSide = nextUpstreamSocket();
    const tunnel = await openTunnel();
    const socket = await upstreamSide;
    // Both peers are allowHalfOpen: the sidecar closing them shows as the end of their input.
    const upstreamEnded = new Promise<void>((done) => socket.once("end", () => done()));
    await Promise.all([tunnel.ended, upstreamEnded]);
    const line = await server.waitForLine(
      (entry) => entry.event === "tunnel" && entry.end === "idle_timeout",
    );
    expect(line).toMatchObject({ result: "closed", peer: { commonName: "client-a" } });
  });

  it("closes the caller and counts the reason when the upstream refuses", async () => {
    const nowhere = await freePort();
    const refusing = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${nowhere}` },
    });
    const tunnel = await openTunnel(refusing.port);
    await tunnel.ended;
    expect(tunnel.received()).toBe("");
    await eventually(
      () => metric(refusing.statusUrl, "mtls_upstream_errors_total", { reason: "connection_refused" }),
      (count) => count === 1,
    );
    expect(await metric(refusing.statusUrl, "mtls_proxy_tunnels_total", { result: "upstream_error" })).toBe(
      1,
    );
    expect(refusing.lines.filter((line) => line.event === "upstream_error")).toHaveLength(1);
  });
});
