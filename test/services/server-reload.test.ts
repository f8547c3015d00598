/**
 * Hot reload under traffic: the server's certificate, and separately the CA bundle, are replaced
 * while a keep-alive client keeps calling and new clients keep arriving. No request may fail, new
 * connections must see the new identity, and the kept-alive connection must survive. A broken
 * update (a key that does not match; an expired or a client-only certificate with its own,
 * matching key) must be logged and counted while the old identity keeps serving; SIGHUP reloads
 * on demand. Traffic windows end on events (calls seen, reloads counted), never after a fixed time.
 */
import { Agent } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import {
  createCa,
  createTestPki,
  daysFromNow,
  issueLeaf,
  type Leaf,
  type LeafOptions,
  type TestPki,
} from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { eventually, handshakeFailures, metric } from "./support/status.ts";
import { type Caller, type CallResult, callServer } from "./support/tls-client.ts";

let pki: TestPki;
let files: IdentityFiles;
let server: RunningServer;
let caBundle: string;

const callerOf = (leaf: Leaf, ca = caBundle): Caller => ({ ca, cert: leaf.chainPem, key: leaf.keyPem });

beforeAll(async () => {
  pki = await createTestPki();
  caBundle = pki.caPem;
  files = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: caBundle });
  // Polling off: these tests exercise the directory watch and SIGHUP.
  server = await startServer({
    identity: files,
    env: { MTLS_RELOAD_DEBOUNCE_MS: "100", MTLS_RELOAD_POLL_MS: "0" },
  });
});

afterAll(async () => {
  await stopAllServices();
  await removeDir(files.dir);
});

/** Two callers in a loop: one on a single kept-alive connection, one opening a new connection each time. */
function traffic(caller: Caller, ca: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const keptAlive: CallResult[] = [];
  const fresh: Array<CallResult & { at: number }> = [];
  const failures: unknown[] = [];
  let running = true;
  const loop = async (calls: (at: number) => Promise<void>) => {
    while (running) {
      await calls(Date.now()).catch((error) => failures.push(error));
      await sleep(15); // pacing between calls, not a wait for anything
    }
  };
  const done = Promise.all([
    loop(async () => {
      keptAlive.push(await expectOk(callServer({ port: server.port, caller: { ...caller, ca }, agent })));
    }),
    loop(async (at) => {
      fresh.push({ ...(await expectOk(callServer({ port: server.port, caller: { ...caller, ca } }))), at });
    }),
  ]);
  return {
    keptAlive,
    fresh,
    failures,
    /** Waits until both callers made `count` more calls than when asked (traffic really flows). */
    async flowing(count = 3) {
      const [keptBefore, freshBefore] = [keptAlive.length, fresh.length];
      await eventually(
        async () => Math.min(keptAlive.length - keptBefore, fresh.length - freshBefore),
        (calls) => calls >= count || failures.length > 0,
        10_000,
      );
    },
    async stop() {
      running = false;
      await done;
      agent.destroy();
    },
  };
}

async function expectOk(call: Promise<CallResult>): Promise<CallResult> {
  const result = await call;
  if (result.status !== 200) throw new Error(`HTTP ${result.status}: ${result.body}`);
  return result;
}

async function reloads(result: "success" | "failure"): Promise<number> {
  return metric(server.statusUrl, "mtls_reloads_total", { result });
}

