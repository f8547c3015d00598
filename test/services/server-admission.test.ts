/**
 * Admission of verified connections, with small limits so each rule shows by itself: a client at
 * MTLS_MAX_CONNECTIONS_PER_CLIENT gets 429 on its next connection (built-in endpoints and the HTTP
 * proxy alike) while its other connections and other clients are untouched; at the verified cap the
 * connection idle the longest is reclaimed for a new verified one, never one with a request in
 * flight (then the newcomer gets 503); MTLS_MAX_CONNECTION_AGE_MS closes a connection after the
 * response in flight, with Connection: close, and an idle one at once; a request on a connection
 * whose client certificate has expired since its handshake is refused (400) and the connection
 * closed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import {
  createTestPki,
  daysFromNow,
  issueLeaf,
  type Leaf,
  type TestPki,
} from "../support/pki-fixtures/pki.ts";
import { holdConnection, stalledEcho } from "./support/held-connections.ts";
import { startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, getStatus, metric } from "./support/status.ts";
import { type Caller, callServer } from "./support/tls-client.ts";
import { type HttpUpstream, startHttpUpstream } from "./support/upstreams.ts";

let pki: TestPki;
let files: IdentityFiles;
let other: Leaf;
let upstream: HttpUpstream;
const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-a" });
  other = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  upstream = await startHttpUpstream();
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  await removeDir(files.dir);
});

const QUOTA_ENV = {
  MTLS_MAX_CONNECTIONS: "16",
  MTLS_MAX_UNAUTHENTICATED_CONNECTIONS: "4",
  MTLS_MAX_CONNECTIONS_PER_CLIENT: "3",
};

describe("per-client quota", () => {
  for (const mode of ["built-in endpoints", "HTTP proxy"] as const) {
    it(`refuses a client's connection beyond its quota with 429, other clients unaffected (${mode})`, async () => {
      const proxied = mode === "HTTP proxy";
      const server = await startServer({
        identity: files,
        env: { ...QUOTA_ENV, ...(proxied ? { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}` } : {}) },
      });
      const upstreamBefore = upstream.requests.length;
      const held = [];
      for (let index = 0; index < 3; index++)
        held.push(await holdConnection(server.port, callerOf(pki.client)));

      const refused = await callServer({ port: server.port, caller: callerOf(pki.client) });
      expect(refused.status).toBe(429);
      expect(refused.headers.connection).toBe("close");
      expect(refused.headers["retry-after"]).toBe("1");
      expect(JSON.parse(refused.body).error).toEqual({
        status: 429,
        code: "too_many_connections",
        message:
          'client "client-a" already holds 3 connections, its limit (MTLS_MAX_CONNECTIONS_PER_CLIENT): reuse them, or close some first',
      });
      // Its own connections keep working, another identity is served, and nothing refused was forwarded.
      for (const connection of held) {
        const again = await connection.call();
        expect(again.status).toBe(200);
        expect(again.reusedSocket).toBe(true);
      }
      expect((await callServer({ port: server.port, caller: callerOf(other) })).status).toBe(200);
      if (proxied) expect(upstream.requests.length - upstreamBefore).toBe(3 * 2 + 1);

      expect(
        await metric(server.statusUrl, "mtls_connections_refused_total", {
          budget: "verified",
          reason: "per_client_quota",
        }),
      ).toBe(1);
      expect(server.lines.find((line) => line.event === "connections_limited")).toMatchObject({
        level: "warn",
        budget: "per_client",
        reason: "per_client_quota",
        client: "client-a",
        limit: 3,
      });
      const ready = JSON.parse((await getStatus(server.statusUrl, "/readyz")).body);
      expect(ready.connections).toMatchObject({
        perClientLimit: 3,
        busiestClient: { client: "client-a", connections: 3 },
        saturated: ["per_client"],
        clientsAtQuota: ["client-a"],
      });
      for (const connection of held) connection.agent.destroy();
      await server.stop();
    });
  }
});

describe("at the verified cap", () => {
  // 6 connections, 2 of them for handshakes: 4 for verified callers, all of them one client's.
  const CAP_ENV = {
    MTLS_MAX_CONNECTIONS: "6",
    MTLS_MAX_UNAUTHENTICATED_CONNECTIONS: "2",
    MTLS_MAX_CONNECTIONS_PER_CLIENT: "4",
  };

  it("reclaims the connection idle the longest for a new verified caller", async () => {
    const server = await startServer({ identity: files, env: CAP_ENV });
    const held = [];
    for (let index = 0; index < 4; index++)
      held.push(await holdConnection(server.port, callerOf(pki.client)));
    // Used again in this order: the second one opened is now the one idle the longest.
    for (const index of [1, 0, 2, 3]) expect((await held[index]!.call()).status).toBe(200);
    expect((await callServer({ port: server.port, caller: callerOf(other) })).status).toBe(200);
    await held[1]!.closed;
    expect(held.map((connection) => connection.isClosed())).toEqual([false, true, false, false]);
    expect(
      await metric(server.statusUrl, "mtls_connections_closed_total", {
        budget: "verified",
        reason: "reclaimed_idle",
      }),
    ).toBe(1);
    for (const connection of held) connection.agent.destroy();
    await server.stop();
  });

  it("never reclaims a connection with a request in flight: the newcomer gets 503 instead", async () => {
    const server = await startServer({ identity: files, env: CAP_ENV });
    const busy = [];
    for (let index = 0; index < 4; index++) busy.push(await stalledEcho(server.port, callerOf(pki.client)));
    await eventually(
      () => metric(server.statusUrl, "mtls_connections_in_use", { budget: "verified" }),
      (count) => count === 4,
    );
    const refused = await callServer({ port: server.port, caller: callerOf(other) });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error).toMatchObject({ status: 503, code: "server_busy" });
    expect(busy.map((request) => request.isClosed())).toEqual([false, false, false, false]);
    // Each request in flight is answered in full.
    for (const request of busy) expect(await request.finish()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*a{100}$/);
    expect(
      await metric(server.statusUrl, "mtls_connections_refused_total", {
        budget: "verified",
        reason: "verified_full",
      }),
    ).toBe(1);
    for (const request of busy) request.socket.destroy();
    await server.stop();
  });
});

describe("connections bounded in time", () => {
  for (const mode of ["built-in endpoints", "HTTP proxy"] as const) {
    it(`closes a connection older than MTLS_MAX_CONNECTION_AGE_MS after the response in flight, with Connection: close (${mode})`, async () => {
      const maxAgeMs = 1500;
      const proxied = mode === "HTTP proxy";
      const server = await startServer({
        identity: files,
        env: {
          MTLS_MAX_CONNECTION_AGE_MS: String(maxAgeMs),
          ...(proxied ? { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}` } : {}),
        },
      });
      const opened = Date.now();
      // Chunked: the echo answers only once the body is complete, so its headers can still say it.
      const request = await stalledEcho(server.port, callerOf(pki.client), { chunked: true });
      await sleep(maxAgeMs - (Date.now() - opened) + 100); // the condition under test is the age itself
      const answer = await request.finish();
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(answer).toMatch(/\r\nconnection: close\r\n/i);
      // The upstream's own answer (its Connection header is hop-by-hop, dropped), or the echo.
      if (proxied) expect(answer).toMatch(/\r\nx-upstream: yes\r\n/i);
      else expect(answer.endsWith("a".repeat(100))).toBe(true);
      await request.closed;

      // One that stays idle past its age is closed without a request.
      const idle = await holdConnection(server.port, callerOf(pki.client));
      await idle.closed;
      expect(
        await metric(server.statusUrl, "mtls_connections_closed_total", {
          budget: "verified",
          reason: "max_age",
        }),
      ).toBe(2);
      await server.stop();
    });
  }

  it("refuses the next request on a connection whose client certificate has expired since, and closes it", async () => {
    const lifetimeMs = 3000;
    const shortLived = await issueLeaf(pki.issuing, {
      commonName: "client-a",
      purpose: "client",
      notBefore: daysFromNow(-1, 0).notBefore,
      notAfter: new Date(Date.now() + lifetimeMs),
    });
    const server = await startServer({ identity: files });
    const connection = await holdConnection(server.port, callerOf(shortLived));
    await sleep(shortLived.certificate.notAfter.getTime() - Date.now() + 200); // past its notAfter
    const refused = await connection.call();
    expect(refused.reusedSocket).toBe(true);
    expect(refused.status).toBe(400);
    expect(refused.headers.connection).toBe("close");
    expect(refused.body).toBe("client certificate rejected: it has expired\n");
    await connection.closed;
    expect(
      await metric(server.statusUrl, "mtls_connections_closed_total", {
        budget: "verified",
        reason: "certificate_expired",
      }),
    ).toBe(1);
    expect(server.lines.find((line) => line.event === "connection_closed")).toMatchObject({
      level: "warn",
      reason: "certificate_expired",
      serialNumber: shortLived.serial,
    });
    // A new connection with it is refused at its handshake, as always.
    const fresh = await callServer({ port: server.port, caller: callerOf(shortLived) });
    expect(fresh.status).toBe(400);
    await server.stop();
  });
});
