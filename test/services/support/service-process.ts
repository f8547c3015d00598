/**
 * Runs the real services as child processes (`node services/src/server.ts` / `client.ts`) with a
 * given environment, on ephemeral loopback ports, and gives tests their log lines, their status
 * endpoints and a way to stop them. Every process started here is killed by pid when the test
 * file ends (see stopAllServices), also when a test failed half-way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { IdentityFiles } from "../../support/pki-fixtures/files.ts";

const SERVICES_DIR = fileURLToPath(new URL("../../../services/src/", import.meta.url));
export const SERVER_ENTRY = `${SERVICES_DIR}server.ts`;
export const CLIENT_ENTRY = `${SERVICES_DIR}client.ts`;
export const MAIN_ENTRY = `${SERVICES_DIR}main.ts`;

export type LogLine = Record<string, unknown> & { event: string; level: string };

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** Parsed JSON lines of stdout and stderr, in arrival order. */
  lines: LogLine[];
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForLine(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface RunningServer extends ServiceProcess {
  /** `127.0.0.1:port` of the mTLS listener. */
  address: string;
  port: number;
  statusUrl: string;
}

/**
 * The Node that runs the services: the test runner's own, or SERVICES_NODE (CI sets it to the
 * lowest Node that package.json `engines` allows, to prove the services still start there).
 */
export const SERVICES_NODE = process.env.SERVICES_NODE ?? process.execPath;

const running = new Set<ChildProcess>();

/** The environment a service gets: nothing of the test runner's MTLS_* settings leaks in. */
function serviceEnv(identity: IdentityFiles | undefined, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("MTLS_")) env[name] = value;
  }
  if (identity) {
    env.MTLS_CERT_FILE = identity.cert;
    env.MTLS_KEY_FILE = identity.key;
    env.MTLS_CA_FILE = identity.ca;
  }
  return { ...env, ...extra };
}

export function spawnService(
  entry: string,
  args: string[],
  identity: IdentityFiles | undefined,
  env: Record<string, string>,
): ServiceProcess {
  const child = spawn(SERVICES_NODE, [entry, ...args], {
    env: serviceEnv(identity, env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stdout = "";
  let stderr = "";
  const collect = (stream: NodeJS.ReadableStream, append: (text: string) => void) => {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      append(chunk);
      partial += chunk;
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const part of parts) {
        if (part.trim() === "") continue;
        try {
          lines.push(JSON.parse(part) as LogLine);
        } catch {
          lines.push({ event: "unparsed", level: "info", text: part });
        }
      }
      for (const wake of waiters) wake();
    });
  };
  collect(child.stdout!, (text) => (stdout += text));
  collect(child.stderr!, (text) => (stderr += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(child);
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const waitForLine = (predicate: (line: LogLine) => boolean, timeoutMs = 10_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        } else if (hasExited) {
          cleanup();
          reject(
            new Error(`process exited before the expected log line; stdout:\n${stdout}\nstderr:\n${stderr}`),
          );
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`no expected log line within ${timeoutMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    pid: child.pid!,
    lines,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForLine,
    stop: async (signal = "SIGTERM") => {
      if (!hasExited) child.kill(signal);
      return exited;
    },
  };
}

export interface ServerOptions {
  identity: IdentityFiles;
  env?: Record<string, string>;
  /** Wait for the `ready` line (default true). */
  waitReady?: boolean;
}

/** Starts `node services/src/server.ts` on ephemeral loopback ports. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const service = spawnService(SERVER_ENTRY, [], options.identity, {
    MTLS_LISTEN: "127.0.0.1:0",
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
    MTLS_RELOAD_DEBOUNCE_MS: "100",
    ...options.env,
  });
  const status = await service.waitForLine((line) => line.event === "status_listening");
  const statusUrl = `http://${String(status.address)}`;
  if (options.waitReady === false) return { ...service, address: "", port: 0, statusUrl };
  const listening = await service.waitForLine((line) => line.event === "listening");
  await service.waitForLine((line) => line.event === "ready");
  const address = String(listening.address);
  return { ...service, address, port: Number(address.split(":").at(-1)), statusUrl };
}

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last JSON line the client printed (its result). */
  result: LogLine | undefined;
}

/** Runs `node services/src/client.ts --once` to completion. */
export async function runClientOnce(
  identity: IdentityFiles,
  env: Record<string, string>,
  entry = CLIENT_ENTRY,
  args = ["--once"],
): Promise<ClientRun> {
  const service = spawnService(entry, args, identity, env);
  const { code } = await service.exited;
  return { code, stdout: service.stdout(), stderr: service.stderr(), result: service.lines.at(-1) };
}

/** Kills (by pid) every service process still running; call it in afterAll/afterEach. */
export async function stopAllServices(): Promise<void> {
  const waits = [...running].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  );
  await Promise.all(waits);
}

process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

export interface RunningTunnel extends ServiceProcess {
  /** `127.0.0.1:port` of the plain local listener. */
  localAddress: string;
  localPort: number;
  statusUrl: string;
}

/** Starts `node services/src/client.ts` as a local tunnel (MTLS_LOCAL_LISTEN) on ephemeral ports. */
export async function startTunnel(
  identity: IdentityFiles,
  env: Record<string, string>,
): Promise<RunningTunnel> {
  const service = spawnService(CLIENT_ENTRY, [], identity, {
    MTLS_LOCAL_LISTEN: "127.0.0.1:0",
    MTLS_STATUS_LISTEN: "127.0.0.1:0",
    MTLS_RELOAD_DEBOUNCE_MS: "100",
    ...env,
  });
  const status = await service.waitForLine((line) => line.event === "status_listening");
  const listening = await service.waitForLine((line) => line.event === "tunnel_listening");
  await service.waitForLine((line) => line.event === "ready");
  const localAddress = String(listening.address);
  return {
    ...service,
    localAddress,
    localPort: Number(localAddress.split(":").at(-1)),
    statusUrl: `http://${String(status.address)}`,
  };
}
