/**
 * Refusals: each bad caller is refused and learns why, the server counts the reason it refused it
 * for, and it goes on serving a good client right after. Covers certificate problems (none: the
 * TLS alert "certificate required"; other CA, expired, not yet valid, server-only purpose: a 400
 * naming the problem, then the connection closes), authorization (403), protocol and cipher
 * mismatches, bytes that are not TLS, a flood of handshakes that never finish, and an oversized
 * echo body (413).
 */
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import {
  createCa,
  createTestPki,
  daysFromNow,
  issueLeaf,
  type Leaf,
  type TestPki,
} from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, getMetrics, handshakeFailures, metric } from "./support/status.ts";
import { type Caller, callServer, expectCallRefused } from "./support/tls-client.ts";

const HANDSHAKE_TIMEOUT_MS = 800;
const MAX_BODY_BYTES = 1024;

let pki: TestPki;
let identity: IdentityFiles;
let modern: RunningServer;
let intermediate: RunningServer;
let good: Caller;
const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-a" });
  good = callerOf(pki.client);
  identity = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  const env = {
    MTLS_ALLOWED_CLIENTS: "client-a, spiffe://tests.example/client-u",
    MTLS_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_TIMEOUT_MS),
    MTLS_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  };
  [modern, intermediate] = await Promise.all([
    startServer({ identity, env: { ...env, MTLS_TLS_POLICY: "modern" } }),
    startServer({ identity, env: { ...env, MTLS_TLS_POLICY: "intermediate" } }),
  ]);
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(identity.dir);
});

async function expectStillServing(server: RunningServer): Promise<void> {
  const result = await callServer({ port: server.port, caller: good });
  expect(result.status).toBe(200);
  expect(JSON.parse(result.body).commonName).toBe("client-a");
}

/** Runs `refuse`, then expects the reason's counter to grow by one and a good client to be served. */
async function expectRefusedFor(
  server: RunningServer,
  reason: string,
  refuse: () => Promise<unknown>,
): Promise<void> {
  const before = await handshakeFailures(server.statusUrl, reason);
  await refuse();
  await eventually(
    () => handshakeFailures(server.statusUrl, reason),
    (count) => count === before + 1,
  );
  const line = await server.waitForLine(
    (entry) => entry.event === "handshake_failure" && entry.reason === reason,
  );
  expect(line.peer).toMatch(/^127\.0\.0\.1:\d+$/);
  await expectStillServing(server);
}

/**
 * Expects the server's 400 for a rejected certificate: one request on a TLS connection we never
 * end ourselves, answered with the one-line reason, after which the server closes the connection.
 */
