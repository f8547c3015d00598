/**
 * The client as a local tunnel in front of a tcp:// server: raw bytes from a plain local TCP
 * connection reach the upstream and come back, half-close included. A tunnel with a stranger's
 * certificate, or with no server to reach, closes the local connection, counts the reason, and
 * the upstream never sees a connection.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.ts";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createCa, createTestPki, issueLeaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, startTunnel, stopAllServices } from "./support/service-process.ts";
import { eventually, metric } from "./support/status.ts";
import { echoThenCount, startTcpUpstream, type TcpUpstream } from "./support/upstreams.ts";

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;
let strangerFiles: IdentityFiles;
let upstream: TcpUpstream;
let server: RunningServer;

beforeAll(async () => {
  pki = await createTestPki();
  const otherCa = await createCa({ commonName: "someone else's root" });
  const stranger = await issueLeaf(otherCa, { commonName: "client-a", purpose: "client" });
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
  // The stranger trusts our server's CA, so only the server can refuse it.
  strangerFiles = await writeIdentity({
    cert: stranger.chainPem,
    key: stranger.keyPem,
    ca: otherCa.certPem + pki.caPem,
  });
  upstream = await startTcpUpstream(echoThenCount);
  server = await startServer({
    identity: serverFiles,
    env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}` },
  });
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  for (const files of [serverFiles, clientFiles, strangerFiles]) await removeDir(files.dir);
});

/**
 * A plain local connection: sends `data`, half-closes, resolves with all it got before the close.
 * A tunnel that cannot carry the connection closes it, by a reset when our bytes are still unread.
 */
function exchange(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    let received = "";
    const socket: Socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => socket.end(data));
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.once("end", () => socket.end());
    socket.on("error", () => {});
    socket.once("close", () => resolve(received));
  });
}

describe("local tunnel carrying raw TCP", () => {
  it("carries bytes both ways with half-close: the upstream's answer after our FIN arrives", async () => {
    const tunnel = await startTunnel(clientFiles, { MTLS_SERVER_URL: `https://localhost:${server.port}` });
    expect(await exchange(tunnel.localPort, "*1\r\n$4\r\nPING\r\n")).toBe("*1\r\n$4\r\nPING\r\n\ncount=14\n");
    expect(await exchange(tunnel.localPort, "second")).toBe("second\ncount=6\n");
    expect(upstream.connections()).toBe(2);
  });

  it("a stranger's tunnel is refused by the server: local connection closed, reason counted, upstream untouched", async () => {
    const before = upstream.connections();
    const tunnel = await startTunnel(strangerFiles, { MTLS_SERVER_URL: `https://localhost:${server.port}` });
    expect(await exchange(tunnel.localPort, "PING")).toBe("");
    expect(upstream.connections()).toBe(before);
    await eventually(
      () => metric(server.statusUrl, "mtls_handshake_failures_total", { reason: "unknown_ca" }),
      (count) => count >= 1,
    );
  });

  it("counts connection_refused and logs it once when the server is not there", async () => {
    const nowhere = await freePort();
    const tunnel = await startTunnel(clientFiles, { MTLS_SERVER_URL: `https://localhost:${nowhere}` });
    expect(await exchange(tunnel.localPort, "a")).toBe("");
    expect(await exchange(tunnel.localPort, "b")).toBe("");
    await eventually(
      () => metric(tunnel.statusUrl, "mtls_tunnel_failures_total", { reason: "connection_refused" }),
      (count) => count === 2,
    );
    expect(await metric(tunnel.statusUrl, "mtls_tunnel_connections_total", { result: "failure" })).toBe(2);
    expect(tunnel.lines.filter((line) => line.event === "tunnel_failure")).toHaveLength(1);
  });
});
