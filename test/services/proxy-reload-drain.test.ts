/**
 * Reload and drain apply to proxied traffic: the server's certificate is replaced while proxied
 * requests keep flowing (kept-alive and new connections), with zero failures; the client tunnel's
 * certificate likewise, new tunnels then carrying the new identity to the upstream; on SIGTERM a
 * proxied request in flight and an open TCP tunnel finish before the process exits 0.
 */
import { createHash } from "node:crypto";
import { Agent } from "node:https";
import { connect, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { startServer, startTunnel, stopAllServices } from "./support/service-process.ts";
import { eventually, getStatus, metric } from "./support/status.ts";
import { type Caller, type CallResult, callServer } from "./support/tls-client.ts";
import {
  echoThenCount,
  type HttpUpstream,
  startHttpUpstream,
  startTcpUpstream,
} from "./support/upstreams.ts";

let pki: TestPki;
let upstream: HttpUpstream;
const dirs: string[] = [];
let good: Caller;

beforeAll(async () => {
  pki = await createTestPki();
  upstream = await startHttpUpstream();
  good = { ca: pki.caPem, cert: pki.client.chainPem, key: pki.client.keyPem };
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  for (const dir of dirs) await removeDir(dir);
});

async function serverFiles(): Promise<IdentityFiles> {
  const files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  dirs.push(files.dir);
  return files;
}

async function expectOk(call: Promise<CallResult>): Promise<CallResult> {
  const result = await call;
  if (result.status !== 200) throw new Error(`HTTP ${result.status}: ${result.body}`);
  return result;
}

/** `connected` or the error code of a new TCP connection to the port. */
function connectResult(port: number): Promise<string> {
  return new Promise((resolve) => {
    const late = connect({ host: "127.0.0.1", port });
    late.once("connect", () => {
      late.destroy();
      resolve("connected");
    });
    late.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
  });
}

describe("reload under proxied load", () => {
  it("replaces the server certificate while proxied requests flow, with zero failed requests", async () => {
    const files = await serverFiles();
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}`, MTLS_RELOAD_POLL_MS: "0" },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const fresh: Array<CallResult & { at: number }> = [];
    const failures: unknown[] = [];
    const kept: CallResult[] = [];
    let running = true;
    const loop = async (call: () => Promise<void>) => {
      while (running) {
        await call().catch((error) => failures.push(error));
        await sleep(10);
      }
    };
    const load = Promise.all([
      loop(async () => {
        kept.push(await expectOk(callServer({ port: server.port, caller: good, agent, path: "/kept" })));
      }),
      loop(async () => {
        const at = Date.now();
        fresh.push({
          ...(await expectOk(callServer({ port: server.port, caller: good, path: "/fresh" }))),
          at,
        });
      }),
    ]);
    await eventually(
      async () => fresh.length,
      (count) => count > 3,
    );
    const renewed = await issueLeaf(pki.issuing, {
      commonName: "mtls-server",
      purpose: "server",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    await writeIdentity({ cert: renewed.chainPem, key: renewed.keyPem }, files.dir);
    await eventually(
      () => metric(server.statusUrl, "mtls_reloads_total", { result: "success" }),
      (count) => count === 1,
    );
    const reloadedAt = Date.now();
    await eventually(
      async () => fresh.filter((result) => result.at > reloadedAt).length,
      (count) => count > 3,
    );
    running = false;
    await load;
    agent.destroy();
    expect(failures).toEqual([]);
    // The kept-alive connection survived the reload: one handshake, every later call reused it.
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.slice(1).every((result) => result.reusedSocket)).toBe(true);
    expect(kept.every((result) => result.serverSerial === pki.server.serial)).toBe(true);
    expect(
      fresh
        .filter((result) => result.at > reloadedAt)
        .every((result) => result.serverSerial === renewed.serial),
    ).toBe(true);
  });

  it("replaces the tunnel's client certificate while tunnels flow; new tunnels carry the new identity", async () => {
    const files = await serverFiles();
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}` },
    });
    const clientFiles = await writeIdentity({
      cert: pki.client.chainPem,
      key: pki.client.keyPem,
      ca: pki.caPem,
    });
    dirs.push(clientFiles.dir);
    const tunnel = await startTunnel(clientFiles, {
      MTLS_SERVER_URL: `https://localhost:${server.port}`,
      MTLS_RELOAD_POLL_MS: "0",
    });
    const hashes: string[] = [];
    const failures: unknown[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          const response = await fetch(`http://127.0.0.1:${tunnel.localPort}/t`, {
            headers: { connection: "close" },
          });
          if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
          const seen = (await response.json()) as { headers: Record<string, string> };
          hashes.push(/Hash=([0-9a-f]+)/.exec(seen.headers["x-forwarded-client-cert"] ?? "")?.[1] ?? "none");
        } catch (error) {
          failures.push(error);
        }
        await sleep(10);
      }
    })();
    await eventually(
      async () => hashes.length,
      (count) => count > 3,
    );
    const renewed = await issueLeaf(pki.issuing, { commonName: "client-a", purpose: "client" });
    await writeIdentity({ cert: renewed.chainPem, key: renewed.keyPem }, clientFiles.dir);
    await eventually(
      () => metric(tunnel.statusUrl, "mtls_reloads_total", { result: "success" }),
      (count) => count === 1,
    );
    const newHash = createHash("sha256").update(new Uint8Array(renewed.certificate.rawData)).digest("hex");
    await eventually(
      async () => hashes.filter((hash) => hash === newHash).length,
      (count) => count > 3,
    );
    running = false;
    await load;
    expect(failures).toEqual([]);
    const oldHash = createHash("sha256").update(new Uint8Array(pki.client.certificate.rawData)).digest("hex");
    expect(hashes[0]).toBe(oldHash);
    expect(hashes.at(-1)).toBe(newHash);
  });
});

