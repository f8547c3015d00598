/**
 * The proxy benchmarks refuse to measure a peer that accepts a caller without a client certificate
 * (bench/proxy/proxy-suite.ts). Checked on real TLS listeners with a real test PKI: one that
 * requires client certificates (refused at the TLS layer), one that answers such a caller with an
 * HTTP 400 (as nginx does), and two that let it through (an HTTP answer, a TCP echo).
 */
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { probeWithoutClientCertificate, requireClientVerification } from "../../bench/proxy/proxy-suite.ts";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki } from "../support/pki-fixtures/pki.ts";

let files: IdentityFiles;
let identity: { cert: string; key: string; ca: string };
const servers: Server[] = [];

beforeAll(async () => {
  const pki = await createTestPki({});
  identity = { cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem };
  files = await writeIdentity(identity);
});

afterAll(async () => {
  for (const server of servers) server.close();
  await removeDir(files.dir);
});

async function listen(requireCertificate: boolean, onSocket: (socket: TLSSocket) => void): Promise<number> {
  const server = createServer(
    {
      ...identity,
      requestCert: requireCertificate,
      rejectUnauthorized: requireCertificate,
      minVersion: "TLSv1.3",
    },
    onSocket,
  );
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

const answerOnce = (response: string) => (socket: TLSSocket) => {
  socket.on("error", () => {});
  socket.once("data", () => socket.end(response));
};

describe("a peer is measured only if it refuses a caller without a client certificate", () => {
  test("a listener that requires a client certificate refuses at the TLS layer, and passes", async () => {
    const port = await listen(true, answerOnce("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    const outcome = await probeWithoutClientCertificate(port, files.ca);
    expect(outcome).toEqual({ refused: true, how: "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" });
    await expect(requireClientVerification("strict peer", port, files.ca)).resolves.toBe(outcome.how);
  });

  test("an HTTP 400 to a caller without a certificate (nginx's way) counts as a refusal", async () => {
    const port = await listen(false, answerOnce("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
    await expect(requireClientVerification("nginx-like peer", port, files.ca)).resolves.toBe(
      "HTTP/1.1 400 Bad Request",
    );
  });

  test("an HTTP proxy that answers 200 without a client certificate is refused, named, not measured", async () => {
    const port = await listen(false, answerOnce("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    await expect(requireClientVerification("lax proxy (HTTP)", port, files.ca)).rejects.toThrow(
      `lax proxy (HTTP) on port ${port} accepted a caller without a client certificate (HTTP/1.1 200 OK)`,
    );
  });

  test("a TCP tunnel that echoes an anonymous caller's bytes is refused too", async () => {
    const port = await listen(false, (socket) => {
      socket.on("error", () => {});
      socket.pipe(socket);
    });
    await expect(requireClientVerification("lax tunnel", port, files.ca)).rejects.toThrow(
      /lax tunnel on port \d+ accepted a caller without a client certificate \(GET \/ HTTP\/1\.1\)/,
    );
  });
});