async function expectRejectedCertificate(caller: Caller, problem: string): Promise<void> {
  const routedBefore = await requestsRouted();
  const answer = await new Promise<string>((resolve, reject) => {
    let data = "";
    const socket = tlsConnect(
      { port: modern.port, host: "127.0.0.1", servername: "localhost", ...caller },
      () => socket.write("GET /v1/whoami HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    );
    socket.setEncoding("utf8").on("data", (chunk: string) => (data += chunk));
    socket.once("error", reject);
    socket.once("close", () => resolve(data));
  });
  expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(answer).toMatch(/\r\nconnection: close\r\n/i);
  expect(answer.slice(answer.indexOf("\r\n\r\n") + 4)).toBe(`client certificate rejected: ${problem}\n`);
  expect(await requestsRouted()).toBe(routedBefore); // it never reached a route
}

/** Requests that reached the HTTP routes, whatever their route and status. */
async function requestsRouted(): Promise<number> {
  const samples = await getMetrics(modern.statusUrl);
  let total = 0;
  for (const [name, value] of samples) if (name.startsWith("mtls_requests_total")) total += value;
  return total;
}

describe("certificate problems", () => {
  it("refuses a caller without a client certificate in the handshake with the alert certificate required (no_certificate)", async () => {
    await expectRefusedFor(modern, "no_certificate", async () => {
      const error = await expectCallRefused({ port: modern.port, caller: { ca: pki.caPem } });
      expect(error.message).toMatch(/alert certificate required/);
    });
  });

  it("refuses a caller without a client certificate on TLS 1.2 in the handshake (no_certificate)", async () => {
    await expectRefusedFor(intermediate, "no_certificate", async () => {
      const error = await expectCallRefused({
        port: intermediate.port,
        caller: { ca: pki.caPem },
        tls: { maxVersion: "TLSv1.2" },
      });
      expect(error.message).toMatch(/alert handshake failure/);
    });
  });

  it("answers 400 'issued by an unknown CA' to a certificate from another CA (unknown_ca)", async () => {
    const otherCa = await createCa({ commonName: "someone else's CA" });
    const stranger = await issueLeaf(otherCa, { commonName: "client-a", purpose: "client" });
    await expectRefusedFor(modern, "unknown_ca", () =>
      expectRejectedCertificate(
        { ca: pki.caPem, cert: stranger.chainPem, key: stranger.keyPem },
        "issued by an unknown CA",
      ),
    );
  });

  it("answers 400 'it has expired' to an expired certificate (expired)", async () => {
    const expired = await issueLeaf(pki.issuing, {
      commonName: "client-a",
      purpose: "client",
      ...daysFromNow(-10, -1),
    });
    await expectRefusedFor(modern, "expired", () =>
      expectRejectedCertificate(callerOf(expired), "it has expired"),
    );
  });

  it("answers 400 'it is not valid yet' to a certificate that is not valid yet (not_yet_valid)", async () => {
    const future = await issueLeaf(pki.issuing, {
      commonName: "client-a",
      purpose: "client",
      ...daysFromNow(1, 10),
    });
    await expectRefusedFor(modern, "not_yet_valid", () =>
      expectRejectedCertificate(callerOf(future), "it is not valid yet"),
    );
  });

  it("answers 400 'not for client use' to a client presenting a server-only certificate (wrong_purpose)", async () => {
    await expectRefusedFor(modern, "wrong_purpose", () =>
      expectRejectedCertificate(
        callerOf(pki.server),
        "it is not for client use (its extended key usage lacks clientAuth)",
      ),
    );
  });
});

describe("authorization", () => {
  it("answers 403 with a JSON error and a log line to a valid certificate that is not on the allow-list", async () => {
    const outsider = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
    const before = await metric(modern.statusUrl, "mtls_handshakes_total", { result: "success" });
    const result = await callServer({ port: modern.port, caller: callerOf(outsider) });
    expect(result.status).toBe(403);
    expect(JSON.parse(result.body)).toEqual({
      error: {
        status: 403,
        code: "forbidden",
        message: expect.stringContaining('"client-b" is not on the allow-list'),
      },
    });
    const line = await modern.waitForLine((entry) => entry.event === "request" && entry.status === 403);
    expect(line).toMatchObject({ level: "warn", path: "/v1/whoami", peer: { commonName: "client-b" } });
    // Authentication succeeded (it is an authorization refusal), and others are still served.
    expect(await metric(modern.statusUrl, "mtls_handshakes_total", { result: "success" })).toBe(before + 1);
    expect(
      await metric(modern.statusUrl, "mtls_requests_total", { route: "/v1/whoami", status: "403" }),
    ).toBe(1);
    await expectStillServing(modern);
  });

  it("allows a client by its full URI SAN", async () => {
    const byUri = await issueLeaf(pki.issuing, {
      commonName: "not-listed-by-name",
      purpose: "client",
      uris: ["spiffe://tests.example/client-u"],
    });
    const result = await callServer({ port: modern.port, caller: callerOf(byUri) });
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).uris).toEqual(["spiffe://tests.example/client-u"]);
  });
});

