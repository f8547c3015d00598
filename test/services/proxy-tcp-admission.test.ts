/**
 * MTLS_UPSTREAM=tcp:// and the connections' bounds: a client at MTLS_MAX_CONNECTIONS_PER_CLIENT
 * gets its next tunnel closed before any upstream connection is opened, other clients unaffected;
 * an open tunnel whose peer is revoked by a policy reload, or whose client certificate expires,
 * keeps working for MTLS_TUNNEL_CLOSE_GRACE_MS and is then closed, counted and logged, while
 * another client's tunnel stays.
 */
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import {
  createTestPki,
  daysFromNow,
  issueLeaf,
  type Leaf,
  type TestPki,
} from "../support/pki-fixtures/pki.ts";
import { afterPolicyReload, policyPath, writePolicy } from "./support/policy.ts";
import { startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, metric } from "./support/status.ts";
import { startTcpUpstream, type TcpUpstream } from "./support/upstreams.ts";

const GRACE_MS = 1500;

let pki: TestPki;
let files: IdentityFiles;
let other: Leaf;
let upstream: TcpUpstream;
let policyFile: string;

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-a" });
  other = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  policyFile = policyPath(files.dir);
  await writePolicy(policyFile, {});
  // An echo: every byte comes back.
  upstream = await startTcpUpstream((socket) => socket.pipe(socket));
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  await removeDir(files.dir);
});

interface Tunnel {
  socket: TLSSocket;
  closed: Promise<number>;
  /** Sends `text` and resolves once it came back. */
  echo(text: string): Promise<void>;
}

function openTunnel(port: number, leaf: Leaf): Promise<Tunnel> {
  return new Promise((resolve, reject) => {
    let received = "";
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: pki.caPem,
      cert: leaf.chainPem,
      key: leaf.keyPem,
    } as ConnectionOptions);
    const closed = new Promise<number>((done) => socket.once("close", () => done(Date.now())));
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.on("error", () => {});
    socket.once("error", reject);
    socket.once("secureConnect", () =>
      resolve({
        socket,
        closed,
        echo: (text) =>
          new Promise((done, fail) => {
            const check = () => {
              if (received.endsWith(text)) done();
            };
            socket.on("data", check);
            socket.once("close", () => fail(new Error(`closed before "${text}" came back`)));
            socket.write(text);
          }),
      }),
    );
  });
}

describe("TCP tunnels and their certificates", () => {
  it("closes a client's tunnel beyond its quota before opening an upstream connection; others unaffected", async () => {
    const server = await startServer({
      identity: files,
      env: {
        MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}`,
        MTLS_POLICY_FILE: policyFile,
        MTLS_MAX_CONNECTIONS_PER_CLIENT: "2",
      },
    });
    const before = upstream.connections();
    const held = [await openTunnel(server.port, pki.client), await openTunnel(server.port, pki.client)];
    for (const tunnel of held) await tunnel.echo("hello");
    // Closed by the server right after the handshake (the client may or may not see it complete).
    const excess = tlsConnect({
      host: "127.0.0.1",
      port: server.port,
      servername: "localhost",
      ca: pki.caPem,
      cert: pki.client.chainPem,
      key: pki.client.keyPem,
    });
    excess.on("error", () => {});
    await new Promise((resolve) => excess.once("close", resolve));
    const bystander = await openTunnel(server.port, other);
    await bystander.echo("still served");
    expect(upstream.connections() - before).toBe(3); // two of client-a, one of client-b
    for (const tunnel of held) await tunnel.echo(" again");
    expect(
      await metric(server.statusUrl, "mtls_connections_refused_total", {
        budget: "verified",
        reason: "per_client_quota",
      }),
    ).toBe(1);
    for (const tunnel of [...held, bystander]) tunnel.socket.destroy();
    await server.stop();
  });

  it("closes an open tunnel MTLS_TUNNEL_CLOSE_GRACE_MS after its peer is revoked, and keeps another client's", async () => {
    const server = await startServer({
      identity: files,
      env: {
        MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}`,
        MTLS_POLICY_FILE: policyFile,
        MTLS_TUNNEL_CLOSE_GRACE_MS: String(GRACE_MS),
      },
    });
    const revoked = await openTunnel(server.port, pki.client);
    const bystander = await openTunnel(server.port, other);
    await revoked.echo("before");
    await afterPolicyReload(server, () => writePolicy(policyFile, { revokedSerials: [pki.client.serial] }));
    const closing = await server.waitForLine((line) => line.event === "tunnel" && line.result === "closing");
    const decidedAt = Date.parse(String(closing.time));
    expect(closing).toMatchObject({
      level: "warn",
      refusal: "revoked",
      graceMs: GRACE_MS,
      peer: { commonName: "client-a" },
    });
    await revoked.echo(" within the grace period"); // work in flight can finish
    const closedAt = await revoked.closed;
    console.log(
      `revoked tunnel closed ${closedAt - decidedAt} ms after the server saw the revocation (grace ${GRACE_MS} ms)`,
    );
    expect(closedAt - decidedAt).toBeGreaterThanOrEqual(GRACE_MS - 50);
    await bystander.echo(" still served");
    expect(
      await metric(server.statusUrl, "mtls_connections_closed_total", {
        budget: "verified",
        reason: "revoked",
      }),
    ).toBe(1);
    await server.waitForLine(
      (line) => line.event === "tunnel" && line.result === "closed" && line.end === "revoked",
    );
    bystander.socket.destroy();
    await writePolicy(policyFile, {});
    await server.stop();
  });

  it("closes an open tunnel once its client certificate has expired, after the grace period", async () => {
    const shortLived = await issueLeaf(pki.issuing, {
      commonName: "client-a",
      purpose: "client",
      notBefore: daysFromNow(-1, 0).notBefore,
      notAfter: new Date(Date.now() + 2500),
    });
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${upstream.port}`, MTLS_TUNNEL_CLOSE_GRACE_MS: "500" },
    });
    const tunnel = await openTunnel(server.port, shortLived);
    await tunnel.echo("while valid");
    const closedAt = await tunnel.closed;
    expect(closedAt).toBeGreaterThanOrEqual(shortLived.certificate.notAfter.getTime() + 500);
    await eventually(
      () =>
        metric(server.statusUrl, "mtls_connections_closed_total", {
          budget: "verified",
          reason: "certificate_expired",
        }),
      (count) => count === 1,
    );
    await server.stop();
  });
});
