/**
 * Start-up validation: each broken identity makes the server print one clear line naming the file
 * and the problem, and exit non-zero (3; 2 for bad configuration, 5 when it cannot listen); several
 * problems give one line each, all at once. The classic openssl recipe with -sha1 gets its own
 * message (also on the lowest supported Node: run with SERVICES_NODE); the same recipe with
 * -sha256 (v1 certificates, CN only) starts and serves. Identity files absent at start are waited
 * for at the delivered paths or when asked to, not crash-looped on; a typed path is not waited for.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type IdentityContents,
  identityPaths,
  makeTempDir,
  removeDir,
  writeIdentity,
} from "../support/pki-fixtures/files.ts";
import {
  createCa,
  createTestPki,
  daysFromNow,
  issueLeaf,
  type TestPki,
} from "../support/pki-fixtures/pki.ts";
import { makeTutorialPki, type TutorialPki } from "../support/pki-fixtures/tutorial-recipe.ts";
import {
  runClientOnce,
  SERVER_ENTRY,
  SERVICES_NODE,
  spawnService,
  startServer,
  stopAllServices,
} from "./support/service-process.ts";
import { getStatus } from "./support/status.ts";

let pki: TestPki;
let good: IdentityContents;
const dirs: string[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  good = { cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem };
});

afterAll(async () => {
  await stopAllServices();
  for (const dir of dirs) await removeDir(dir);
});

async function identityDir(contents: IdentityContents) {
  const files = await writeIdentity(contents);
  dirs.push(files.dir);
  return files;
}

type ErrorLine = { level: string; event: string; message: string; kind?: string; exitCode: number };

/** Starts the server on `contents`, expects the exit code and `lineCount` JSON lines on stderr. */
async function startupFailures(
  contents: IdentityContents,
  expectedExit: number,
  env: Record<string, string>,
  lineCount: number,
) {
  const files = await identityDir(contents);
  const service = spawnService(SERVER_ENTRY, [], files, {
    MTLS_LISTEN: "127.0.0.1:0",
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
    MTLS_IDENTITY_WAIT_MS: "0",
    ...env,
  });
  const { code } = await service.exited;
  expect(code, service.stderr()).toBe(expectedExit);
  const errorLines = service.stderr().trim().split("\n");
  expect(errorLines, service.stderr()).toHaveLength(lineCount);
  expect(service.stderr()).not.toContain("-----BEGIN");
  expect(service.stdout()).not.toContain("-----BEGIN");
  const lines = errorLines.map((text) => JSON.parse(text) as ErrorLine);
  for (const line of lines) expect(line).toMatchObject({ level: "error", exitCode: expectedExit });
  return { lines, files, service };
}

/** Starts the server on `contents`, expects exit code and one JSON line on stderr; returns its message. */
async function startupFailure(
  contents: IdentityContents,
  expectedExit = 3,
  env: Record<string, string> = {},
) {
  const { lines, files } = await startupFailures(contents, expectedExit, env, 1);
  return { ...lines[0]!, files };
}

