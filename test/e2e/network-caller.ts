/**
 * A continuous caller inside a stack's network: a plain container on the given network (a swarm's
 * attachable overlay, whose ingress publishing needs IPVS so the host cannot reach the tasks, or a
 * docker stack's bridge network, for servers published nowhere), calling
 * `GET /v1/whoami` over mTLS with a new connection and a fresh DNS lookup per call, and logging one
 * JSON line per call: the server certificate's serial, fingerprint and issuer, the replica that
 * answered and which credentials the call used, or the error. It re-reads its credentials (one
 * file, replaced atomically) before every call, so a test can hand it the stack's new outputs after
 * an `up`, as a caller re-reading them would. Labelled with the run's label so that the run's
 * cleanup removes it whatever happens.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { RUN_LABEL } from "../../emulation/index.ts";

const run = promisify(execFile);

/** The caller, run by the base image's Node: plain CommonJS, Node built-ins only. */
const CALLER = `
const fs = require("fs"), https = require("https");
let stopped = false;
process.on("SIGTERM", () => { stopped = true; });
const once = () => new Promise((resolve) => {
  const { version, certPem: cert, keyPem: key, caPem: ca } = JSON.parse(fs.readFileSync("/creds/credentials.json", "utf8"));
  const log = (record) => console.log(JSON.stringify({ ...record, credentials: version }));
  const req = https.get(process.env.URL + "/v1/whoami", { cert, key, ca, agent: false, timeout: 5000 }, (res) => {
    const peer = res.socket.getPeerCertificate();
    let body = "";
    res.on("data", (c) => (body += c));
    res.on("end", () => {
      if (res.statusCode !== 200) log({ ok: false, error: "HTTP " + res.statusCode });
      else log({
        ok: true,
        serial: peer.serialNumber.toUpperCase(),
        fingerprint256: peer.fingerprint256,
        issuer: peer.issuer.CN,
        servedBy: JSON.parse(body).servedBy,
      });
      resolve();
    });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => { log({ ok: false, error: e.message }); resolve(); });
});
(async () => { while (!stopped) { await once(); await new Promise((r) => setTimeout(r, 50)); } process.exit(0); })();
`;

export interface CallRecord {
  ok: boolean;
  /** The server certificate's serial (upper-case hex), SHA-256 fingerprint and issuer's CN. */
  serial?: string;
  fingerprint256?: string;
  issuer?: string;
  servedBy?: string;
  error?: string;
  /** Which credentials the call used: 1 for those it started with, then one more per `useCredentials`. */
  credentials: number;
}

export interface CallerCredentials {
  certPem: string;
  keyPem: string;
  caPem: string;
}

export interface NetworkCaller {
  /** Every call so far, oldest first. */
  calls(): Promise<CallRecord[]>;
  /** Hands the caller new credentials, used from its next call on; returns their version. */
  useCredentials(credentials: CallerCredentials): number;
  /** Stops the loop (after the call in flight) and removes the container and the credentials. */
  stop(): Promise<CallRecord[]>;
}

export async function startNetworkCaller(options: {
  image: string;
  network: string;
  url: string;
  runId: string;
  credentials: CallerCredentials;
}): Promise<NetworkCaller> {
  const dir = mkdtempSync(join(tmpdir(), "mtls-network-caller-"));
  let version = 0;
  // One file for certificate, key and bundle, written aside and renamed into place: a call reads
  // either the old set or the new one, never a key that does not match its certificate.
  // Readable by the container's user; a test-only key, removed with the caller.
  const useCredentials = ({ certPem, keyPem, caPem }: CallerCredentials) => {
    version++;
    const next = join(dir, `credentials.json.${version}`);
    writeFileSync(next, JSON.stringify({ version, certPem, keyPem, caPem }), { mode: 0o644 });
    renameSync(next, join(dir, "credentials.json"));
    return version;
  };
  useCredentials(options.credentials);
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
    useCredentials,
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
