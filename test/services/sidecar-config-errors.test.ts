/**
 * Bad sidecar configuration: each bad MTLS_UPSTREAM (another scheme, no port, a port out of
 * range, the server's own listen address) and each bad MTLS_LOCAL_LISTEN (malformed, not loopback
 * without MTLS_LOCAL_LISTEN_ANY=1, with --once) ends the process with exit 2 and one line naming
 * the variable, before anything is started (not even the status listener). The opt-in works.
 * A bad sidecar variable joins the one report of every other bad variable: one line each, one exit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki } from "../support/pki-fixtures/pki.ts";
import {
  CLIENT_ENTRY,
  SERVER_ENTRY,
  spawnService,
  startTunnel,
  stopAllServices,
} from "./support/service-process.ts";

let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;

beforeAll(async () => {
  const pki = await createTestPki();
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(serverFiles.dir);
  await removeDir(clientFiles.dir);
});

/** Every config_error line of a start that must fail with exit 2 before starting anything. */
async function configFailures(
  entry: string,
  files: IdentityFiles,
  env: Record<string, string>,
  args: string[] = [],
): Promise<string[]> {
  const service = spawnService(entry, args, files, { MTLS_STATUS_LISTEN: "127.0.0.1:0", ...env });
  const { code } = await service.exited;
  expect(code).toBe(2);
  expect(service.stdout()).toBe(""); // no start line: nothing was started
  for (const line of service.lines) {
    expect(line).toMatchObject({ event: "config_error", level: "error", exitCode: 2 });
  }
  return service.lines.map((line) => String(line.message));
}

async function configFailure(
  entry: string,
  files: IdentityFiles,
  env: Record<string, string>,
  args: string[] = [],
) {
  const messages = await configFailures(entry, files, env, args);
  expect(messages).toHaveLength(1);
  return messages[0]!;
}

describe("bad MTLS_UPSTREAM", () => {
  const server = (upstream: string, listen = "127.0.0.1:0") =>
    configFailure(SERVER_ENTRY, serverFiles, { MTLS_UPSTREAM: upstream, MTLS_LISTEN: listen });

  it("another scheme", async () => {
    expect(await server("https://127.0.0.1:8080")).toBe(
      'MTLS_UPSTREAM="https://127.0.0.1:8080" has scheme "https": expected http:// (reverse proxy) or tcp:// (TCP tunnel)',
    );
    expect(await server("udp://127.0.0.1:53")).toContain('has scheme "udp"');
  });

  it("no port", async () => {
    expect(await server("http://app")).toBe(
      'MTLS_UPSTREAM="http://app" has no port: expected http://host:port or tcp://host:port, e.g. http://127.0.0.1:8080',
    );
    expect(await server("tcp://[::1]")).toContain("has no port");
  });

  it("a port out of range", async () => {
    expect(await server("http://127.0.0.1:65536")).toBe(
      'MTLS_UPSTREAM="http://127.0.0.1:65536" has port 65536, out of range: expected 1 to 65535',
    );
    expect(await server("tcp://127.0.0.1:0")).toContain("out of range");
  });

  it("not an address at all, or with a path", async () => {
    expect(await server("127.0.0.1:8080")).toContain("is not an upstream address");
    expect(await server("http://127.0.0.1:8080/api")).toContain("is not an upstream address");
  });

  it("the server's own listen address", async () => {
    expect(await server("http://127.0.0.1:18443", "127.0.0.1:18443")).toBe(
      'MTLS_UPSTREAM="http://127.0.0.1:18443" points at the server\'s own listener (MTLS_LISTEN=127.0.0.1:18443): ' +
        "every request would be forwarded to itself; give the address your application listens on",
    );
    expect(await server("tcp://localhost:8443", "0.0.0.0:8443")).toContain(
      "points at the server's own listener",
    );
  });

  it("a bad MTLS_UPSTREAM_TIMEOUT_MS", async () => {
    const message = await configFailure(SERVER_ENTRY, serverFiles, {
      MTLS_UPSTREAM: "http://127.0.0.1:8080",
      MTLS_UPSTREAM_TIMEOUT_MS: "soon",
    });
    expect(message).toBe('MTLS_UPSTREAM_TIMEOUT_MS="soon" is not a whole number');
  });
});

