/**
 * MTLS_LOCAL_ALLOW_FROM: a tunnel listening beyond loopback serves only local connections from the
 * networks it names. Real sockets: the tunnel listens on every interface and allows 127.0.0.2/32;
 * a connection whose source is 127.0.0.2 is carried to the server, one from 127.0.0.1 is reset
 * before any mTLS connection is made for it (the upstream never sees it), counted, and logged.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import {
  type RunningServer,
  type RunningTunnel,
  startServer,
  startTunnel,
  stopAllServices,
} from "./support/service-process.ts";
import { eventually, metric } from "./support/status.ts";
import { echoThenCount, startTcpUpstream, type TcpUpstream } from "./support/upstreams.ts";

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;
let upstream: TcpUpstream;
let server: RunningServer;
let tunnel: RunningTunnel;

beforeAll(async () => {
  pki = await createTestPki();
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
  upstream = await startTcpUpstream(echoThenCount);
  server = await startServer({
    identity: serverFiles,
    env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}` },
  });
  tunnel = await startTunnel(clientFiles, {
    MTLS_SERVER_URL: `https://localhost:${server.port}`,
    MTLS_LOCAL_LISTEN: "0.0.0.0:0",
    MTLS_LOCAL_ALLOW_FROM: "127.0.0.2/32",
  });
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  for (const files of [serverFiles, clientFiles]) await removeDir(files.dir);
});

/** A plain connection from `source`: sends `data`, half-closes; what it got and how it ended. */
function exchange(source: string, data: string): Promise<{ received: string; error?: string }> {
  return new Promise((resolve) => {
    let received = "";
    let error: string | undefined;
    const socket: Socket = connect(
      { host: "127.0.0.1", port: tunnel.localPort, localAddress: source, allowHalfOpen: true },
      () => socket.end(data),
    );
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.once("end", () => socket.end());
    socket.on("error", (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.once("close", () => resolve(error === undefined ? { received } : { received, error }));
  });
}

describe("a tunnel with MTLS_LOCAL_ALLOW_FROM", () => {
  it("listens on every interface: the allow-list, not loopback, guards it", () => {
    expect(tunnel.localAddress).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(tunnel.lines.find((l) => l.event === "start")?.allowFrom).toEqual(["127.0.0.2/32"]);
  });

  it("carries a connection from an allowed network to the server", async () => {
    expect(await exchange("127.0.0.2", "hello")).toEqual({ received: "hello\ncount=5\n" });
    expect(upstream.connections()).toBe(1);
  });

  it("resets a connection from any other source unread: no mTLS connection, counted and logged", async () => {
    const before = upstream.connections();
    const carried = await metric(tunnel.statusUrl, "mtls_tunnel_connections_total", { result: "success" });
    const seen = await exchange("127.0.0.1", "stranger");
    expect(seen.received).toBe("");
    expect(seen.error).toBe("ECONNRESET");
    await eventually(
      () => metric(tunnel.statusUrl, "mtls_tunnel_refused_connections_total"),
      (count) => count === 1,
    );
    const refusal = tunnel.lines.find((l) => l.event === "tunnel_refused");
    expect(refusal).toMatchObject({ level: "warn", reason: "source_not_allowed", remote: "127.0.0.1" });
    // Neither an mTLS connection nor a byte reached the server's side.
    expect(await metric(tunnel.statusUrl, "mtls_tunnel_connections_total", { result: "success" })).toBe(
      carried,
    );
    expect(await metric(tunnel.statusUrl, "mtls_tunnel_connections_total", { result: "failure" })).toBe(0);
    expect(upstream.connections()).toBe(before);
  });

  it("logs a burst of refusals once", async () => {
    for (let i = 0; i < 3; i++) expect((await exchange("127.0.0.1", "again")).error).toBe("ECONNRESET");
    await eventually(
      () => metric(tunnel.statusUrl, "mtls_tunnel_refused_connections_total"),
      (count) => count === 4,
    );
    expect(tunnel.lines.filter((l) => l.event === "tunnel_refused")).toHaveLength(1);
    // An allowed caller is served all the while.
    expect((await exchange("127.0.0.2", "still")).received).toBe("still\ncount=5\n");
  });
});
