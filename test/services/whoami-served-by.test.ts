/**
 * GET /v1/whoami names the replica that answered (`servedBy`, the host name the server runs under):
 * with several replicas behind one name (Swarm tasks), a caller can tell which one served it.
 */
import { hostname } from "node:os";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import { startServer, stopAllServices } from "./support/service-process.ts";
import { callServer } from "./support/tls-client.ts";

let pki: TestPki;
let identity: IdentityFiles;

beforeAll(async () => {
  pki = await createTestPki({ keyType: "ecdsa-p256", intermediate: false });
  identity = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
});
afterAll(async () => {
  await stopAllServices();
  await removeDir(identity.dir);
});

it("answers whoami with the host name of the server that served the call", async () => {
  const server = await startServer({ identity });
  const answer = await callServer({
    port: server.port,
    path: "/v1/whoami",
    caller: { ca: pki.caPem, cert: pki.client.chainPem, key: pki.client.keyPem },
  });
  expect(answer.status).toBe(200);
  const body = JSON.parse(answer.body) as { servedBy: string; commonName: string };
  expect(body.commonName).toBe("client-a");
  expect(body.servedBy).toBe(hostname());
});
