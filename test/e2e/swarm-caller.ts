/**
 * A continuous caller for services on a swarm: a plain container on the stack's attachable overlay
 * network (ingress publishing needs IPVS, so the host cannot reach the tasks), calling
 * `GET /v1/whoami` over mTLS with a new connection and a fresh DNS lookup per call, and logging one
 * JSON line per call: the server certificate's serial and the replica that answered, or the error.
 * Labelled with the run's label so that the run's cleanup removes it whatever happens.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { RUN_LABEL } from "../../emulation/index.ts";

const run = promisify(execFile);

/** The caller, run by the base image's Node: plain CommonJS, Node built-ins only. */
const CALLER = `
const fs = require("fs"), https = require("https");
const tls = { cert: fs.readFileSync("/creds/tls.crt"), key: fs.readFileSync("/creds/tls.key"), ca: fs.readFileSync("/creds/ca.crt") };
let stopped = false;
process.on("SIGTERM", () => { stopped = true; });
const once = () => new Promise((resolve) => {
  const req = https.get(process.env.URL + "/v1/whoami", { ...tls, agent: false, timeout: 5000 }, (res) => {
    const serial = res.socket.getPeerCertificate().serialNumber;
    let body = "";
    res.on("data", (c) => (body += c));
    res.on("end", () => {
      if (res.statusCode !== 200) console.log(JSON.stringify({ ok: false, error: "HTTP " + res.statusCode }));
      else console.log(JSON.stringify({ ok: true, serial: serial.toUpperCase(), servedBy: JSON.parse(body).servedBy }));
      resolve();
    });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => { console.log(JSON.stringify({ ok: false, error: e.message })); resolve(); });
});
(async () => { while (!stopped) { await once(); await new Promise((r) => setTimeout(r, 50)); } process.exit(0); })();
`;

export interface CallRecord {
  ok: boolean;
  serial?: string;
  servedBy?: string;
  error?: string;
}

export interface SwarmCaller {
  /** Every call so far, oldest first. */
  calls(): Promise<CallRecord[]>;
  /** Stops the loop (after the call in flight) and removes the container and the credentials. */
  stop(): Promise<CallRecord[]>;
}

export async function startSwarmCaller(options: {
  image: string;
  network: string;
  url: string;
  runId: string;
  credentials: { certPem: string; keyPem: string; caPem: string };
}): Promise<SwarmCaller> {
  const dir = mkdtempSync(join(tmpdir(), "mtls-swarm-caller-"));
  // Readable by the container's user; a test-only key, removed with the caller.
  writeFileSync(join(dir, "tls.crt"), options.credentials.certPem, { mode: 0o644 });
  writeFileSync(join(dir, "tls.key"), options.credentials.keyPem, { mode: 0o644 });
  writeFileSync(join(dir, "ca.crt"), options.credentials.caPem, { mode: 0o644 });
  chmodSync(dir, 0o755);
  const { stdout } = await run("docker", [
    "run",
    "--detach",
    "--label",
    `${RUN_LABEL}=${options.runId}`,
    "--network",
    options.network,
    "--volume",
    `${dir}:/creds:ro`,
    "--env",
    `URL=${options.url}`,
    options.image,
    "node",
    "-e",
    CALLER,
  ]);
  const id = stdout.trim();
  const calls = async () => {
    const { stdout: out } = await run("docker", ["logs", id], { maxBuffer: 64 * 1024 * 1024 });
    return out
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as CallRecord);
  };
  return {
    calls,
    stop: async () => {
      try {
        await run("docker", ["stop", "--time", "10", id]);
        return await calls();
      } finally {
        await run("docker", ["rm", "--force", id]).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