describe("bad MTLS_LOCAL_LISTEN", () => {
  const client = (env: Record<string, string>, args: string[] = []) =>
    configFailure(CLIENT_ENTRY, clientFiles, { MTLS_SERVER_URL: "https://localhost:8443", ...env }, args);

  it("malformed", async () => {
    expect(await client({ MTLS_LOCAL_LISTEN: "localhost" })).toBe(
      'MTLS_LOCAL_LISTEN="localhost" is not a listen address: expected host:port, e.g. 127.0.0.1:15001',
    );
    expect(await client({ MTLS_LOCAL_LISTEN: "127.0.0.1:99999" })).toBe(
      'MTLS_LOCAL_LISTEN="127.0.0.1:99999" has port 99999, out of range: expected 0 to 65535',
    );
    expect(await client({ MTLS_LOCAL_LISTEN: ":15001" })).toContain("is not a listen address");
  });

  it("not loopback without MTLS_LOCAL_ALLOW_FROM or MTLS_LOCAL_LISTEN_ANY=1", async () => {
    const message = await client({ MTLS_LOCAL_LISTEN: "0.0.0.0:15001" });
    expect(message).toMatch(/^MTLS_LOCAL_LISTEN="0.0.0.0:15001" is not a loopback address: /);
    expect(message).toContain("set MTLS_LOCAL_ALLOW_FROM to the networks that may use it");
    expect(message).toContain("set MTLS_LOCAL_LISTEN_ANY=1 to allow it");
    expect(await client({ MTLS_LOCAL_LISTEN: "[::]:15001" })).toContain("is not a loopback address");
  });

  it("with --once, or a bad MTLS_LOCAL_LISTEN_ANY", async () => {
    expect(await client({ MTLS_LOCAL_LISTEN: "127.0.0.1:15001" }, ["--once"])).toBe(
      "MTLS_LOCAL_LISTEN runs a tunnel and cannot be combined with --once",
    );
    expect(await client({ MTLS_LOCAL_LISTEN: "127.0.0.1:15001", MTLS_LOCAL_LISTEN_ANY: "maybe" })).toBe(
      'MTLS_LOCAL_LISTEN_ANY="maybe" is not valid: expected on or off (1 or 0)',
    );
  });

  it.each([
    ["a prefix too long", "10.0.0.0/33", "10.0.0.0/33"],
    ["a name", "app", "app"],
    ["an empty entry", "10.0.0.0/8,", ""],
    ["two prefixes", "10.0.0.0/8/9", "10.0.0.0/8/9"],
  ])("a bad MTLS_LOCAL_ALLOW_FROM: %s", async (_what, value, entry) => {
    expect(await client({ MTLS_LOCAL_LISTEN: "0.0.0.0:15001", MTLS_LOCAL_ALLOW_FROM: value })).toBe(
      `MTLS_LOCAL_ALLOW_FROM=${JSON.stringify(value)} has ${JSON.stringify(entry)}, which is not a network: expected comma-separated CIDRs or addresses, e.g. 172.16.3.16/28`,
    );
  });

  it("binds every interface when MTLS_LOCAL_LISTEN_ANY=1 says so", async () => {
    const tunnel = await startTunnel(clientFiles, {
      MTLS_SERVER_URL: "https://localhost:8443",
      MTLS_LOCAL_LISTEN: "0.0.0.0:0",
      MTLS_LOCAL_LISTEN_ANY: "1",
    });
    expect(tunnel.localAddress).toMatch(/^0\.0\.0\.0:\d+$/);
    await tunnel.stop();
  });
});

describe("a bad sidecar variable together with other bad variables", () => {
  it("server: MTLS_UPSTREAM and MTLS_MAX_CONNECTIONS both reported by one start", async () => {
    const messages = await configFailures(SERVER_ENTRY, serverFiles, {
      MTLS_LISTEN: "127.0.0.1:0",
      MTLS_UPSTREAM: "ftp://x",
      MTLS_MAX_CONNECTIONS: "-1",
    });
    expect(messages).toEqual([
      "MTLS_MAX_CONNECTIONS=-1 is too small: expected a whole number of at least 1",
      'MTLS_UPSTREAM="ftp://x" has scheme "ftp": expected http:// (reverse proxy) or tcp:// (TCP tunnel)',
    ]);
  });

  it("server: every bad proxy variable at once", async () => {
    const messages = await configFailures(SERVER_ENTRY, serverFiles, {
      MTLS_LISTEN: "127.0.0.1:0",
      MTLS_UPSTREAM: "http://app",
      MTLS_UPSTREAM_TIMEOUT_MS: "soon",
      MTLS_UPSTREAM_CLIENT_CERT: "maybe",
    });
    expect(messages).toEqual([
      'MTLS_UPSTREAM_TIMEOUT_MS="soon" is not a whole number',
      'MTLS_UPSTREAM_CLIENT_CERT="maybe" is not valid: expected on or off (1 or 0)',
      'MTLS_UPSTREAM="http://app" has no port: expected http://host:port or tcp://host:port, e.g. http://127.0.0.1:8080',
    ]);
  });

  it("client: MTLS_LOCAL_LISTEN and MTLS_SERVER_URL both reported by one start", async () => {
    const messages = await configFailures(CLIENT_ENTRY, clientFiles, {
      MTLS_SERVER_URL: "http://localhost:8443",
      MTLS_LOCAL_LISTEN: "0.0.0.0:15001",
    });
    expect(messages).toHaveLength(2);
    expect(messages[0]).toBe('MTLS_SERVER_URL="http://localhost:8443" must use https://');
    expect(messages[1]).toMatch(/^MTLS_LOCAL_LISTEN="0.0.0.0:15001" is not a loopback address: /);
  });
});
