/**
 * What the emulated tls plugin issues works for real: a root -> intermediate -> leaf chain
 * verifies with node:crypto, and server and client identities complete an mTLS handshake with
 * node:tls on 127.0.0.1, for each key type a user may pick. The P-224 default does not.
 */
import { X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import * as nodeTls from "node:tls";
import * as tls from "@pulumi/tls";
import { afterEach, describe, expect, test } from "vitest";
import { EmulatedEngine } from "./engine/engine.ts";
import { runProgram } from "./run-program.ts";
import { TlsProvider } from "./tls/provider.ts";

let engine: EmulatedEngine | undefined;

afterEach(async () => {
  await engine?.destroyAll();
  engine = undefined;
});

interface Pki {
  rootPem: string;
  intermediatePem: string;
  serverPem: string;
  serverKey: string;
  clientPem: string;
  clientKey: string;
}

/** Declares root CA -> intermediate CA -> server and client leaves, all on keys of `keyArgs`. */
async function issuePki(
  keyArgs: tls.PrivateKeyArgs,
  clientUses = ["digital_signature", "key_encipherment", "client_auth"],
  serverKeyArgs: tls.PrivateKeyArgs = keyArgs,
): Promise<Pki> {
  engine = new EmulatedEngine([new TlsProvider()]);
  const run = await runProgram({
    engine,
    project: "mtls",
    stack: "test",
    program: async () => {
      const rootKey = new tls.PrivateKey("root", keyArgs);
      const root = new tls.SelfSignedCert("root", {
        privateKeyPem: rootKey.privateKeyPem,
        isCaCertificate: true,
        maxPathLength: 1,
        validityPeriodHours: 24,
        allowedUses: ["cert_signing", "crl_signing"],
        subject: { commonName: "Test Root CA", organization: "Example" },
      });
      const interKey = new tls.PrivateKey("intermediate", keyArgs);
      const interCsr = new tls.CertRequest("intermediate", {
        privateKeyPem: interKey.privateKeyPem,
        subject: { commonName: "Test Intermediate CA", organization: "Example" },
      });
      const inter = new tls.LocallySignedCert("intermediate", {
        certRequestPem: interCsr.certRequestPem,
        caCertPem: root.certPem,
        caPrivateKeyPem: rootKey.privateKeyPem,
        isCaCertificate: true,
        maxPathLength: 0,
        validityPeriodHours: 12,
        allowedUses: ["cert_signing", "crl_signing"],
      });
      const leaf = (
        name: string,
        args: tls.PrivateKeyArgs,
        uses: string[],
        sans: Partial<tls.CertRequestArgs>,
      ) => {
        const key = new tls.PrivateKey(name, args);
        const csr = new tls.CertRequest(name, {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName: name },
          ...sans,
        });
        const cert = new tls.LocallySignedCert(name, {
          certRequestPem: csr.certRequestPem,
          caCertPem: inter.certPem,
          caPrivateKeyPem: interKey.privateKeyPem,
          validityPeriodHours: 1,
          allowedUses: uses,
        });
        return { key: key.privateKeyPem, cert: cert.certPem };
      };
      const server = leaf("server", serverKeyArgs, ["digital_signature", "key_encipherment", "server_auth"], {
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
      });
      const client = leaf("client", keyArgs, clientUses, { uris: ["spiffe://example.org/client"] });
      return {
        rootPem: root.certPem,
        intermediatePem: inter.certPem,
        serverPem: server.cert,
        serverKey: server.key,
        clientPem: client.cert,
        clientKey: client.key,
      };
    },
  });
  return run.exports as unknown as Pki;
}

interface Handshake {
  clientError?: string;
  serverAuthorized?: boolean;
  serverAuthorizationError?: string;
  peerCommonName?: string;
  protocol?: string | null;
}

/** One mTLS connection on 127.0.0.1: server requires a client certificate chaining to the root. */
async function handshake(pki: Pki): Promise<Handshake> {
  const result: Handshake = {};
  const server = nodeTls.createServer({
    key: pki.serverKey,
    cert: pki.serverPem + pki.intermediatePem,
    ca: pki.rootPem,
    requestCert: true,
    // Accept the TCP connection either way so the test can read why a client was refused.
    rejectUnauthorized: false,
  });
  const seenByServer = new Promise<void>((resolve) => {
    server.on("secureConnection", (socket) => {
      result.serverAuthorized = socket.authorized;
      result.serverAuthorizationError = socket.authorizationError
        ? String(socket.authorizationError)
        : undefined;
      result.peerCommonName = String(socket.getPeerCertificate().subject?.CN ?? "");
      socket.end("ok");
      resolve();
    });
    server.on("tlsClientError", () => resolve());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const socket = nodeTls.connect({
        host: "127.0.0.1",
        port,
        key: pki.clientKey,
        cert: pki.clientPem + pki.intermediatePem,
        ca: pki.rootPem,
      });
      socket.setTimeout(5000, () => socket.destroy(new Error("handshake timed out")));
      socket.on("secureConnect", () => {
        result.protocol = socket.getProtocol();
        socket.on("data", () => socket.end());
      });
      socket.on("error", (err: NodeJS.ErrnoException) => {
        result.clientError = err.code ?? err.message;
        resolve();
      });
      socket.on("close", () => resolve());
    });
    await Promise.race([seenByServer, new Promise((resolve) => setTimeout(resolve, 1000))]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return result;
}

describe.each([
  ["ECDSA P-256", { algorithm: "ECDSA", ecdsaCurve: "P256" }],
  ["ECDSA P-384", { algorithm: "ECDSA", ecdsaCurve: "P384" }],
  ["RSA 2048", { algorithm: "RSA" }],
  ["ED25519", { algorithm: "ED25519" }],
])("a %s PKI", (_, keyArgs) => {
  test("chains root -> intermediate -> leaf under node:crypto", async () => {
    const pki = await issuePki(keyArgs);
    const root = new X509Certificate(pki.rootPem);
    const inter = new X509Certificate(pki.intermediatePem);
    for (const pem of [pki.serverPem, pki.clientPem]) {
      const leaf = new X509Certificate(pem);
      expect(leaf.checkIssued(inter)).toBe(true);
      expect(leaf.verify(inter.publicKey)).toBe(true);
      expect(leaf.ca).toBe(false);
    }
    expect(inter.checkIssued(root)).toBe(true);
    expect(inter.verify(root.publicKey)).toBe(true);
    expect(inter.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
  });

  test("completes a mutual TLS handshake on 127.0.0.1", async () => {
    const pki = await issuePki(keyArgs);
    const result = await handshake(pki);
    expect(result).toMatchObject({ serverAuthorized: true, peerCommonName: "client" });
    expect(result.clientError).toBeUndefined();
    expect(result.protocol).toBe("TLSv1.3");
  });
});

test("a client certificate without client_auth is refused by the server", async () => {
  const pki = await issuePki({ algorithm: "ECDSA", ecdsaCurve: "P256" }, [
    "digital_signature",
    "server_auth",
  ]);
  const result = await handshake(pki);
  expect(result.serverAuthorized).toBe(false);
  expect(result.serverAuthorizationError).toBe("INVALID_PURPOSE");
});

test("a server on the default P-224 curve cannot complete a handshake", async () => {
  const pki = await issuePki({ algorithm: "ECDSA", ecdsaCurve: "P256" }, undefined, { algorithm: "ECDSA" });
  const result = await handshake(pki);
  expect(result.clientError).toMatch(/HANDSHAKE_FAILURE/);
  expect(result.serverAuthorized).toBeUndefined();
});
