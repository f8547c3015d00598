/**
 * End to end on a real Docker engine: the sidecar stack (Pulumi.sidecar.yaml) deployed through the
 * program and the provider emulation. Two demo apps that speak no TLS, each on a private network
 * of its own that only its sidecar shares: `hello` listens on 8080 there behind the mTLS server
 * sidecar; `caller` calls `tunnel-hello:15001`, its tunnel sidecar, a new connection every 0.2 s
 * (the stack file's workload with DEMO_INTERVAL_MS set). The steps share one deployment and run in
 * order: the caller reaches hello only through the two sidecars, and hello sees the caller's
 * verified identity; each workload's wiring is what MtlsWorkload declares; a stranger on the
 * stack's network reaches neither app and is refused by the tunnel; an unchanged re-apply changes
 * nothing; a restart of each container of a workload in turn heals by itself; a leaf rotation
 * replaces only delivery containers with zero failed calls of the caller app.
 *
 * One deviation from the stack file besides the interval: the subnet pool is one no other network
 * of the engine overlaps (test/support/subnet-pool.ts), as test files run side by side.
 */
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_LABEL } from "../../emulation/index.ts";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { sidecarTestConfig } from "../support/sidecar-stack.ts";
import { appCalls, waitForAppRecovery } from "./app-calls.ts";
import { jsonLogs, type LogLine, runOnce, statusEndpoint, waitUntil } from "./containers.ts";

const execute = promisify(execFile);
const CONTAINER = "docker:index/container:Container";

interface WorkloadOutputs {
  app: string;
  sidecars: string[];
  network: string;
  subnet: string;
}

interface Outputs {
  networkName: string;
  workloadContainers: Record<"hello" | "caller", WorkloadOutputs>;
}

/** The fields of an XFCC element (`Hash=...;Subject="...";URI=...`), for the one element we add. */
function xfccFields(header: string): Record<string, string> {
  return Object.fromEntries(
    [...header.matchAll(/([A-Za-z]+)=("(?:[^"\\]|\\.)*"|[^;,]*)/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/^"|"$/g, ""),
    ]),
  );
}

const sha256Hex = (pem: string) => createHash("sha256").update(new X509Certificate(pem).raw).digest("hex");
/** The caller's identity hash in a body hello answered (its XFCC, as the sidecar verified it). */
const callerHash = (body: string | undefined) =>
  /Hash=([0-9a-f]{64})/.exec(JSON.parse(body ?? "{}").xfcc ?? "")?.[1];

async function inspect(container: string, format: string): Promise<string> {
  const { stdout } = await execute("docker", ["inspect", "-f", format, container]);
  return stdout.trim();
}

interface NetworkInspect {
  Internal: boolean;
  Options: Record<string, string>;
  IPAM: { Config: { Subnet: string }[] };
  Containers: Record<string, { Name: string; IPv4Address: string }>;
}

async function network(name: string): Promise<NetworkInspect> {
  const { stdout } = await execute("docker", ["network", "inspect", name]);
  return (JSON.parse(stdout) as NetworkInspect[])[0]!;
}

/** The container's networks and its aliases on each (without the short id Docker adds). */
async function attachments(container: string): Promise<Record<string, string[]>> {
  const networks = JSON.parse(await inspect(container, "{{json .NetworkSettings.Networks}}")) as Record<
    string,
    { Aliases: string[] | null }
  >;
  const id = (await inspect(container, "{{.Id}}")).slice(0, 12);
  return Object.fromEntries(
    Object.entries(networks).map(([name, n]) => [name, (n.Aliases ?? []).filter((a) => a !== id).sort()]),
  );
}

const skip = await dockerSkipReason();