describe("protocol and transport", () => {
  it("refuses TLS 1.2 on a modern server (protocol_or_cipher_mismatch)", async () => {
    await expectRefusedFor(modern, "protocol_or_cipher_mismatch", async () => {
      const error = await expectCallRefused({
        port: modern.port,
        caller: good,
        tls: { maxVersion: "TLSv1.2" },
      });
      expect(error.message).toMatch(/alert protocol version/);
    });
  });

  it("refuses a caller offering only CBC suites to an intermediate server (protocol_or_cipher_mismatch)", async () => {
    await expectRefusedFor(intermediate, "protocol_or_cipher_mismatch", async () => {
      const error = await expectCallRefused({
        port: intermediate.port,
        caller: good,
        tls: {
          maxVersion: "TLSv1.2",
          ciphers: "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256",
        },
      });
      expect(error.message).toMatch(/alert handshake failure/);
    });
  });

  it("refuses garbage bytes instead of a ClientHello (not_tls)", async () => {
    await expectRefusedFor(modern, "not_tls", async () => {
      const closed = await rawConnection(modern.port, (socket) =>
        socket.write(Buffer.from("\x00\x01garbage, not TLS\r\n\r\n")),
      );
      expect(closed).toBe(true);
    });
  });

  it("releases many connections that never finish their handshake after the timeout, serving others meanwhile", async () => {
    const before = await handshakeFailures(modern.statusUrl, "timeout");
    const started = Date.now();
    const silent = Array.from({ length: 30 }, () => rawConnection(modern.port, () => {}));
    // A peer that trickles a byte now and then: an idle timer alone would never release it.
    const trickler = rawConnection(modern.port, (socket) => {
      socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])); // a record header announcing 512 bytes
      const timer = setInterval(() => socket.write(Buffer.from([0])), 150); // ...that arrive one by one
      socket.once("close", () => clearInterval(timer));
    });
    await eventually(
      () => metric(modern.statusUrl, "mtls_open_connections"),
      (open) => open >= 31,
    );
    await expectStillServing(modern); // while all those slots are held
    const closedByServer = await Promise.all([...silent, trickler]);
    const heldFor = Date.now() - started;
    expect(closedByServer).toHaveLength(31);
    expect(closedByServer.every(Boolean)).toBe(true); // closed by the server, not by our 10 s guard
    expect(heldFor).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 100);
    await eventually(
      () => handshakeFailures(modern.statusUrl, "timeout"),
      (count) => count === before + 31,
    );
    await eventually(
      () => metric(modern.statusUrl, "mtls_open_connections"),
      (open) => open === 0,
    );
    await expectStillServing(modern);
  });
});

describe("request limits", () => {
  it("answers 413 to an echo body over the limit, and echoes one within it", async () => {
    const oversized = await callServer({
      port: modern.port,
      caller: good,
      method: "POST",
      path: "/v1/echo",
      body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x61),
    });
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body).error).toMatchObject({ status: 413, code: "payload_too_large" });

    const chunked = await callServer({
      port: modern.port,
      caller: good,
      method: "POST",
      path: "/v1/echo",
      headers: { "transfer-encoding": "chunked" },
      body: Buffer.alloc(MAX_BODY_BYTES * 2, 0x62),
    });
    expect(chunked.status).toBe(413);
    expect(await metric(modern.statusUrl, "mtls_requests_total", { route: "/v1/echo", status: "413" })).toBe(
      2,
    );

    const body = Buffer.alloc(MAX_BODY_BYTES, 0x63);
    const echoed = await callServer({
      port: modern.port,
      caller: good,
      method: "POST",
      path: "/v1/echo",
      body,
    });
    expect(echoed.status).toBe(200);
    expect(echoed.body).toBe(body.toString());
  });

  it("answers JSON 404 and 405", async () => {
    const missing = await callServer({ port: modern.port, caller: good, path: "/nowhere" });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe("not_found");
    const wrongMethod = await callServer({
      port: modern.port,
      caller: good,
      method: "DELETE",
      path: "/v1/echo",
    });
    expect(wrongMethod.status).toBe(405);
    expect(JSON.parse(wrongMethod.body).error.code).toBe("method_not_allowed");
  });
});

/** Opens a TCP connection, lets `act` use it; resolves true when the server closes it (false on our timeout). */
function rawConnection(port: number, act: (socket: Socket) => void, timeoutMs = 10_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => act(socket));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.on("error", () => {});
    socket.on("data", () => {});
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
