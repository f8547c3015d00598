/**
 * End to end on a real Docker engine, the lifecycle beyond leaf rotation: revoking a
 * client, changing the allow-list and rotating the CA in stages, each while callers on the host
 * make new connections continuously. The dev stack with two clients, deployed through the program
 * and the provider emulation; the steps run in order and share one deployment.
 */

import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { stackConfig } from "../support/stack-files.ts";
import { type Credentials, startCaller } from "./caller.ts";
import { jsonLogs, metricValue, statusEndpoint, waitUntil } from "./containers.ts";

const execute = promisify(execFile);

interface Outputs {
  serverUrl: string;
  containerNames: { server: string; clients: Record<string, string> };
  server: { serialNumber: string };
  clients: Record<string, { serialNumber: string }>;
  clientCredentials: Record<string, Credentials>;
  ca: { generations: string[]; issuing: string; roots: Record<string, { fingerprintSha256: string }> };
}

/** Splits a PEM bundle into its certificates. */
function certificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  );
}

async function containerId(name: string): Promise<string> {
  const { stdout } = await execute("docker", ["inspect", "--format", "{{.Id}}", name]);
  return stdout.trim();
}

/** A delivered file, read inside the service container that mounts the volume (the image has Node, no shell tools). */
async function deliveredFile(container: string, file: string): Promise<string> {
  const script = `process.stdout.write(require("node:fs").readFileSync(${JSON.stringify(`/etc/mtls/${file}`)}, "utf8"))`;
  const { stdout } = await execute("docker", ["exec", container, "node", "-e", script]);
  return stdout;
}

const skip = await dockerSkipReason();

