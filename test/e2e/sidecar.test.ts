/**
 * End to end on a real Docker engine: the sidecar stack (Pulumi.sidecar.yaml) deployed through the
 * program and the provider emulation. Two demo apps that speak no TLS: `hello` listens on
 * 127.0.0.1:8080 of a namespace it shares with the mTLS server sidecar; `caller` calls
 * 127.0.0.1:15001 of a namespace it shares with a tunnel sidecar. The steps share one deployment
 * and run in order: the caller reaches hello only through the two sidecars, and hello sees the
 * caller's verified identity; the namespaces are joined by the owner's id; a stranger on the
 * network gets no answer from the app; an unchanged re-apply changes nothing; a leaf rotation
 * replaces only delivery containers with zero failed requests through the tunnel.
 */
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_LABEL } from "../../emulation/index.ts";
import { type Deployment, deploy, newStack, type Stack } from "../program/deploy.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { stackConfig } from "../support/stack-files.ts";
import { jsonLogs, type LogLine, runOnce, waitUntil } from "./containers.ts";

const execute = promisify(execFile);
const CONTAINER = "docker:index/container:Container";

interface Outputs {
  networkName: string;
  workloadContainers: Record<"hello" | "caller", { owner: string; app: string }>;
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

async function inspect(container: string, format: string): Promise<string> {
  const { stdout } = await execute("docker", ["inspect", "-f", format, container]);
  return stdout.trim();
}

// Runs inside the caller's namespace: a new connection per request to the tunnel, until SIGTERM;
// one line per XFCC hash first seen (so the test can wait for the rotated certificate), one summary.
const LOADER = `
const http = require("node:http");
const state = { calls: 0, failures: [], hashes: new Set() };
let stopping = false;
const once = () => new Promise((resolve) => {
  const req = http.get({ host: "127.0.0.1", port: 15001, path: "/load", agent: false, timeout: 5000 }, (res) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (c) => { body += c; });
    res.on("end", () => {
      state.calls++;
      if (res.statusCode !== 200) state.failures.push("HTTP " + res.statusCode);
      else {
        const hash = /Hash=([0-9a-f]{64})/.exec(JSON.parse(body).xfcc ?? "")?.[1];
        if (hash && !state.hashes.has(hash)) { state.hashes.add(hash); console.log(JSON.stringify({ event: "hash", hash })); }
      }
      resolve();
    });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => { state.calls++; state.failures.push(e.message); resolve(); });
});
process.on("SIGTERM", () => { stopping = true; });
(async () => {
  while (!stopping) await once();
  console.log(JSON.stringify({ event: "summary", calls: state.calls, failures: state.failures }));
  process.exit(0);
})();
`;

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

  beforeAll(async () => {
    baseImage = await ensureBaseImage();
    config = { ...stackConfig("sidecar"), baseImage };
    await apply();
  });
  afterAll(async () => {
    await deployment?.destroy();
  });

  it("carries the caller app's plain HTTP through both sidecars to hello, which sees the caller's identity", async () => {
    const call = await waitUntil("a call of the caller app answered by hello", async () => {
      const lines = await jsonLogs(outputs.workloadContainers.caller.app);
      return lines.find((l) => l.event === "call" && l.status === 200);
    });
    const answer = JSON.parse(String(call.body)) as { app: string; path: string; xfcc: string };
    expect(answer).toMatchObject({ app: "demo-server", path: "/hello" });
    const caller = deployment.identity("caller");
    const xfcc = xfccFields(answer.xfcc);
    expect(xfcc.Hash).toBe(sha256Hex(caller.leaf));
    expect(xfcc.URI).toBe("spiffe://sidecar.mtls.internal/caller");
    expect(xfcc.By).toBe("spiffe://sidecar.mtls.internal/hello");
    // And on hello's side: the request it logged carries the same identity.
    const requests = (await jsonLogs(outputs.workloadContainers.hello.app)).filter(
      (l: LogLine) => l.event === "request" && typeof l.xfcc === "string",
    );
    expect(requests.length).toBeGreaterThan(0);
    expect(xfccFields(String(requests[0]!.xfcc)).Hash).toBe(sha256Hex(caller.leaf));
  });

