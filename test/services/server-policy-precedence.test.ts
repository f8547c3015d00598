/**
 * Precedence between the policy file and MTLS_ALLOWED_CLIENTS: an `allowedClients` key in the file
 * replaces the environment's list (an empty one allows every certificate that chains to the bundle,
 * as an empty MTLS_ALLOWED_CLIENTS does); a file without that key leaves the environment's list in
 * force and only adds revocations.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type Leaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { afterPolicyReload, policyPath, writePolicy } from "./support/policy.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { type Caller, callServer } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let server: RunningServer;
let clientB: Leaf;
let policyFile: string;
const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki({ clientCommonName: "client-a" });
  clientB = await issueLeaf(pki.issuing, { commonName: "client-b", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  policyFile = policyPath(files.dir);
  await writePolicy(policyFile, { allowedClients: ["client-b"] });
  server = await startServer({
    identity: files,
    env: { MTLS_POLICY_FILE: policyFile, MTLS_ALLOWED_CLIENTS: "client-a" },
  });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

async function statusOf(leaf: Leaf): Promise<{ status: number; message?: string }> {
  const result = await callServer({ port: server.port, caller: callerOf(leaf) });
  return result.status === 200
    ? { status: 200 }
    : { status: result.status, message: JSON.parse(result.body).error.message };
}

describe("policy file and MTLS_ALLOWED_CLIENTS", () => {
  it("the file's allowedClients replaces MTLS_ALLOWED_CLIENTS, and the refusal names the file", async () => {
    const loaded = await server.waitForLine((line) => line.event === "policy_loaded");
    expect(loaded).toMatchObject({
      state: "valid",
      policy: { allowListSource: "file", allowedClients: ["client-b"] },
    });
    expect(await statusOf(clientB)).toEqual({ status: 200 });
    expect(await statusOf(pki.client)).toEqual({
      status: 403,
      message: `client "client-a" is not on the allow-list (MTLS_POLICY_FILE ${policyFile})`,
    });
  });

  it("a file without allowedClients leaves MTLS_ALLOWED_CLIENTS in force", async () => {
    const line = await afterPolicyReload(server, () => writePolicy(policyFile, { revokedSerials: [] }));
    expect(line).toMatchObject({
      result: "success",
      policy: { allowListSource: "env", allowedClients: ["client-a"] },
    });
    expect(await statusOf(pki.client)).toEqual({ status: 200 });
    expect(await statusOf(clientB)).toEqual({
      status: 403,
      message: 'client "client-b" is not on the allow-list (MTLS_ALLOWED_CLIENTS)',
    });
  });

  it("an empty allowedClients in the file allows every certificate that chains to the bundle", async () => {
    await afterPolicyReload(server, () => writePolicy(policyFile, { allowedClients: [] }));
    expect(await statusOf(pki.client)).toEqual({ status: 200 });
    expect(await statusOf(clientB)).toEqual({ status: 200 });
  });
});
