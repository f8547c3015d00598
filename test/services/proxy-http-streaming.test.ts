/**
 * MTLS_UPSTREAM=http:// streams bodies both ways: 20 MiB up and 20 MiB down arrive intact, and
 * neither is buffered whole on the way. Proof by ordering, not timing: the caller sends the rest
 * of its body only after the upstream has seen its first bytes, and the upstream sends the rest
 * of its answer only after the caller has seen its first bytes. A proxy that buffered either body
 * could never complete.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";
import { type HttpUpstream, startHttpUpstream } from "./support/upstreams.ts";

const MIB = 1024 * 1024;
const TOTAL = 20 * MIB;

let pki: TestPki;
let files: IdentityFiles;
let upstream: HttpUpstream;
let server: RunningServer;
let onRequest: (req: IncomingMessage, res: ServerResponse) => void = () => {};

beforeAll(async () => {
  pki = await createTestPki();
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  upstream = await startHttpUpstream((req, res) => onRequest(req, res));
  server = await startServer({
    identity: files,
    env: { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}` },
  });
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  await removeDir(files.dir);
});

/** Deterministic pseudo-random 1 MiB blocks, so both ends can hash what they should see. */
function block(index: number): Buffer {
  const out = Buffer.alloc(MIB);
  let state = (index + 1) * 2654435761;
  for (let offset = 0; offset < MIB; offset += 4) {
    state = (state * 1103515245 + 12345) >>> 0;
    out.writeUInt32LE(state, offset);
  }
  return out;
}

function expectedHash(): string {
  const hash = createHash("sha256");
  for (let index = 0; index < TOTAL / MIB; index++) hash.update(block(index));
  return hash.digest("hex");
}

/** Writes blocks 1..n-1 respecting backpressure. */
async function writeRest(stream: NodeJS.WritableStream): Promise<void> {
  for (let index = 1; index < TOTAL / MIB; index++) {
    if (!stream.write(block(index))) await new Promise((resolve) => stream.once("drain", resolve));
  }
  stream.end();
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

const caller = () => ({ ca: pki.caPem, cert: pki.client.chainPem, key: pki.client.keyPem });

describe("reverse proxy: streamed bodies", () => {
  it("streams a 20 MiB request body: the upstream sees its first bytes before the caller sends the rest", async () => {
    const upstreamSawFirstBytes = deferred();
    const received = new Promise<{ bytes: number; hash: string }>((resolve) => {
      onRequest = (req, res) => {
        const hash = createHash("sha256");
        let bytes = 0;
        req.on("data", (chunk: Buffer) => {
          if (bytes === 0) upstreamSawFirstBytes.resolve();
          bytes += chunk.length;
          hash.update(chunk);
        });
        req.on("end", () => {
          res.end("stored");
          resolve({ bytes, hash: hash.digest("hex") });
        });
      };
    });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port: server.port,
        servername: "localhost",
        method: "POST",
        path: "/upload",
        agent: false,
        ...caller(),
      });
      req.on("error", reject);
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.write(block(0));
      void upstreamSawFirstBytes.promise.then(() => writeRest(req));
    });
    const [result, seen] = await Promise.all([answer, received]);
    expect(result).toEqual({ status: 200, body: "stored" });
    expect(seen.bytes).toBe(TOTAL);
    expect(seen.hash).toBe(expectedHash());
    expect(
      await metric(server.statusUrl, "mtls_proxy_bytes_total", { direction: "to_upstream" }),
    ).toBeGreaterThanOrEqual(TOTAL);
  }, 120_000);

  it("streams a 20 MiB answer: the caller sees its first bytes before the upstream sends the rest", async () => {
    const callerSawFirstBytes = deferred();
    onRequest = (req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/octet-stream" });
      res.write(block(0));
      void callerSawFirstBytes.promise.then(() => writeRest(res));
    };
    const seen = await new Promise<{ status: number; bytes: number; hash: string }>((resolve, reject) => {
      const req = request({
        host: "127.0.0.1",
        port: server.port,
        servername: "localhost",
        path: "/download",
        agent: false,
        ...caller(),
      });
      req.on("error", reject);
      req.on("response", (res) => {
        const hash = createHash("sha256");
        let bytes = 0;
        res.on("data", (chunk: Buffer) => {
          if (bytes === 0) callerSawFirstBytes.resolve();
          bytes += chunk.length;
          hash.update(chunk);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes, hash: hash.digest("hex") }));
      });
      req.end();
    });
    expect(seen.status).toBe(200);
    expect(seen.bytes).toBe(TOTAL);
    expect(seen.hash).toBe(expectedHash());
  }, 120_000);
});
