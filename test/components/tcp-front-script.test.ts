/**
 * The front's program (components/tcp-front.ts) on real sockets, run exactly as its container runs it
 * (`node -e FRONT_SCRIPT` with its two variables): bytes both ways with half-close, a replay to a new
 * upstream connection when one closes before answering, a refused
 * upstream closing the caller's connection and logged, and a drain on SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FRONT_ENV, FRONT_SCRIPT } from "../../components/tcp-front.ts";
import { freePort } from "../support/free-port.ts";

interface Front {
  process: ChildProcess;
  port: number;
  logs: Record<string, unknown>[];
}

const started: ChildProcess[] = [];

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** Starts the front on a free port of 127.0.0.1, forwarding to `target`; resolves once it listens. */
async function startFront(target: string): Promise<Front> {
  const child = spawn(process.execPath, ["-e", FRONT_SCRIPT], {
    env: { ...process.env, [FRONT_ENV.listen]: "127.0.0.1:0", [FRONT_ENV.target]: target },
    stdio: ["ignore", "pipe", "inherit"],
  });
  started.push(child);
  const logs: Record<string, unknown>[] = [];
  const listening = new Promise<number>((resolve) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        if (line.event === "listening") resolve(line.port as number);
      }
    });
  });
  return { process: child, port: await listening, logs };
}

/** An upstream that answers everything it received, after the caller half-closed, then ends. */
async function echoAfterEnd(): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => socket.end(Buffer.concat(chunks)));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

function exchange(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on("connect", () => socket.end(payload));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
  });
}

describe("the front of a published server", () => {
  it("carries bytes both ways as they are, the caller's half-close included", async () => {
    const upstream = await echoAfterEnd();
    const { port: upstreamPort } = upstream.address() as net.AddressInfo;
    const front = await startFront(`127.0.0.1:${upstreamPort}`);
    const payload = Buffer.alloc(3 * 1024 * 1024, 7);
    payload.write("first bytes");
    const answer = await exchange(front.port, payload);
    expect(answer.equals(payload)).toBe(true);
    upstream.close();
  });

  it("replays what the caller sent to a new upstream connection when the first ones close before answering a byte", async () => {
    let accepted = 0;
    // The first two connections are dropped unanswered, as by a server container stopped just then.
    const upstream = net.createServer({ allowHalfOpen: true }, (socket) => {
      accepted++;
      if (accepted <= 2) return void socket.destroy();
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("end", () => socket.end(Buffer.concat(chunks)));
    });
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    const front = await startFront(`127.0.0.1:${(upstream.address() as net.AddressInfo).port}`);
    const answer = await exchange(front.port, Buffer.from("client hello"));
    expect(answer.toString()).toBe("client hello");
    expect(accepted).toBe(3);
    upstream.close();
  });

  it("closes the caller's connection when the upstream refuses, and logs the failure", async () => {
    const front = await startFront(`127.0.0.1:${await freePort()}`);
    const socket = net.connect({ host: "127.0.0.1", port: front.port });
    const [hadError] = await once(socket, "close");
    expect(typeof hadError).toBe("boolean");
    expect(front.logs.some((l) => l.event === "upstream_failed" && l.code === "ECONNREFUSED")).toBe(true);
  });

  it("on SIGTERM stops accepting, lets an open connection finish, then exits 0", async () => {
    const upstream = await echoAfterEnd();
    const { port: upstreamPort } = upstream.address() as net.AddressInfo;
    const front = await startFront(`127.0.0.1:${upstreamPort}`);
    const open = net.connect({ host: "127.0.0.1", port: front.port, allowHalfOpen: true });
    await once(open, "connect");
    open.write("before the signal ");
    front.process.kill("SIGTERM");
    await new Promise<void>((resolve) => {
      const check = () =>
        front.logs.some((l) => l.event === "draining") ? resolve() : setTimeout(check, 20);
      check();
    });
    // New connections are refused now; the open one still gets its answer.
    const refused = net.connect({ host: "127.0.0.1", port: front.port });
    const [error] = (await once(refused, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
    const chunks: Buffer[] = [];
    open.on("data", (chunk: Buffer) => chunks.push(chunk));
    open.end("and after it");
    await once(open, "end");
    expect(Buffer.concat(chunks).toString()).toBe("before the signal and after it");
    const [code] = await once(front.process, "exit");
    expect(code).toBe(0);
    upstream.close();
  });
});
