/**
 * Happy path: the real server and the real client (--once) complete mTLS rounds with ECDSA P-256,
 * RSA-2048 and Ed25519 identities, with and without an intermediate CA, under both TLS policies.
 * Under `intermediate`, a TLS 1.2 caller is served too, with an ECDHE AEAD suite.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type KeyType, type TestPki } from "../support/pki-fixtures/pki.ts";
import { runClientOnce, startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";
import { callServer } from "./support/tls-client.ts";

const KEY_TYPES: KeyType[] = ["ecdsa-p256", "rsa-2048", "ed25519"];
const POLICIES = ["modern", "intermediate"] as const;

interface Case {
  keyType: KeyType;
  intermediate: boolean;
  pki: TestPki;
  server: IdentityFiles;
  client: IdentityFiles;
}

const cases: Case[] = [];

beforeAll(async () => {
  // One PKI per key type and chain shape, made once for the file (RSA keys are slow to make).
  for (const keyType of KEY_TYPES) {
    for (const intermediate of [false, true]) {
      const pki = await createTestPki({ keyType, intermediate });
      const server = await writeIdentity({
        cert: pki.server.chainPem,
        key: pki.server.keyPem,
        ca: pki.caPem,
      });
      const client = await writeIdentity({
        cert: pki.client.chainPem,
        key: pki.client.keyPem,
        ca: pki.caPem,
      });
      cases.push({ keyType, intermediate, pki, server, client });
    }
  }
});

afterAll(async () => {
  await stopAllServices();
  for (const item of cases) {
    await removeDir(item.server.dir);
    await removeDir(item.client.dir);
  }
});

describe.each(
  KEY_TYPES.flatMap((keyType) => [false, true].map((intermediate) => ({ keyType, intermediate }))),
)("$keyType identities, intermediate CA: $intermediate", ({ keyType, intermediate }) => {
  it.each(POLICIES)("serves the client under the %s policy", async (policy) => {
    const item = cases.find(
      (candidate) => candidate.keyType === keyType && candidate.intermediate === intermediate,
    )!;
    const server = await startServer({ identity: item.server, env: { MTLS_TLS_POLICY: policy } });

    const run = await runClientOnce(item.client, {
      MTLS_SERVER_URL: `https://localhost:${server.port}`,
      MTLS_TLS_POLICY: policy,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const result = run.result as unknown as {
      result: string;
      identity: Record<string, unknown>;
      server: Record<string, unknown>;
    };
    expect(result.result).toBe("ok");
    expect(result.identity.commonName).toBe("client-a");
    expect(result.identity.serialNumber).toBe(item.pki.client.serial);
    expect(result.server.serialNumber).toBe(item.pki.server.serial);
    expect(result.server.protocol).toBe("TLSv1.3");

    if (policy === "intermediate") {
      const tls12 = await callServer({
        port: server.port,
        caller: { ca: item.pki.caPem, cert: item.pki.client.chainPem, key: item.pki.client.keyPem },
        tls: { maxVersion: "TLSv1.2" },
      });
      expect(tls12.status).toBe(200);
      expect(tls12.protocol).toBe("TLSv1.2");
      expect(tls12.cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
    }
    expect(await metric(server.statusUrl, "mtls_handshakes_total", { result: "failure" })).toBe(0);
    expect(await metric(server.statusUrl, "mtls_requests_total", { route: "/v1/echo", status: "200" })).toBe(
      1,
    );
    expect((await server.stop()).code).toBe(0);
  });
});
