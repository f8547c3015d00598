/**
 * A real mTLS handshake between node:tls endpoints on loopback, reporting what each side saw, so
 * tests can assert that issued identities work together (and that misused ones are refused).
 */
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { eventually } from "./eventually.ts";

export interface TlsIdentity {
  /** Certificate chain PEM, leaf first. */
  cert: string;
  key: string;
  /** CA bundle PEM to verify the peer with. */
  ca: string;
}

export interface HandshakeResult {
  /** The client completed the handshake and verified the server. */
  ok: boolean;
  /** Why the client's side failed (Node error code or message), if it did. */
  clientError?: string;
  /** Why the server refused the client, if it did. */
  serverError?: string;
  /** Common name the server saw in the client's certificate. */
  clientCommonName?: string;
  protocol?: string | null;
}

export async function mtlsHandshake(
  server: TlsIdentity,
  client: TlsIdentity,
  servername: string,
  options: { minVersion?: tls.SecureVersion } = {},
): Promise<HandshakeResult> {
  const result: HandshakeResult = { ok: false };
  const listener = tls.createServer({
    cert: server.cert,
    key: server.key,
    ca: server.ca,
    requestCert: true,
    // Node's server drops an unauthorised client silently when rejectUnauthorized is set (no
    // reason is reported), so verify here and refuse explicitly, recording OpenSSL's reason.
    rejectUnauthorized: false,
    minVersion: options.minVersion ?? "TLSv1.3",
  });
  listener.on("tlsClientError", (error) => {
    result.serverError = (error as NodeJS.ErrnoException).code ?? error.message;
  });
  listener.on("secureConnection", (socket) => {
    if (!socket.authorized) {
      result.serverError = String(socket.authorizationError);
      socket.destroy();
      return;
    }
    result.clientCommonName = String(socket.getPeerCertificate().subject?.CN ?? "");
    socket.end("hello");
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as AddressInfo;

  try {
    await new Promise<void>((resolve) => {
      const socket = tls.connect({
        host: "127.0.0.1",
        port,
        servername,
        cert: client.cert,
        key: client.key,
        ca: client.ca,
        minVersion: options.minVersion ?? "TLSv1.3",
      });
      socket.setTimeout(5000, () => {
        result.clientError = "timeout";
        socket.destroy();
      });
      // With TLS 1.3 the client finishes before the server has checked the client certificate:
      // success is only proven once the server's first bytes arrive.
      socket.on("data", () => {
        result.ok = socket.authorized;
        result.protocol = socket.getProtocol();
        socket.end();
      });
      socket.on("error", (error: NodeJS.ErrnoException) => {
        result.clientError ??= error.code ?? error.message;
      });
      socket.on("close", () => resolve());
    });
    // The server reports a refusal on its own socket, which may close after the client's.
    if (!result.ok) {
      await eventually(
        async () => result.serverError,
        (error) => error !== undefined,
        500,
      ).catch(() => {});
    }
  } finally {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
  return result;
}