describe.skipIf(skip)("the sidecar stack on a real Docker engine", () => {
  const stack: Stack = newStack();
  let config: Record<string, string>;
  let baseImage: string;
  let deployment: Deployment;
  let outputs: Outputs;

  const apply = async (changes: Record<string, string> = {}) => {
    deployment = await deploy("sidecar", { ...config, ...changes }, { stack });
    outputs = deployment.run.exports as unknown as Outputs;
    return deployment;
  };
  const containerName = (logical: string) => String(stack.engine.resource(CONTAINER, logical)?.outputs.name);
  const caller = () => outputs.workloadContainers.caller;
  const hello = () => outputs.workloadContainers.hello;

  beforeAll(async () => {
    baseImage = await ensureBaseImage();
    config = await sidecarTestConfig(baseImage);
    await apply();
  });
  afterAll(async () => {
    await deployment?.destroy();
  });

  it("carries the caller app's plain HTTP through both sidecars to hello, which sees the caller's identity", async () => {
    const call = await waitUntil("a call of the caller app answered by hello", async () =>
      (await appCalls(caller().app)).find((c) => c.ok),
    );
    const answer = JSON.parse(call.body!) as { app: string; path: string; xfcc: string };
    expect(answer).toMatchObject({ app: "demo-server", path: "/hello" });
    const callerIdentity = deployment.identity("caller");
    const xfcc = xfccFields(answer.xfcc);
    expect(xfcc.Hash).toBe(sha256Hex(callerIdentity.leaf));
    expect(xfcc.URI).toBe("spiffe://sidecar.mtls.internal/caller");
    expect(xfcc.By).toBe("spiffe://sidecar.mtls.internal/hello");
    // And on hello's side: the request it logged carries the same identity.
    const requests = (await jsonLogs(hello().app)).filter(
      (l: LogLine) => l.event === "request" && typeof l.xfcc === "string",
    );
    expect(requests.length).toBeGreaterThan(0);
    expect(xfccFields(String(requests[0]!.xfcc)).Hash).toBe(sha256Hex(callerIdentity.leaf));
  });

  it("wires each app to a private network of its own (internal, no host address, its pool subnet) that only its sidecars share", async () => {
    const expected = {
      hello: { sidecars: ["hello-sidecar"], appAliases: ["app"], sidecarAliases: [[]] as string[][] },
      caller: { sidecars: ["caller-to-hello"], appAliases: ["app"], sidecarAliases: [["tunnel-hello"]] },
    };
    for (const [workload, want] of Object.entries(expected) as [
      keyof typeof expected,
      (typeof expected)["hello"],
    ][]) {
      const wiring = outputs.workloadContainers[workload];
      const net = await network(wiring.network);
      expect(net.Internal).toBe(true);
      expect(net.Options).toEqual({ "com.docker.network.bridge.inhibit_ipv4": "true" });
      expect(net.IPAM.Config.map((c) => c.Subnet)).toEqual([wiring.subnet]);
      expect(wiring.subnet).toMatch(/^10\.\d+\.\d+\.\d+\/28$/);
      const sidecars = want.sidecars.map(containerName);
      expect(wiring.sidecars).toEqual(sidecars);
      expect(
        Object.values(net.Containers)
          .map((c) => c.Name)
          .sort(),
      ).toEqual([wiring.app, ...sidecars].sort());
      expect(await attachments(wiring.app)).toEqual({ [wiring.network]: want.appAliases });
      for (const [index, sidecar] of sidecars.entries()) {
        const seen = await attachments(sidecar);
        expect(Object.keys(seen).sort()).toEqual([outputs.networkName, wiring.network].sort());
        expect(seen[wiring.network]).toEqual(want.sidecarAliases[index]);
        expect(await inspect(sidecar, "{{.HostConfig.NetworkMode}}")).not.toMatch(/^container:/);
        // Where the two networks meet, nothing is routed from one to the other.
        const { stdout } = await execute("docker", [
          "exec",
          sidecar,
          "node",
          "-e",
          'process.stdout.write(require("fs").readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8"))',
        ]);
        expect(stdout.trim()).toBe("0");
      }
    }
    // hello's sidecar carries its alias on the stack's network; the tunnel none.
    expect((await attachments(containerName("hello-sidecar")))[outputs.networkName]).toEqual(["hello"]);
    // The apps' hardening as MtlsWorkload sets it by default.
    for (const app of [hello().app, caller().app]) {
      expect(await inspect(app, "{{.Config.User}}")).toBe("10001:10001");
      expect(await inspect(app, "{{.HostConfig.ReadonlyRootfs}}")).toBe("true");
      expect(await inspect(app, "{{json .HostConfig.CapDrop}}")).toBe('["ALL"]');
      expect(await inspect(app, "{{json .HostConfig.SecurityOpt}}")).toBe('["no-new-privileges:true"]');
    }
  });

  it("gives a stranger on the stack's network nothing: no app by any name, no route to them, the tunnel resets it, mTLS wants a certificate", async () => {
    const tunnel = containerName("caller-to-hello");
    const tunnelStackIp = await inspect(
      tunnel,
      `{{(index .NetworkSettings.Networks "${outputs.networkName}").IPAddress}}`,
    );
    const refusedBefore = await refusedConnections(tunnel);
    // Every name the apps and the tunnel have on their private networks.
    const names = [
      "app",
      `app.${hello().network}`,
      `app.${caller().network}`,
      hello().app,
      caller().app,
      "tunnel-hello",
      `tunnel-hello.${caller().network}`,
    ];
    const script = `
      const dns = require("node:dns/promises"), net = require("node:net"), tls = require("node:tls");
      const resolve = (name) => dns.lookup(name).then((a) => "resolved to " + a.address, (e) => e.code);
      const plain = (host, port) => new Promise((done) => {
        const socket = net.connect({ host, port, timeout: 5000 });
        let data = "";
        socket.on("connect", () => socket.write("GET /hello HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"));
        socket.on("data", (d) => { data += d; });
        socket.on("timeout", () => { socket.destroy(); done("no answer"); });
        socket.on("error", (e) => done(data ? "answered: " + data : e.code));
        socket.on("close", () => done(data ? "answered: " + data : "closed without an answer"));
      });
      const mtls = () => new Promise((done) => {
        const s = tls.connect({ host: "hello", port: 8443, rejectUnauthorized: false }, () => s.write("GET /hello HTTP/1.1\\r\\nHost: hello\\r\\n\\r\\n"));
        let data = "";
        s.on("data", (d) => { data += d; });
        s.on("error", (e) => done("error: " + (e.code ?? e.message)));
        s.on("close", () => done(data === "" ? "closed without an answer" : "answered: " + data));
      });
      (async () => {
        const names = ${JSON.stringify(names)};
        const resolved = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await resolve(n)])));
        const tunnelStack = await plain(${JSON.stringify(tunnelStackIp)}, 15001);
        console.log(JSON.stringify({ resolved, tunnelStack, helloWithoutCertificate: await mtls() }));
      })();`;
    const result = await runOnce([
      "--label",
      `${RUN_LABEL}=${stack.docker.runId}`,
      "--network",
      outputs.networkName,
      baseImage,
      "node",
      "-e",
      script,
    ]);
    expect(result.code).toBe(0);
    const seen = JSON.parse(result.output.trim().split("\n").at(-1)!) as {
      resolved: Record<string, string>;
      tunnelStack: string;
      helloWithoutCertificate: string;
    };
    // No name of a private network means anything on the stack's network.
    for (const name of names) expect(seen.resolved[name], name).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
    // Nor does an address: the host holds none in the private subnets and routes none into them,
    // so a packet from the stack's network (routed by the host) never reaches them. (Read from the
    // host's routing table: sending one would send it off this machine, by the default route.)
    for (const workload of [hello(), caller()]) {
      expect(hostRoutesInto(workload.subnet), workload.subnet).toEqual([]);
    }
    // The tunnel listens on the stack's network too, but resets a connection from there unread.
    expect(seen.tunnelStack).toBe("ECONNRESET");
    expect(await refusedConnections(tunnel)).toBe(refusedBefore + 1);
    const refusal = (await jsonLogs(tunnel)).find((l) => l.event === "tunnel_refused");
    expect(refusal).toMatchObject({ reason: "source_not_allowed", allowFrom: [caller().subnet] });
    expect(seen.helloWithoutCertificate).not.toMatch(/^answered/);
    expect(JSON.stringify(seen)).not.toContain("demo-server");
  });

  it("changes nothing on a second run with the same config", async () => {
    await apply();
    const changed = deployment.run.ops.filter((op) => op.op !== "same");
    expect(changed.map((op) => `${op.op} ${op.name} (${op.changed?.join(", ")})`)).toEqual([]);
  });

  it("heals by itself after a restart of each container of a workload in turn, and after each app's process exits: the caller app's calls succeed again", async () => {
    // Every container of both workloads that runs (the delivery containers are never started), by
    // `docker restart`; then each app's process ending by itself, which its restart policy undoes.
    // (Not `docker kill`: Docker takes that for a stop by hand and leaves the container down.)
    const steps: [string, string, "restart" | "exit"][] = [
      ["caller app", caller().app, "restart"],
      ["caller tunnel", containerName("caller-to-hello"), "restart"],
      ["hello app", hello().app, "restart"],
      ["hello sidecar", containerName("hello-sidecar"), "restart"],
      ["hello app exits", hello().app, "exit"],
      ["caller app exits", caller().app, "exit"],
    ];
    const figures: string[] = [];
    for (const [what, container, how] of steps) {
      const id = await inspect(container, "{{.Id}}");
      const wiring = await attachments(container);
      const startedBefore = await inspect(container, "{{.State.StartedAt}}");
      const since = Date.now();
      await execute(
        "docker",
        how === "restart"
          ? ["restart", container]
          : // The app's own SIGTERM handler ends it (PID 1 ignores signals it does not handle).
            // Detached: when PID 1 ends, the kernel kills every other process of the container,
            // this one too if it has not exited yet, and an attached `docker exec` would then fail
            // with the exit status of a killed process although the signal did its job. Whether
            // the app really ended is what startedAgain below waits for.
            ["exec", "--detach", container, "node", "-e", 'process.kill(1, "SIGTERM")'],
      );
      // Running again: at once after `docker restart`; after a kill once the restart policy acted.
      const startedAgain = async () => {
        const started = await inspect(container, "{{.State.StartedAt}}");
        const running = (await inspect(container, "{{.State.Running}}")) === "true";
        return running && started !== startedBefore ? Date.parse(started) : Number.POSITIVE_INFINITY;
      };
      const recovery = await waitForAppRecovery(caller().app, since, {
        timeoutMs: 60_000,
        notBefore: startedAgain,
      });
      figures.push(
        `${what}: ${recovery.failed}/${recovery.calls} calls failed, back after ${recovery.seconds.toFixed(1)} s${recovery.failures.length ? ` (${recovery.failures.join("; ")})` : ""}`,
      );
      // The same container, running again, on the same networks with the same names.
      expect(await inspect(container, "{{.Id}}")).toBe(id);
      expect(await inspect(container, "{{.State.Running}}")).toBe("true");
      expect(await attachments(container)).toEqual(wiring);
    }
    console.log(`restarting each container in turn: ${figures.join("; ")}`);
    // Nothing for Pulumi to do afterwards.
    await apply();
    expect(deployment.run.ops.filter((op) => op.op !== "same")).toEqual([]);
  }, 300_000);

  it("rotates every leaf replacing only delivery containers, with no failed call of the caller app", async () => {
    const before = deployment.identity("caller").leaf;
    const now = Date.now();
    // The window opens at the first call answered with the current certificate after this step
    // began: a call that failed before it belongs to an earlier step, not to the rotation.
    const { at: startedAt } = await waitUntil("calls with the caller's current certificate", async () =>
      (await appCalls(caller().app)).find((c) => c.at >= now && callerHash(c.body) === sha256Hex(before)),
    );
    const upStartedAt = Date.now();
    await apply({ leafValidityHours: "25" });
    const upEndedAt = Date.now();
    const after = deployment.identity("caller").leaf;
    expect(sha256Hex(after)).not.toBe(sha256Hex(before));
    // The tunnel sidecar reloads the new certificate: hello then sees the new identity.
    const rotated = await waitUntil(
      "the rotated client certificate in use",
      async () =>
        (await appCalls(caller().app)).find(
          (c) => c.at >= startedAt && callerHash(c.body) === sha256Hex(after),
        ),
      60_000,
    );
    // A few more calls after the switch, then count every call of the window.
    await waitUntil("calls after the rotation", async () =>
      (await appCalls(caller().app)).filter((c) => c.at > rotated.at).length >= 5 ? true : undefined,
    );
    const window = (await appCalls(caller().app)).filter((c) => c.at >= startedAt);
    console.log(
      `leaf rotation of the sidecar stack: ${window.filter((c) => !c.ok).length}/${window.length} calls of the caller app failed`,
    );
    expect(window.filter((c) => !c.ok)).toEqual([]);
    // The app kept calling while the up replaced the delivery containers.
    expect(window.filter((c) => c.at >= upStartedAt && c.at <= upEndedAt).length).toBeGreaterThanOrEqual(3);
    const containers = deployment.run.registrations.filter((r) => r.type === CONTAINER);
    const replaced = containers.filter((r) => r.op === "replace").map((r) => r.name);
    expect(replaced.sort()).toEqual(
      [
        "caller-to-hello-delivery",
        "client-a-delivery",
        "hello-sidecar-delivery",
        "mtls-server-delivery",
      ].sort(),
    );
    expect(containers.filter((r) => r.op !== "replace").every((r) => r.op === "same")).toBe(true);
    await apply({ leafValidityHours: "25" });
    expect(deployment.run.ops.filter((op) => op.op !== "same")).toEqual([]);
  }, 180_000);
});