describe("hot reload", () => {
  it("swaps in a new server certificate with zero failed requests; new connections see the new serial", async () => {
    const before = await reloads("success");
    const load = traffic(callerOf(pki.client), caBundle);
    await load.flowing();
    const renewed = await issueLeaf(pki.issuing, {
      commonName: "mtls-server",
      purpose: "server",
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
    });
    const swappedAt = Date.now();
    await writeIdentity({ cert: renewed.chainPem, key: renewed.keyPem }, files.dir);
    await eventually(
      () => reloads("success"),
      (count) => count === before + 1,
    );
    const reloadedAt = Date.now();
    await eventually(
      async () => load.fresh.filter((result) => result.at > reloadedAt).length,
      (calls) => calls > 3 || load.failures.length > 0,
      10_000,
    );
    await load.stop();

    expect(load.failures).toEqual([]);
    const afterReload = load.fresh.filter((result) => result.at > reloadedAt);
    expect(afterReload.length).toBeGreaterThan(3);
    expect(afterReload.every((result) => result.serverSerial === renewed.serial)).toBe(true);
    expect(
      load.fresh.some((result) => result.at < swappedAt && result.serverSerial === pki.server.serial),
    ).toBe(true);
    // The kept-alive connection was never dropped: one handshake, with the old certificate.
    expect(load.keptAlive.length).toBeGreaterThan(10);
    expect(load.keptAlive.slice(1).every((result) => result.reusedSocket)).toBe(true);
    expect(load.keptAlive.every((result) => result.serverSerial === pki.server.serial)).toBe(true);
    const line = await server.waitForLine((entry) => entry.event === "reload" && entry.result === "success");
    expect(line).toMatchObject({ trigger: "change", certificate: { serialNumber: renewed.serial } });
    pki.server = renewed;
  });

  it("swaps in a new CA bundle with zero failed requests; clients of the new CA are accepted from then on", async () => {
    const newRoot = await createCa({ commonName: "rotated-in root" });
    const newClient = await issueLeaf(newRoot, { commonName: "client-of-new-ca", purpose: "client" });
    const unknownBefore = await handshakeFailures(server.statusUrl, "unknown_ca");
    const refused = await callServer({ port: server.port, caller: callerOf(newClient) });
    expect([refused.status, refused.body]).toEqual([
      400,
      "client certificate rejected: issued by an unknown CA\n",
    ]);
    await eventually(
      () => handshakeFailures(server.statusUrl, "unknown_ca"),
      (count) => count === unknownBefore + 1,
    );

    const before = await reloads("success");
    const load = traffic(callerOf(pki.client), caBundle);
    await load.flowing();
    caBundle = pki.caPem + newRoot.certPem; // trust old and new during the rotation
    await writeIdentity({ ca: caBundle }, files.dir);
    await eventually(
      () => reloads("success"),
      (count) => count === before + 1,
    );
    await load.flowing();
    await load.stop();

    expect(load.failures).toEqual([]);
    expect(load.keptAlive.length).toBeGreaterThan(3);
    expect(load.keptAlive.slice(1).every((result) => result.reusedSocket)).toBe(true);
    const accepted = await callServer({ port: server.port, caller: callerOf(newClient) });
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body).commonName).toBe("client-of-new-ca");
  });

  it("keeps the old identity and counts the failure when the new set is broken, then recovers on SIGHUP", async () => {
    const failuresBefore = await reloads("failure");
    const successesBefore = await reloads("success");
    const load = traffic(callerOf(pki.client), caBundle);
    const orphan = await issueLeaf(pki.issuing, {
      commonName: "mtls-server",
      purpose: "server",
      dnsNames: ["localhost"],
    });
    await writeIdentity({ cert: orphan.chainPem }, files.dir); // its key never arrives
    await eventually(
      () => reloads("failure"),
      (count) => count === failuresBefore + 1,
    );
    const line = await server.waitForLine((entry) => entry.event === "reload" && entry.result === "failure");
    expect(line).toMatchObject({
      level: "warn",
      reason: "key_mismatch",
      keptSerialNumber: pki.server.serial,
    });
    expect(String(line.message)).toContain("does not match the certificate");
    await load.flowing();
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.fresh.length).toBeGreaterThan(0);
    expect(load.fresh.every((result) => result.serverSerial === pki.server.serial)).toBe(true);
    expect(await reloads("success")).toBe(successesBefore);

    // The key arrives: the watched reload puts the set in service; then SIGHUP reloads on demand.
    await writeIdentity({ key: orphan.keyPem }, files.dir);
    const afterWatch = await eventually(
      () => reloads("success"),
      (count) => count === successesBefore + 1,
    );
    process.kill(server.pid, "SIGHUP");
    await eventually(
      () => reloads("success"),
      (count) => count === afterWatch + 1,
    );
    const hangup = await server.waitForLine(
      (entry) => entry.event === "reload" && entry.trigger === "signal",
    );
    expect(hangup).toMatchObject({ result: "success", certificate: { serialNumber: orphan.serial } });
    const fresh = await callServer({ port: server.port, caller: callerOf(pki.client) });
    expect(fresh.serverSerial).toBe(orphan.serial);
    pki.server = orphan;
  });

  /** Writes a certificate with its own, matching key; expects the reload refused for `reason`. */
  async function expectRefusedReload(options: LeafOptions, reason: string, message: RegExp) {
    const failuresBefore = await reloads("failure");
    const successesBefore = await reloads("success");
    const load = traffic(callerOf(pki.client), caBundle);
    await load.flowing();
    const broken = await issueLeaf(pki.issuing, options);
    // Key first, then certificate: a reload in between sees a mismatch, the final one the reason.
    await writeIdentity({ key: broken.keyPem }, files.dir);
    await writeIdentity({ cert: broken.chainPem }, files.dir);
    const line = await server.waitForLine(
      (entry) => entry.event === "reload" && entry.result === "failure" && entry.reason === reason,
    );
    expect(line).toMatchObject({ level: "warn", keptSerialNumber: pki.server.serial });
    expect(String(line.message)).toMatch(message);
    expect(await reloads("failure")).toBeGreaterThan(failuresBefore);
    await load.flowing();
    await load.stop();
    expect(load.failures).toEqual([]);
    expect(load.fresh.length).toBeGreaterThan(0);
    expect(load.fresh.every((result) => result.serverSerial === pki.server.serial)).toBe(true);
    expect(await reloads("success")).toBe(successesBefore);
  }

  it("keeps the old identity when the new certificate has expired, although its key matches", async () => {
    await expectRefusedReload(
      {
        commonName: "mtls-server",
        purpose: "server",
        dnsNames: ["localhost"],
        ...daysFromNow(-30, -1),
      },
      "expired",
      /expired on \d{4}-/,
    );
  });

  it("keeps the old identity when the new certificate is for client use only, although its key matches", async () => {
    await expectRefusedReload(
      { commonName: "mtls-server", purpose: "client", dnsNames: ["localhost"] },
      "wrong_purpose",
      /without serverAuth .* which the server needs \(it has: clientAuth\)/,
    );
  });
});