describe("one clear line and a non-zero exit", () => {
  it("for a missing file", async () => {
    const { message, kind, files } = await startupFailure({ key: good.key, ca: good.ca });
    expect(kind).toBe("missing");
    expect(message).toBe(`MTLS_CERT_FILE (${files.cert}) does not exist`);
  });

  it("for an unreadable file (a directory where the key should be)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mtls-test-"));
    dirs.push(dir);
    const files = identityPaths(dir);
    await writeIdentity({ cert: good.cert, ca: good.ca }, dir);
    await mkdir(files.key);
    const service = spawnService(SERVER_ENTRY, [], files, {
      MTLS_LISTEN: "127.0.0.1:0",
      MTLS_STATUS_LISTEN: "127.0.0.1:0",
    });
    expect((await service.exited).code).toBe(3);
    expect(service.stderr()).toContain(`MTLS_KEY_FILE (${files.key}) is a directory, not a file`);
  });

  it("for a file that is not PEM", async () => {
    const { message, kind } = await startupFailure({ ...good, cert: "this is not a certificate\n" });
    expect(kind).toBe("not_pem");
    expect(message).toMatch(
      /^MTLS_CERT_FILE \(.*tls\.crt\) is not PEM: expected PEM "BEGIN CERTIFICATE" blocks/,
    );
    const key = await startupFailure({ ...good, key: Buffer.from([0x30, 0x82, 0x01]).toString("latin1") });
    expect(key.message).toMatch(/^MTLS_KEY_FILE \(.*tls\.key\) is not PEM/);
  });

  it("for a key that does not match the certificate", async () => {
    const { message, kind } = await startupFailure({ ...good, key: pki.client.keyPem });
    expect(kind).toBe("key_mismatch");
    expect(message).toMatch(
      /^MTLS_KEY_FILE \(.*\) does not match the certificate "CN=mtls-server, O=mtls-pki tests" in MTLS_CERT_FILE/,
    );
  });

  it("for a certificate that does not chain to the CA bundle", async () => {
    const other = await createCa({ commonName: "unrelated root" });
    const { message, kind } = await startupFailure({ ...good, ca: other.certPem });
    expect(kind).toBe("not_chained");
    expect(message).toMatch(
      /"CN=mtls-server, O=mtls-pki tests" in MTLS_CERT_FILE .* does not chain to any CA in MTLS_CA_FILE/,
    );
  });

  it("for an expired certificate", async () => {
    const expired = await issueLeaf(pki.issuing, {
      commonName: "old-server",
      purpose: "server",
      ...daysFromNow(-30, -2),
    });
    const { message, kind } = await startupFailure({ ...good, cert: expired.chainPem, key: expired.keyPem });
    expect(kind).toBe("expired");
    expect(message).toMatch(
      /^certificate "CN=old-server, O=mtls-pki tests" in MTLS_CERT_FILE .* expired on \d{4}-/,
    );
  });

  it("for a certificate that is not valid yet", async () => {
    const future = await issueLeaf(pki.issuing, {
      commonName: "future-server",
      purpose: "server",
      ...daysFromNow(2, 30),
    });
    const { message, kind } = await startupFailure({ ...good, cert: future.chainPem, key: future.keyPem });
    expect(kind).toBe("not_yet_valid");
    expect(message).toMatch(/"CN=future-server, O=mtls-pki tests" .* is not valid until \d{4}-/);
  });

  it("for an extended key usage that lacks the server purpose", async () => {
    const clientOnly = await issueLeaf(pki.issuing, { commonName: "client-as-server", purpose: "client" });
    const { message, kind } = await startupFailure({
      ...good,
      cert: clientOnly.chainPem,
      key: clientOnly.keyPem,
    });
    expect(kind).toBe("wrong_purpose");
    expect(message).toMatch(
      /has an extended key usage without serverAuth .* which the server needs \(it has: clientAuth\)/,
    );
  });

  it("for a CA bundle that holds no certificate", async () => {
    const { message, kind } = await startupFailure({ ...good, ca: "" });
    expect(kind).toBe("empty_ca_bundle");
    expect(message).toMatch(/^MTLS_CA_FILE \(.*ca\.crt\) holds no certificate/);
  });

  it("for bad configuration (exit 2)", async () => {
    const { message } = await startupFailure(good, 2, { MTLS_TLS_POLICY: "tls10" });
    expect(message).toBe('MTLS_TLS_POLICY="tls10" is not a TLS policy: expected modern or intermediate');
  });

  it("for a status listener on the port of MTLS_LISTEN, blaming MTLS_STATUS_LISTEN (exit 2)", async () => {
    const { message } = await startupFailure(good, 2, {
      MTLS_LISTEN: "127.0.0.1:8443",
      MTLS_STATUS_LISTEN: "127.0.0.1:8443",
    });
    expect(message).toMatch(
      /^MTLS_STATUS_LISTEN=127\.0\.0\.1:8443 takes the port of MTLS_LISTEN=127\.0\.0\.1:8443/,
    );
  });

  it("for a status address another program holds, naming MTLS_STATUS_LISTEN (exit 5)", async () => {
    const holder = createNetServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = holder.address() as AddressInfo;
      const { message, event } = await startupFailure(good, 5, { MTLS_STATUS_LISTEN: `127.0.0.1:${port}` });
      expect(event).toBe("listen_error");
      expect(message).toBe(`cannot listen on 127.0.0.1:${port} (MTLS_STATUS_LISTEN): the address is in use`);
    } finally {
      holder.close();
    }
  });
});