describe("drain on SIGTERM with proxied traffic", () => {
  it("lets a proxied request in flight finish, refuses new connections, and exits 0", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const slow = await startHttpUpstream((req, res) => {
      req.resume();
      arrived();
      void released.then(() => res.end("finished"));
    });
    const files = await serverFiles();
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `http://127.0.0.1:${slow.port}` },
    });
    const call = callServer({ port: server.port, caller: good, timeoutMs: 20_000 });
    await inFlight;
    server.child.kill("SIGTERM");
    await server.waitForLine((line) => line.event === "shutdown");
    expect((await getStatus(server.statusUrl, "/readyz")).status).toBe(503);
    expect(await connectResult(server.port)).toBe("ECONNREFUSED");
    release();
    expect(await call).toMatchObject({ status: 200, body: "finished" });
    expect(await server.exited).toEqual({ code: 0, signal: null });
    await slow.close();
  });

  it("keeps an open TCP tunnel working until it ends, then exits 0", async () => {
    const tcp = await startTcpUpstream(echoThenCount);
    const files = await serverFiles();
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${tcp.port}` },
    });
    const socket = tlsConnect({ host: "127.0.0.1", port: server.port, servername: "localhost", ...good });
    let received = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    await new Promise<void>((resolve) => socket.once("secureConnect", () => resolve()));
    socket.write("before ");
    await eventually(
      async () => received,
      (text) => text === "before ",
    );
    server.child.kill("SIGTERM");
    await server.waitForLine((line) => line.event === "shutdown");
    socket.write("after");
    await eventually(
      async () => received,
      (text) => text === "before after",
    );
    socket.end();
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    expect(received).toBe("before after\ncount=12\n");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const stopped = server.lines.find((line) => line.event === "stopped");
    expect(stopped).toMatchObject({ closedForcibly: 0 });
    await tcp.close();
  });

  it("the client tunnel keeps an open tunnel working after SIGTERM, stops accepting, and exits 0", async () => {
    const tcp = await startTcpUpstream(echoThenCount);
    const files = await serverFiles();
    const server = await startServer({
      identity: files,
      env: { MTLS_UPSTREAM: `tcp://127.0.0.1:${tcp.port}` },
    });
    const clientFiles = await writeIdentity({
      cert: pki.client.chainPem,
      key: pki.client.keyPem,
      ca: pki.caPem,
    });
    dirs.push(clientFiles.dir);
    const tunnel = await startTunnel(clientFiles, { MTLS_SERVER_URL: `https://localhost:${server.port}` });
    const socket: Socket = connect({ host: "127.0.0.1", port: tunnel.localPort, allowHalfOpen: true });
    let received = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (received += chunk));
    socket.write("one ");
    await eventually(
      async () => received,
      (text) => text === "one ",
    );
    tunnel.child.kill("SIGTERM");
    await tunnel.waitForLine((line) => line.event === "shutdown");
    socket.write("two");
    await eventually(
      async () => received,
      (text) => text === "one two",
    );
    expect(await connectResult(tunnel.localPort)).toBe("ECONNREFUSED");
    socket.end();
    await new Promise<void>((resolve) => socket.once("end", () => resolve()));
    expect(received).toBe("one two\ncount=7\n");
    expect(await tunnel.exited).toEqual({ code: 0, signal: null });
    await tcp.close();
  });
});