  it("joins each sidecar and app to its pause container's namespace by id, and only the pause container to the network", async () => {
    for (const [workload, sidecars] of [
      ["hello", ["hello-sidecar"]],
      ["caller", ["caller-to-hello"]],
    ] as const) {
      const owner = outputs.workloadContainers[workload].owner;
      const ownerId = await inspect(owner, "{{.Id}}");
      expect(await inspect(owner, "{{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}")).toBe(
        outputs.networkName,
      );
      for (const joiner of [outputs.workloadContainers[workload].app, ...sidecars.map(containerName)]) {
        expect(await inspect(joiner, "{{.HostConfig.NetworkMode}}")).toBe(`container:${ownerId}`);
        expect(await inspect(joiner, "{{.State.Running}}")).toBe("true");
      }
    }
    // The app's hardening as MtlsWorkload sets it by default.
    const app = outputs.workloadContainers.hello.app;
    expect(await inspect(app, "{{json .HostConfig.CapDrop}}")).toBe('["ALL"]');
    expect(await inspect(app, "{{json .HostConfig.SecurityOpt}}")).toBe('["no-new-privileges:true"]');
  });

  it("gives a stranger on the network no answer from the app: its port is closed there, and mTLS wants a certificate", async () => {
    // Plain HTTP to hello's app port, and HTTPS without a client certificate to its sidecar.
    const script = `
      const net = require("node:net"), tls = require("node:tls");
      const plain = new Promise((r) => net.connect(8080, "hello").on("connect", function () { this.destroy(); r("connected"); }).on("error", (e) => r(e.code)));
      const mtls = new Promise((r) => {
        const s = tls.connect({ host: "hello", port: 8443, rejectUnauthorized: false }, () => s.write("GET /hello HTTP/1.1\\r\\nHost: hello\\r\\n\\r\\n"));
        let data = "";
        s.on("data", (d) => { data += d; });
        s.on("error", (e) => r("error: " + (e.code ?? e.message)));
        s.on("close", () => r(data === "" ? "closed without an answer" : "answered: " + data));
      });
      Promise.all([plain, mtls]).then(([p, m]) => console.log(JSON.stringify({ plain: p, mtls: m })));`;
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
    const seen = JSON.parse(result.output.trim().split("\n").at(-1)!) as { plain: string; mtls: string };
    expect(seen.plain).toBe("ECONNREFUSED");
    expect(seen.mtls).not.toMatch(/^answered/);
    expect(seen.mtls).not.toContain("demo-server");
  });

  it("changes nothing on a second run with the same config (the namespaces are joined by id)", async () => {
    await apply();
    const changed = deployment.run.ops.filter((op) => op.op !== "same");
    expect(changed.map((op) => `${op.op} ${op.name} (${op.changed?.join(", ")})`)).toEqual([]);
  });

  it("rotates every leaf replacing only delivery containers, with no failed request through the tunnel", async () => {
    const before = deployment.identity("caller").leaf;
    const loader = `sidecar-loader-${stack.docker.runId.slice(0, 8)}`;
    const callerOwner = await inspect(outputs.workloadContainers.caller.owner, "{{.Id}}");
    await execute("docker", [
      "run",
      "-d",
      "--name",
      loader,
      "--label",
      `${RUN_LABEL}=${stack.docker.runId}`,
      "--network",
      `container:${callerOwner}`,
      baseImage,
      "node",
      "-e",
      LOADER,
    ]);
    const hashes = async () => (await jsonLogs(loader)).filter((l) => l.event === "hash").map((l) => l.hash);
    try {
      await waitUntil("calls through the tunnel before the rotation", async () =>
        (await hashes()).includes(sha256Hex(before)) ? true : undefined,
      );
      await apply({ leafValidityHours: "25" });
      const after = deployment.identity("caller").leaf;
      expect(sha256Hex(after)).not.toBe(sha256Hex(before));
      // The tunnel sidecar reloads the new certificate: hello then sees the new identity.
      await waitUntil(
        "the rotated client certificate in use",
        async () => ((await hashes()).includes(sha256Hex(after)) ? true : undefined),
        60_000,
      );
    } finally {
      await execute("docker", ["stop", loader]);
    }
    const summary = await waitUntil("the loader's summary", async () =>
      (await jsonLogs(loader)).find((l) => l.event === "summary"),
    );
    expect(summary.failures).toEqual([]);
    expect(Number(summary.calls)).toBeGreaterThan(10);
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
  });
});
