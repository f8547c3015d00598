/**
 * Floods at the default limits (MTLS_MAX_CONNECTIONS 1024), against the server as users run it:
 * the services image in a container with a service container's default memory limit (256 MiB).
 * An anonymous peer holds more idle TCP connections than the cap and re-opens each one the server
 * closes; one verified client tries to hold keep-alive connections up to the cap. In both, another
 * verified caller making a new connection per call is served at least 99% of the time, and the
 * server stays healthy, is not killed for memory, and its peak resident memory (VmHWM of the
 * container's server process) stays under the limit. The figures are printed, not asserted as
 * timings. The floods run in a process of their own (support/flood-generator.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type Leaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { type CallFigures, newConnectionCalls, startFlood, stopAllFloods } from "./support/floods.ts";
import {
  buildShippedImage,
  removeShippedServers,
  type ShippedServer,
  startShippedServer,
} from "./support/shipped-server.ts";
import { getStatus, metric } from "./support/status.ts";
import type { Caller } from "./support/tls-client.ts";

/** The memory limit of a service container by default (MtlsService's memoryMb). */
const CONTAINER_LIMIT_MIB = 256;
const CAP = 1024;
const CALLS = 300;

// Each test waits for events (the flood holding its connections, 300 calls answered); the time
// limit is only a safety net. A flood of 1,024 handshakes plus the re-handshakes of the refused
// connections is CPU work: on a machine busy with other test files it takes several times as long
// as on a quiet one (10-20 s there), and the runner's default of 60 s failed a healthy server.
vi.setConfig({ testTimeout: 240_000 });

const skip = await dockerSkipReason();

let pki: TestPki;
let files: IdentityFiles;
let hoarder: Leaf;
let image: string;
const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  if (skip) return;
  pki = await createTestPki({ clientCommonName: "client-a" });
  hoarder = await issueLeaf(pki.issuing, { commonName: "client-hoarder", purpose: "client" });
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  await ensureBaseImage();
  image = await buildShippedImage();
});

afterAll(async () => {
  stopAllFloods();
  if (skip) return;
  await removeShippedServers();
  await removeDir(files.dir);
});

/** Healthy and not killed; returns /readyz's `connections` detail. */
async function expectHealthy(server: ShippedServer): Promise<Record<string, unknown>> {
  expect(await server.state()).toEqual({ oomKilled: false, running: true });
  expect((await getStatus(server.statusUrl, "/healthz")).status).toBe(200);
  const ready = await getStatus(server.statusUrl, "/readyz");
  expect(ready.status).toBe(200);
  return JSON.parse(ready.body).connections as Record<string, unknown>;
}

function describeCalls(figures: CallFigures): string {
  return (
    `${figures.ok}/${figures.calls} ok (${(figures.successRate * 100).toFixed(1)}%), ` +
    `p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, failures ${JSON.stringify(figures.failures)}`
  );
}

describe.skipIf(skip)("the shipped server under floods at the default limits", () => {
  it("serves a verified caller's new connections while an anonymous peer holds more idle TCP connections than the cap", async () => {
    const server = await startShippedServer({
      image,
      identity: files,
      memoryMb: CONTAINER_LIMIT_MIB,
      env: { MTLS_ACCESS_LOG: "off" },
    });
    const flooders = Math.round(CAP * 1.1);
    const flood = await startFlood({
      kind: "anonymous",
      host: "127.0.0.1",
      port: server.port,
      connections: flooders,
    });
    const figures = await newConnectionCalls(server.port, callerOf(pki.client), CALLS);
    const connections = await expectHealthy(server);
    const floodStats = await flood.stop();
    const peak = server.peakRssMiB();
    const evicted = await metric(server.statusUrl, "mtls_connections_closed_total", {
      budget: "unauthenticated",
      reason: "evicted",
    });
    console.log(
      `anonymous flood of ${flooders} idle TCP connections, re-opened ${floodStats.closedByServer} times: ` +
        `verified caller ${describeCalls(figures)}; server peak RSS ${peak} MiB of ${CONTAINER_LIMIT_MIB}; ` +
        `evicted ${evicted}; /readyz connections ${JSON.stringify(connections)}`,
    );
    expect(figures.successRate).toBeGreaterThanOrEqual(0.99);
    expect(connections.saturated).toContain("unauthenticated");
    expect(evicted).toBeGreaterThan(0);
    expect(peak).toBeLessThan(CONTAINER_LIMIT_MIB);
    // The flood is one burst: its first eviction is logged, the rest counted, not one line each.
    const limited = server.lines.filter((line) => line.event === "connections_limited");
    expect(limited.length).toBeLessThan(10);
    expect(limited[0]).toMatchObject({ budget: "unauthenticated", reason: "evicted", limit: CAP / 4 });
    await server.stop();
  });

  it("serves another client while one verified client tries to hold keep-alive connections up to the cap", async () => {
    const server = await startShippedServer({
      image,
      identity: files,
      memoryMb: CONTAINER_LIMIT_MIB,
      env: { MTLS_ACCESS_LOG: "off" },
    });
    const flood = await startFlood({
      kind: "hoard",
      host: "127.0.0.1",
      port: server.port,
      connections: CAP,
      intervalMs: 1000,
      servername: "localhost",
      ca: pki.caPem,
      cert: hoarder.chainPem,
      key: hoarder.keyPem,
    });
    const figures = await newConnectionCalls(server.port, callerOf(pki.client), CALLS);
    const connections = await expectHealthy(server);
    const floodStats = await flood.stop();
    const peak = server.peakRssMiB();
    const quotaRefusals = await metric(server.statusUrl, "mtls_connections_refused_total", {
      budget: "verified",
      reason: "per_client_quota",
    });
    console.log(
      `one client trying to hold ${CAP} keep-alive connections (a request a second each; answers ` +
        `${JSON.stringify(floodStats.answers)}): other client ${describeCalls(figures)}; ` +
        `server peak RSS ${peak} MiB of ${CONTAINER_LIMIT_MIB}; quota refusals ${quotaRefusals}; ` +
        `/readyz connections ${JSON.stringify(connections)}`,
    );
    expect(figures.successRate).toBeGreaterThanOrEqual(0.99);
    // It holds its quota, a quarter of the cap, and the rest of its connections are told why.
    expect(connections.busiestClient).toEqual({ client: "client-hoarder", connections: CAP / 4 });
    expect(connections.clientsAtQuota).toEqual(["client-hoarder"]);
    expect(connections.saturated).toContain("per_client");
    expect(quotaRefusals).toBeGreaterThan(0);
    expect(floodStats.answers["429"]).toBeGreaterThan(0);
    expect(peak).toBeLessThan(CONTAINER_LIMIT_MIB);
    await server.stop();
  });
});
