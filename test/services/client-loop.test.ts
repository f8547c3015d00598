/**
 * The client's loop mode: while the server is away (its port proxy resets connections) it backs off
 * (capped, jittered) and says why, with its status listener reporting not ready; once the server
 * is up it makes a round every interval over one kept-alive connection; it reloads its own
 * identity when the files change, closing the kept-alive connection of the old one at once (not at
 * its next round); and SIGTERM stops it with exit 0. The client's port is held by
 * the test's forwarder from the start and the server binds its own port 0: no port is freed and
 * bound again.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { startForwarder } from "./support/forwarder.ts";
import {
  CLIENT_ENTRY,
  type LogLine,
  spawnService,
  startServer,
  stopAllServices,
} from "./support/service-process.ts";
import { eventually, getStatus, metric } from "./support/status.ts";

let pki: TestPki;
let serverFiles: IdentityFiles;
let clientFiles: IdentityFiles;

beforeAll(async () => {
  pki = await createTestPki();
  serverFiles = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
  clientFiles = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(serverFiles.dir);
  await removeDir(clientFiles.dir);
});

const rounds = (lines: LogLine[]) => lines.filter((line) => line.event === "round");

it("backs off while the server is away, then rounds over a kept-alive connection, reloads, and stops on SIGTERM", async () => {
  const proxy = await startForwarder();
  const client = spawnService(CLIENT_ENTRY, [], clientFiles, {
    MTLS_SERVER_URL: `https://localhost:${proxy.port}`,
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
    MTLS_INTERVAL_MS: "100",
    MTLS_BACKOFF_INITIAL_MS: "100",
    MTLS_BACKOFF_MAX_MS: "400",
    MTLS_RELOAD_DEBOUNCE_MS: "100",
  });
  const status = await client.waitForLine((line) => line.event === "status_listening");
  const statusUrl = `http://${String(status.address)}`;

  // Server away: failures with the reason in words, growing but capped delays, not ready.
  await client.waitForLine(() => rounds(client.lines).length >= 5, 15_000);
  const failures = rounds(client.lines);
  expect(failures.map((line) => `${line.result}:${line.reason}`)).toEqual(
    failures.map(() => "failure:refused_by_server"),
  );
  const delays = failures.map((line) => Number(line.retryInMs));
  expect(delays[0]).toBeGreaterThanOrEqual(50);
  expect(delays[0]).toBeLessThanOrEqual(100);
  expect(Math.max(...delays)).toBeLessThanOrEqual(400);
  expect(delays.at(-1)).toBeGreaterThanOrEqual(200); // 4th failure onwards: between 200 and the 400 cap
  const notReady = await getStatus(statusUrl, "/readyz");
  expect(notReady.status).toBe(503);
  expect(JSON.parse(notReady.body).reasons[0]).toBe(
    "last round failed: refused by the server: it closed the connection during the TLS handshake (ECONNRESET)",
  );
  expect(
    await metric(statusUrl, "mtls_client_round_failures_total", { reason: "refused_by_server" }),
  ).toBeGreaterThanOrEqual(5);

  // Server arrives: rounds succeed, over one connection kept alive between rounds.
  const server = await startServer({ identity: serverFiles });
  proxy.setUpstream(server.port);
  await client.waitForLine(
    () => rounds(client.lines).filter((line) => line.result === "ok").length >= 4,
    10_000,
  );
  const ok = rounds(client.lines).filter((line) => line.result === "ok");
  expect(ok.slice(1).map((line) => (line.server as { connectionReused: boolean }).connectionReused)).toEqual(
    ok.slice(1).map(() => true),
  );
  expect((await getStatus(statusUrl, "/readyz")).status).toBe(200);
  expect(await metric(server.statusUrl, "mtls_handshakes_total", { result: "success" })).toBe(1);

  // Its identity is renewed on disk: the next rounds present the new certificate.
  const renewed = await issueLeaf(pki.issuing, { commonName: "client-a", purpose: "client" });
  await writeIdentity({ cert: renewed.chainPem, key: renewed.keyPem }, clientFiles.dir);
  await client.waitForLine((line) => line.event === "reload" && line.result === "success", 5000);
  await client.waitForLine(
    (line) =>
      line.event === "round" && (line.identity as { serialNumber?: string })?.serialNumber === renewed.serial,
    5000,
  );
  await eventually(
    () => metric(statusUrl, "mtls_reloads_total", { result: "success" }),
    (count) => count === 1,
  );

  const { code } = await client.stop("SIGTERM");
  expect(code).toBe(0);
  expect(client.lines.at(-1)).toMatchObject({ event: "stopped", signal: "SIGTERM" });
  expect((await server.stop()).code).toBe(0);
  await proxy.close();
});

it("closes the connection of its old identity at the reload, not only at its next round", async () => {
  const files = await writeIdentity({ cert: pki.client.chainPem, key: pki.client.keyPem, ca: pki.caPem });
  const server = await startServer({ identity: serverFiles });
  const client = spawnService(CLIENT_ENTRY, [], files, {
    MTLS_SERVER_URL: `https://localhost:${server.port}`,
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
    MTLS_INTERVAL_MS: "4000",
    MTLS_RELOAD_DEBOUNCE_MS: "100",
  });
  await client.waitForLine((line) => line.event === "round" && line.result === "ok");
  const verified = () => metric(server.statusUrl, "mtls_connections_in_use", { budget: "verified" });
  expect(await verified()).toBe(1); // its kept-alive connection, between rounds

  const renewed = await issueLeaf(pki.issuing, { commonName: "client-a", purpose: "client" });
  await writeIdentity({ cert: renewed.chainPem, key: renewed.keyPem }, files.dir);
  await client.waitForLine((line) => line.event === "reload" && line.result === "success");
  await eventually(verified, (count) => count === 0);
  // Closed before the next round, which then connects anew with the new certificate.
  expect(rounds(client.lines)).toHaveLength(1);
  await client.waitForLine(() => rounds(client.lines).length === 2);
  const next = rounds(client.lines)[1]!;
  expect((next.identity as { serialNumber?: string }).serialNumber).toBe(renewed.serial);
  expect(await metric(server.statusUrl, "mtls_handshakes_total", { result: "success" })).toBe(2);
  await client.stop();
  await server.stop();
  await removeDir(files.dir);
});