describe.skipIf(skip)("the dev stack's lifecycle on a real Docker engine", () => {
  const stack: Stack = newStack();
  let config: Record<string, string>;
  let deployment: Deployment;
  let outputs: Outputs;

  const apply = async (changes: Record<string, string>) => {
    config = { ...config, ...changes };
    deployment = await deploy("dev", config, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
    return deployment;
  };
  /** What the run did other than `same`, as "<op> <name> (<changed inputs>)". */
  const changes = () =>
    deployment.run.ops
      .filter((op) => op.op !== "same")
      .map((op) => `${op.op} ${op.name}${op.changed ? ` (${op.changed.join(", ")})` : ""}`)
      .sort();
  /** Always the credentials of the last `up`, as a host tool re-reading the outputs would use. */
  const credentialsOf = (client: string) => () => outputs.clientCredentials[client]!;

  beforeAll(async () => {
    const baseImage = await ensureBaseImage();
    config = {
      ...stackConfig("dev"),
      baseImage,
      publishPort: String(await freePort()),
      clients: '["client-a","client-b"]',
    };
    await apply({});
  });
  afterAll(async () => {
    await deployment?.destroy();
  });

  it("refuses a revoked client with reason revoked from its next call, while the other client and the server container carry on", async () => {
    const serverId = await containerId(outputs.containerNames.server);
    const metricsBefore = await statusEndpoint(outputs.containerNames.server, "/metrics");
    const a = startCaller(outputs.serverUrl, credentialsOf("client-a"));
    const b = startCaller(outputs.serverUrl, credentialsOf("client-b"));
    try {
      await Promise.all([a.next((o) => o.ok), b.next((o) => o.ok)]);
      // As `openssl x509 -serial -noout` prints it, in lower case with colons: any form revokes.
      const serial = outputs.clients["client-b"]!.serialNumber;
      const written = `serial=${serial.toLowerCase().match(/../g)!.join(":")}`;
      // With a serial that matches no certificate of the stack: a warning, not a failure.
      // The program's warnings go through the SDK's log, which `pulumi up` shows as warnings.
      // This one is expected: recorded and checked here, not printed as a warning of the run.
      const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
      let warnings: string[];
      try {
        await apply({ revokedSerials: JSON.stringify([written, "0BADC0DE"]) });
      } finally {
        // Read before restoring: restoring a spy clears what it recorded.
        warnings = warn.mock.calls.map((call) => String(call[0])).filter((m) => m.includes("revokedSerials"));
        warn.mockRestore();
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain("BADC0DE matches no certificate this stack issues now");
      expect(changes()).toEqual(["replace mtls-server-delivery (uploads)"]);
      const refused = await b.next((o) => !o.ok);
      expect(refused.failure).toBe("HTTP 403 revoked");
      // From the first refusal on, every call of the revoked client is refused, for that reason.
      await b.next((o) => !o.ok, refused.at + 1);
      expect(b.since(refused.at).every((o) => o.code === "revoked")).toBe(true);
      // The delay from the new policy file (the delivery container's creation) to the first refusal.
      const delivery = deployment.run.registrations.find((r) => r.name === "mtls-server-delivery")!;
      const { stdout } = await execute("docker", ["inspect", "--format", "{{.Created}}", delivery.id!]);
      console.info(
        `revocation: first refused call ${refused.at - Date.parse(stdout.trim())} ms after the policy file was delivered`,
      );
      await a.next((o) => o.ok, refused.at + 1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    // The other client called before the change and after the first refusal (the awaits above),
    // every call answered: a count of calls would measure the machine's speed, not the policy.
    expect(a.failures).toEqual([]);
    expect(await containerId(outputs.containerNames.server)).toBe(serverId);
    const metricsAfter = await statusEndpoint(outputs.containerNames.server, "/metrics");
    const sample = 'mtls_access_refusals_total{reason="revoked"}';
    expect(metricValue(metricsAfter, sample)).toBeGreaterThan(metricValue(metricsBefore, sample));
    const lines = await jsonLogs(outputs.containerNames.server);
    expect(lines.some((l) => l.event === "request" && l.refusal === "revoked")).toBe(true);
  });

  it("changes the allow-list by replacing only the server's delivery container, with no failure for a client that stays allowed", async () => {
    const serverId = await containerId(outputs.containerNames.server);
    const a = startCaller(outputs.serverUrl, credentialsOf("client-a"));
    try {
      await a.next((o) => o.ok);
      // Lift the revocation and narrow the allow-list in one step: client-b stays refused, now
      // because it is not allowed (the in-network client-b's rounds show it).
      const before = Date.now();
      await apply({ revokedSerials: "[]", allowedClients: '["client-a"]' });
      expect(changes()).toEqual(["replace mtls-server-delivery (uploads)"]);
      await waitUntil("client-b refused as not allowed", async () => {
        const lines = await jsonLogs(outputs.containerNames.server);
        return lines.find(
          (l) => l.event === "request" && l.refusal === "not_allowed" && Date.parse(String(l.time)) >= before,
        );
      });
      await a.next((o) => o.ok, Date.now());
    } finally {
      await a.stop();
    }
    expect(a.failures).toEqual([]);
    expect(await containerId(outputs.containerNames.server)).toBe(serverId);
  });

  it("switches the TLS policy by replacing only the server's delivery container: new handshakes may then use TLS 1.2", async () => {
    const serverId = await containerId(outputs.containerNames.server);
    const modern = startCaller(outputs.serverUrl, credentialsOf("client-a"));
    const legacy = startCaller(outputs.serverUrl, credentialsOf("client-a"), { maxVersion: "TLSv1.2" });
    try {
      // The dev stack's policy is modern (TLS 1.3 only): a TLS 1.2 client is refused.
      await Promise.all([modern.next((o) => o.ok), legacy.next((o) => !o.ok)]);
      expect(legacy.outcomes.some((o) => o.ok)).toBe(false);
      await apply({ tlsPolicy: "intermediate" });
      expect(changes()).toEqual(["replace mtls-server-delivery (uploads)"]);
      await legacy.next((o) => o.ok);
      await modern.next((o) => o.ok, Date.now());
      await apply({ tlsPolicy: "modern" });
      expect(changes()).toEqual(["replace mtls-server-delivery (uploads)"]);
      const refusedAgain = await legacy.next((o) => !o.ok, Date.now());
      expect(refusedAgain.failure).toMatch(/protocol|version|alert/i);
      await modern.next((o) => o.ok, Date.now());
    } finally {
      await Promise.all([modern.stop(), legacy.stop()]);
    }
    expect(modern.failures).toEqual([]);
    expect(await containerId(outputs.containerNames.server)).toBe(serverId);
  });

  it("rotates the CA in three ups with no failed call, ending with every certificate in use chained only to generation 2", async () => {
    const serverId = await containerId(outputs.containerNames.server);
    const rotationStart = Date.now();
    const a = startCaller(outputs.serverUrl, credentialsOf("client-a"));
    const counts: string[] = [];
    let lastCount = 0;
    const step = async (what: string, change: Record<string, string>) => {
      await apply(change);
      // Calls go on until the caller has completed one with what this step delivered.
      await a.next((o) => o.ok, Date.now());
      counts.push(`${what}: ${a.calls - lastCount} calls`);
      lastCount = a.calls;
      return changes();
    };
    try {
      await a.next((o) => o.ok);
      const oldServerSerial = outputs.server.serialNumber;

      // 1. Trust both: bundles gain root 2, no leaf changes.
      const trustBoth = await step("add generation 2", { caGenerations: '["1","2"]' });
      expect(outputs.ca.generations).toEqual(["1", "2"]);
      expect(outputs.server.serialNumber).toBe(oldServerSerial);
      expect(trustBoth.filter((c) => !c.includes("delivery"))).toEqual([
        "create pki-ca-2-root",
        "create pki-ca-2-root-key",
      ]);

      // 2. Issue from 2: leaves re-issued, trusted everywhere already.
      const reissue = await step("issue from generation 2", { issuingCa: "2" });
      expect(outputs.ca.issuing).toBe("2");
      expect(outputs.server.serialNumber).not.toBe(oldServerSerial);
      expect(reissue.filter((c) => c.startsWith("replace mtls-server ") || c.includes("-root"))).toEqual([]);
      await a.next((o) => o.ok && o.serverSerial === outputs.server.serialNumber);

      // 3. Drop 1: bundles lose root 1, its key and certificate are deleted.
      const drop = await step("drop generation 1", { caGenerations: '["2"]' });
      expect(outputs.ca.generations).toEqual(["2"]);
      expect(drop.filter((c) => c.includes("-root"))).toEqual(["delete pki-root", "delete pki-root-key"]);
      // A call that trusts root 2 alone (the caller's bundle is the new output) succeeds.
      await a.next((o) => o.ok, Date.now());
    } finally {
      await a.stop();
    }
    console.info(`CA rotation: ${a.calls} calls in all (${counts.join("; ")}), ${a.failures.length} failed`);
    expect(a.failures).toEqual([]);
    expect(a.calls).toBeGreaterThan(30);
    // The in-network client that stays allowed failed no round either (it reloads its identity
    // from its volume as the host caller re-reads the outputs).
    // Its rounds are spaced by the stack's interval: wait for one after the last step.
    const rotationEnd = Date.now();
    const roundsOf = async () =>
      (await jsonLogs(outputs.containerNames.clients["client-a"]!)).filter(
        (l) => l.event === "round" && Date.parse(String(l.time)) >= rotationStart,
      );
    await waitUntil("a round of client-a after the rotation", async () =>
      (await roundsOf()).some((l) => Date.parse(String(l.time)) >= rotationEnd) ? true : undefined,
    );
    expect((await roundsOf()).filter((l) => l.result !== "ok")).toEqual([]);
    // The server container was never replaced: each step replaced delivery containers only.
    expect(await containerId(outputs.containerNames.server)).toBe(serverId);

    const root2 = certificates(outputs.clientCredentials["client-a"]!.caPem);
    expect(root2.map((c) => c.fingerprint256)).toEqual([outputs.ca.roots["2"]!.fingerprintSha256]);
    const [anchor] = root2;
    const containers = [outputs.containerNames.server, ...Object.values(outputs.containerNames.clients)];
    for (const container of containers) {
      const bundle = certificates(await deliveredFile(container, "ca.crt"));
      expect(
        bundle.map((c) => c.fingerprint256),
        container,
      ).toEqual([anchor!.fingerprint256]);
      const [leaf] = certificates(await deliveredFile(container, "tls.crt"));
      expect(leaf!.checkIssued(anchor!) && leaf!.verify(anchor!.publicKey), container).toBe(true);
    }
    // What the server presents now is the leaf it was delivered, issued by root 2.
    const last = a.outcomes.at(-1)!;
    expect(last.serverSerial).toBe(outputs.server.serialNumber);
    expect(last.serverIssuer).toBe(anchor!.subject.match(/CN=(.*)/)?.[1]);
  }, 600_000);
});
