/**
 * Back-to-back large echoes on one kept-alive connection: the server must keep the connection when
 * the next request arrives before the previous answer has drained. Node's HTTPS server fed such a
 * request to a paused parser and reset the connection (HPE_PAUSED); services/src/server/
 * pausable-reads.ts works around it. The caller here sends each request the moment the previous
 * answer is complete (as the benchmark's bulk echo does), which is what exposes the reset.
 */
import { connect, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";

const BODY = Buffer.alloc(1024 * 1024, "0123456789abcdef");
const REQUESTS = 150;
const REQUEST_HEAD = Buffer.from(
  `POST /v1/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${BODY.length}\r\n\r\n`,
);

let pki: TestPki;
let server: IdentityFiles;

beforeAll(async () => {
  pki = await createTestPki({ keyType: "ecdsa-p256", intermediate: false });
  server = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(server.dir);
});

/** Sends `count` echoes back to back on one connection; resolves with the echoed bodies' sizes. */
function echoBackToBack(socket: TLSSocket, count: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const sizes: number[] = [];
    let head = Buffer.alloc(0);
    let bodyLeft: number | undefined;
    let bodySize = 0;
    const send = () => {
      socket.write(REQUEST_HEAD);
      socket.write(BODY);
    };
    socket.on("data", (chunk: Buffer) => {
      if (bodyLeft === undefined) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const text = head.subarray(0, end).toString("latin1");
        if (!text.startsWith("HTTP/1.1 200 "))
          return reject(new Error(`echo ${sizes.length + 1}: ${text.split("\r\n")[0]}`));
        bodySize = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? Number.NaN);
        bodyLeft = bodySize;
        chunk = head.subarray(end + 4);
        head = Buffer.alloc(0);
      }
      bodyLeft -= chunk.length;
      if (bodyLeft > 0) return;
      sizes.push(bodySize);
      bodyLeft = undefined;
      if (sizes.length === count) resolve(sizes);
      else send(); // at once, in the same tick: the server may not have drained its answer yet
    });
    socket.once("error", (error) => reject(new Error(`after ${sizes.length} echoes: ${error.message}`)));
    socket.once("close", () =>
      reject(new Error(`the server closed the connection after ${sizes.length} echoes`)),
    );
    send();
  });
}

it("echoes back-to-back 1 MiB bodies over one kept-alive connection without resetting it", async () => {
  const running = await startServer({ identity: server, env: { MTLS_ACCESS_LOG: "off" } });
  const socket = connect({
    host: "127.0.0.1",
    port: running.port,
    servername: "localhost",
    ca: pki.caPem,
    cert: pki.client.chainPem,
    key: pki.client.keyPem,
  });
  try {
    const sizes = await echoBackToBack(socket, REQUESTS);
    expect(sizes).toEqual(Array(REQUESTS).fill(BODY.length));
  } finally {
    socket.destroy();
  }
  expect(await metric(running.statusUrl, "mtls_handshakes_total", { result: "success" })).toBe(1);
});
