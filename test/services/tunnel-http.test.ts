/**
 * The client as a local tunnel in front of a proxying server: plain HTTP (curl, Node's http) to
 * 127.0.0.1:<local port> reaches the upstream application through two sidecars, and the
 * application sees the caller's verified identity. Each local connection gets its own mTLS
 * connection, which resumes the TLS session of an earlier one.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, type TestPki } from "../support/pki-fixtures/pki.ts";
import {
  type RunningServer,
  type RunningTunnel,
  startServer,
  startTunnel,
  stopAllServices,
} from "./support/service-process.ts";
import { eventually, metric } from "./support/status.ts";
import { type HttpUpstream, startHttpUpstream } from "./support/upstreams.ts";

const CLIENT_URI = "spiffe://example.org/ns/prod/sa/web";
const run = promisify(execFile);

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;
let upstream: HttpUpstream;
let server: RunningServer;
let tunnel: RunningTunnel;

beforeAll(async () => {
  pki = await createTestPki({ clientUris: [CLIENT_URI] });
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
  upstream = await startHttpUpstream();
  server = await startServer({
    identity: serverFiles,
    env: { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}` },
  });
  tunnel = await startTunnel(clientFiles, { MTLS_SERVER_URL: `https://localhost:${server.port}` });
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  await removeDir(serverFiles.dir);
  await removeDir(clientFiles.dir);
});

describe("local tunnel carrying HTTP", () => {
  it("lets plain curl reach the upstream, which sees the caller's identity", async () => {
    const { stdout } = await run("curl", [
      "--silent",
      "--fail",
      `http://127.0.0.1:${tunnel.localPort}/api/v1/items?x=1`,
    ]);
    const seen = JSON.parse(stdout) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe("/api/v1/items?x=1");
    expect(seen.headers["x-forwarded-client-cert"]).toContain(`URI=${CLIENT_URI}`);
    expect(seen.headers["x-forwarded-proto"]).toBe("https");
    // MTLS_UPSTREAM_CLIENT_CERT is off by default: no certificate body travels.
    expect(seen.headers["x-forwarded-client-cert"]).not.toContain("Cert=");
    expect(seen.headers["client-cert"]).toBeUndefined();
  });

  it("resumes the TLS session on later connections and counts connections and bytes", async () => {
    const before = await metric(tunnel.statusUrl, "mtls_tunnel_sessions_resumed_total");
    const connectionsBefore = await metric(tunnel.statusUrl, "mtls_tunnel_connections_total", {
      result: "success",
    });
    for (let index = 0; index < 3; index++) {
      const response = await fetch(`http://127.0.0.1:${tunnel.localPort}/n/${index}`, {
        headers: { connection: "close" },
      });
      expect(response.status).toBe(200);
      await response.text();
    }
    await eventually(
      () => metric(tunnel.statusUrl, "mtls_tunnel_connections_total", { result: "success" }),
      (count) => count === connectionsBefore + 3,
    );
    expect(await metric(tunnel.statusUrl, "mtls_tunnel_sessions_resumed_total")).toBeGreaterThanOrEqual(
      before + 2,
    );
    expect(await metric(tunnel.statusUrl, "mtls_tunnel_bytes_total", { direction: "sent" })).toBeGreaterThan(
      0,
    );
    expect(
      await metric(tunnel.statusUrl, "mtls_tunnel_bytes_total", { direction: "received" }),
    ).toBeGreaterThan(0);
    const line = await tunnel.waitForLine(
      (entry) => entry.event === "tunnel" && entry.sessionReused === true,
    );
    expect(line).toMatchObject({ result: "closed" });
  });

  it("says ready on /readyz once its listener is up", async () => {
    const response = await fetch(`${tunnel.statusUrl}/readyz`);
    expect(response.status).toBe(200);
  });
});