describe("every problem at once, one line each", () => {
  it("for several bad variables (exit 2)", async () => {
    const { lines } = await startupFailures(
      good,
      2,
      { MTLS_TLS_POLICY: "tls10", MTLS_MAX_CONNECTIONS: "-1" },
      2,
    );
    expect(lines.map((line) => line.event)).toEqual(["config_error", "config_error"]);
    expect(lines.map((line) => line.message)).toEqual([
      'MTLS_TLS_POLICY="tls10" is not a TLS policy: expected modern or intermediate',
      "MTLS_MAX_CONNECTIONS=-1 is too small: expected a whole number of at least 1",
    ]);
  });

  it("for the connection limits: each bad one, and a budget larger than the cap (exit 2)", async () => {
    const { lines } = await startupFailures(
      good,
      2,
      {
        MTLS_MAX_CONNECTIONS: "64",
        MTLS_MAX_UNAUTHENTICATED_CONNECTIONS: "64",
        MTLS_MAX_CONNECTIONS_PER_CLIENT: "x",
        MTLS_MAX_CONNECTION_AGE_MS: "0",
      },
      3,
    );
    expect(lines.map((line) => line.message)).toEqual([
      'MTLS_MAX_CONNECTIONS_PER_CLIENT="x" is not a whole number',
      "MTLS_MAX_UNAUTHENTICATED_CONNECTIONS=64 is not below MTLS_MAX_CONNECTIONS=64: verified callers get the rest of the cap; expected at most 63",
      "MTLS_MAX_CONNECTION_AGE_MS=0 is too small: expected a whole number of at least 1",
    ]);
  });

  it("for certificate, key and CA bundle all missing (exit 3)", async () => {
    const { lines, files } = await startupFailures({}, 3, {}, 3);
    expect(lines.map((line) => [line.event, line.kind, line.message])).toEqual([
      ["identity_error", "missing", `MTLS_CERT_FILE (${files.cert}) does not exist`],
      ["identity_error", "missing", `MTLS_KEY_FILE (${files.key}) does not exist`],
      ["identity_error", "missing", `MTLS_CA_FILE (${files.ca}) does not exist`],
    ]);
  });

  it("for a certificate that is not PEM and a CA bundle without certificates (exit 3)", async () => {
    const { lines } = await startupFailures({ ...good, cert: "not a certificate\n", ca: "" }, 3, {}, 2);
    expect(lines.map((line) => line.kind)).toEqual(["not_pem", "empty_ca_bundle"]);
  });
});

