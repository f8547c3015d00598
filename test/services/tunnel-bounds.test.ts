/**
 * The client tunnel's own bounds: at most MTLS_LOCAL_MAX_CONNECTIONS local connections (one beyond
 * is closed at once, counted, and never reaches the server), and after an identity reload the
 * tunnels opened with the old identity are closed MTLS_TUNNEL_CLOSE_GRACE_MS later, so the old
 * certificate stops being used; the next connection presents the new one.
 */
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { startServer, startTunnel, stopAllServices } from "./support/service-process.ts";
import { eventually, metric } from "./support/status.ts";
import { startTcpUpstream, type TcpUpstream } from "./support/upstreams.ts";

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;
let upstream: TcpUpstream;

beforeAll(async () => {
  pki = await createTestPki();
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
  upstream = await startTcpUpstream((socket) => socket.pipe(socket));
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  await removeDir(serverFiles.dir);
  await removeDir(clientFiles.dir);
});

interface Local {
  socket: Socket;
  closed: Promise<number>;
  echo(text: string): Promise<void>;
}

function openLocal(port: number): Promise<Local> {
  return new Promise((resolve, reject) => {
    let received = "";
    const socket = connect(port, "127.0.0.1");
    const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now())));
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => {});
    socket.once("error", reject);
    socket.once("connect", () =>
      resolve({
        socket,
        closed,
        echo: (text) =>
          new Promise((done, fail) => {
            socket.on("data", () => received.endsWith(text) && done());
            socket.once("close", () => fail(new Error(`closed before "${text}" came back`)));
            socket.write(text);
          }),
      }),
    );
  });
}

describe("client tunnel bounds", () => {
  it("closes a local connection beyond MTLS_LOCAL_MAX_CONNECTIONS at once, and counts it", async () => {
    const server = await startServer({
      identity: serverFiles,
      env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}` },
    });
    const tunnel = await startTunnel(clientFiles, {
      MTLS_SERVER_URL: `https://localhost:${server.port}`,
      MTLS_LOCAL_MAX_CONNECTIONS: "2",
    });
    const before = upstream.connections();
    const held = [await openLocal(tunnel.localPort), await openLocal(tunnel.localPort)];
    for (const local of held) await local.echo("carried");
    const excess = await openLocal(tunnel.localPort);
    await excess.closed;
    expect(upstream.connections() - before).toBe(2);
    expect(await metric(tunnel.statusUrl, "mtls_tunnel_connections_total", { result: "over_limit" })).toBe(1);
    expect(await metric(tunnel.statusUrl, "mtls_tunnel_local_connections_limit")).toBe(2);
    expect(tunnel.lines.find((line) => line.event === "tunnel_local_limit")).toMatchObject({
      level: "warn",
      reason: "local_max_connections",
      limit: 2,
    });
    // Room again once one is closed.
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await eventually(
      () => metric(tunnel.statusUrl, "mtls_tunnel_local_connections"),
      (open) => open === 1,
    );
    const next = await openLocal(tunnel.localPort);
    await next.echo("carried again");
    for (const local of [held[1]!, next]) local.socket.destroy();
    await tunnel.stop();
    await server.stop();
  });

  it("closes the tunnels of the old identity MTLS_TUNNEL_CLOSE_GRACE_MS after a reload; new ones use the new certificate", async () => {
    const graceMs = 1000;
    const files = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
    const server = await startServer({ identity: serverFiles });
    const tunnel = await startTunnel(files, {
      MTLS_SERVER_URL: `https://localhost:${server.port}`,
      MTLS_TUNNEL_CLOSE_GRACE_MS: String(graceMs),
    });
    // HTTP to the server's built-in endpoints, through the tunnel, on one kept-alive connection.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let localSocket: Socket | undefined;
    const whoami = () =>
      new Promise<string>((resolve, reject) => {
        const req = request(
          { host: "127.0.0.1", port: tunnel.localPort, path: "/v1/whoami", agent },
          (res) => {
            let body = "";
            res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
            res.on("end", () => resolve(JSON.parse(body).serialNumber as string));
          },
        );
        req.on("socket", (socket: Socket) => (localSocket ??= socket));
        req.on("error", reject);
        req.end();
      });
    expect(await whoami()).toBe(pki.client.serial);
    const carried = localSocket!;
    const closed = new Promise<number>((resolve) => carried.once("close", () => resolve(Date.now())));

    const renewed = await issueLeaf(pki.issuing, { commonName: "client-a", purpose: "client" });
    await writeIdentity({ cert: renewed.chainPem, key: renewed.keyPem }, files.dir);
    const reload = await tunnel.waitForLine((line) => line.event === "reload" && line.result === "success");
    expect(await tunnel.waitForLine((line) => line.event === "tunnels_rotating")).toMatchObject({
      open: 1,
      closeInMs: graceMs,
    });
    const closedAt = await closed;
    const afterMs = closedAt - Date.parse(String(reload.time));
    console.log(`the old identity's tunnel closed ${afterMs} ms after the reload (grace ${graceMs} ms)`);
    expect(afterMs).toBeGreaterThanOrEqual(graceMs - 50);
    await tunnel.waitForLine((line) => line.event === "tunnel" && line.end === "identity_replaced");
    expect(await whoami()).toBe(renewed.serial);
    agent.destroy();
    await tunnel.stop();
    await server.stop();
    await removeDir(files.dir);
  });
});
