/**
 * `npm run server` stopped through npm's pid stops the server: npm forwards SIGTERM/SIGINT to its
 * child, and the npm script execs (through scripts/with-node.sh) into node, so that child is the
 * server itself, not a `sh -c` that would die alone and leave node listening. Real npm, real server
 * on a loopback port, real identity.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { connect } from "node:net";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki } from "../support/pki-fixtures/pki.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let identity: IdentityFiles;
let npm: ChildProcess | undefined;

beforeAll(async () => {
  const pki = await createTestPki({ keyType: "ecdsa-p256" });
  identity = await writeIdentity({ cert: pki.server.chainPem, key: pki.server.keyPem, ca: pki.caPem });
});

afterAll(async () => {
  // npm runs in its own process group: whatever of it is left (a server orphaned by a broken
  // script) is killed through that group's id, which is npm's pid.
  if (npm?.pid) {
    try {
      process.kill(-npm.pid, "SIGKILL");
    } catch {
      // the group is gone already
    }
  }
  await removeDir(identity.dir);
});

/** Resolves with the connection's outcome: "connected" or the error code (ECONNREFUSED). */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

it("stops the server when npm's own pid gets SIGTERM (the listener closes)", async () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("npm_") && !name.startsWith("MTLS_")) env[name] = value;
  }
  Object.assign(env, {
    PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
    MTLS_CERT_FILE: identity.cert,
    MTLS_KEY_FILE: identity.key,
    MTLS_CA_FILE: identity.ca,
    MTLS_LISTEN: "127.0.0.1:0",
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
  });
  const child = spawn("npm", ["run", "server"], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  npm = child;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let output = "";
  const ready = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      for (const line of output.split("\n")) {
        if (!line.startsWith("{")) continue;
        const event = JSON.parse(line) as { event: string; address?: string };
        if (event.event === "listening") resolve(Number(String(event.address).split(":").at(-1)));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(() => reject(new Error(`npm run server exited before listening:\n${output}`)));
  });
  const port = await ready;
  expect(await tryConnect(port)).toBe("connected");

  process.kill(child.pid!, "SIGTERM");
  await exited;

  // npm waits for its child before exiting; with the exec chain that child was the server.
  expect(await tryConnect(port)).toBe("ECONNREFUSED");
  expect(output).toContain('"event":"listening"');
});