describe("the classic openssl recipe", () => {
  let sha1: TutorialPki;
  let sha256: TutorialPki;
  beforeAll(async () => {
    const [a, b] = [await makeTempDir("mtls-tutorial-"), await makeTempDir("mtls-tutorial-")];
    dirs.push(a, b);
    [sha1, sha256] = await Promise.all([makeTutorialPki(a, "sha1"), makeTutorialPki(b, "sha256")]);
  });

  it("is refused with the SHA-1 message when made exactly as written (-sha1)", async () => {
    const { message, kind } = await startupFailure({
      cert: sha1.server.certPem,
      key: sha1.server.keyPem,
      ca: sha1.caCertPem,
    });
    expect(kind).toBe("weak_signature");
    expect(message).toContain(
      'certificate "C=CN, ST=myprovince, L=mycity, O=myorganization, OU=mygroup, CN=myServer"',
    );
    expect(message).toContain("is signed with SHA-1 (sha1WithRSAEncryption)");
    expect(message).toContain("OpenSSL's default security level refuses SHA-1 signatures");
    expect(message).toContain("re-issue it with SHA-256");
  });

  it("starts and serves with -sha256 (v1 certificates, CN only), the client pointed at the CN", async () => {
    const serverFiles = await identityDir({
      cert: sha256.server.certPem,
      key: sha256.server.keyPem,
      ca: sha256.caCertPem,
    });
    const clientFiles = await identityDir({
      cert: sha256.client.certPem,
      key: sha256.client.keyPem,
      ca: sha256.caCertPem,
    });
    const server = await startServer({ identity: serverFiles });
    const run = await runClientOnce(clientFiles, {
      MTLS_SERVER_URL: `https://127.0.0.1:${server.port}`,
      MTLS_SERVER_NAME: "myServer",
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toMatchObject({
      result: "ok",
      identity: { commonName: "myClient" },
      server: { commonName: "myServer" },
    });
    // Without a SAN, Node falls back to the CN: any other expected name is a mismatch.
    const mismatch = await runClientOnce(clientFiles, {
      MTLS_SERVER_URL: `https://localhost:${server.port}`,
    });
    expect(mismatch.code).toBe(4);
    expect(mismatch.result).toMatchObject({ reason: "name_mismatch" });
    expect(String(mismatch.result?.message)).toContain("is not cert's CN: myServer");
  });
});

describe("the Node that runs the services", () => {
  it("is SERVICES_NODE when set (CI sets the lowest Node of engines), else the test runner's", async () => {
    const expected = execFileSync(SERVICES_NODE, ["--version"], { encoding: "utf8" }).trim();
    if (process.env.SERVICES_NODE === undefined) expect(expected).toBe(process.version);
    const files = await identityDir(good);
    const server = await startServer({ identity: files });
    expect(server.lines.find((line) => line.event === "start")).toMatchObject({ node: expected });
    await server.stop();
  });
});

describe("identity files absent at start", () => {
  it("waits with readiness false, says so once, and serves once they are delivered", async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const files = identityPaths(dir);
    const server = await startServer({
      identity: files,
      waitReady: false,
      // Files outside /etc/mtls are waited for only when asked to (see the next test).
      env: { MTLS_RELOAD_DEBOUNCE_MS: "50", MTLS_IDENTITY_WAIT_MS: "60000" },
    });
    const waiting = await server.waitForLine((line) => line.event === "waiting_for_identity");
    expect(waiting.missing).toEqual([
      `MTLS_CERT_FILE=${files.cert}`,
      `MTLS_KEY_FILE=${files.key}`,
      `MTLS_CA_FILE=${files.ca}`,
    ]);
    const notReady = await getStatus(server.statusUrl, "/readyz");
    expect(notReady.status).toBe(503);
    expect(JSON.parse(notReady.body).reasons).toContain("identity not loaded");
    expect((await getStatus(server.statusUrl, "/healthz")).status).toBe(200);

    await writeIdentity({ ca: good.ca }, dir); // delivered one file at a time
    await new Promise((resolve) => setTimeout(resolve, 400));
    await writeIdentity({ cert: good.cert, key: good.key }, dir);
    await server.waitForLine((line) => line.event === "ready");
    expect((await getStatus(server.statusUrl, "/readyz")).status).toBe(200);
    expect(server.lines.filter((line) => line.event === "waiting_for_identity")).toHaveLength(1);
    expect(server.child.exitCode).toBeNull();
  });

  it("does not wait for a path the user typed: a missing key there fails at once (exit 3)", async () => {
    const files = await identityDir({ cert: good.cert, ca: good.ca });
    const service = spawnService(SERVER_ENTRY, [], files, {
      MTLS_LISTEN: "127.0.0.1:0",
      MTLS_STATUS_LISTEN: "127.0.0.1:0",
    });
    expect((await service.exited).code).toBe(3);
    expect(service.lines.filter((line) => line.event === "waiting_for_identity")).toEqual([]);
    expect(service.lines.at(-1)).toMatchObject({
      event: "identity_error",
      kind: "missing",
      message: `MTLS_KEY_FILE (${files.key}) does not exist`,
    });
  });
});