/**
 * The host's routes (other than the default route) that cover any address of `subnet`, from
 * /proc/net/route (little-endian hex destination and mask, as the kernel writes them).
 */
function hostRoutesInto(subnet: string): string[] {
  const [base, prefix] = subnet.split("/");
  const toNumber = (ip: string) => ip.split(".").reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const start = toNumber(base!);
  const end = start + 2 ** (32 - Number(prefix)) - 1;
  const fromHex = (hex: string) =>
    toNumber(
      hex
        .match(/../g)!
        .reverse()
        .map((b) => String(Number.parseInt(b, 16)))
        .join("."),
    );
  return readFileSync("/proc/net/route", "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([, destination, , , , , , mask]) => {
      const dest = fromHex(destination!);
      const bits = fromHex(mask!);
      if (bits === 0) return false;
      const size = 2 ** 32 - bits;
      return dest <= end && start <= dest + size - 1;
    })
    .map(([iface, destination]) => `${iface} ${destination}`);
}

/** The tunnel's count of connections it reset (its status listener, from inside its container). */
async function refusedConnections(tunnel: string): Promise<number> {
  const metrics = await statusEndpoint(tunnel, "/metrics", 9091);
  const line = metrics.split("\n").find((l) => l.startsWith("mtls_tunnel_refused_connections_total "));
  return Number(line?.split(" ")[1] ?? Number.NaN);
}
