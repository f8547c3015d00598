/**
 * Kept-alive mTLS connections a test holds on purpose: each has its own agent (one socket), has
 * made one call, and reports when the server closes it. A stalled request can be started on one
 * (headers sent, body not all), to hold it mid-request.
 */
import { Agent, request } from "node:https";
import type { Socket } from "node:net";
import { connect, type TLSSocket } from "node:tls";
import { type Caller, type CallResult, callServer } from "./tls-client.ts";

export interface HeldConnection {
  agent: Agent;
  socket: Socket;
  /** Resolves when the connection closes (by the server, unless the test destroyed it). */
  closed: Promise<void>;
  isClosed(): boolean;
  call(path?: string): Promise<CallResult>;
}

export async function holdConnection(port: number, caller: Caller): Promise<HeldConnection> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let socket: Socket | undefined;
  const first = await new Promise<CallResult>((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port,
      path: "/v1/whoami",
      servername: "localhost",
      agent,
      ...caller,
    });
    req.on("socket", (value: Socket) => (socket = value));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString(),
          headers: res.headers,
          protocol: null,
          cipher: null,
          serverSerial: "",
          reusedSocket: false,
        }),
      );
    });
    req.end();
  });
  if (first.status !== 200) throw new Error(`holding a connection: HTTP ${first.status} ${first.body}`);
  const held = socket!;
  let isClosed = held.destroyed;
  const closed = new Promise<void>((resolve) => {
    if (isClosed) resolve();
    held.once("close", () => {
      isClosed = true;
      resolve();
    });
  });
  return {
    agent,
    socket: held,
    closed,
    isClosed: () => isClosed,
    call: (path = "/v1/whoami") => callServer({ port, caller, agent, path }),
  };
}

export interface StalledRequest {
  socket: TLSSocket;
  /** Sends the rest of the body; resolves with everything the server answered, once it closes or answers. */
  finish(): Promise<string>;
  closed: Promise<void>;
  isClosed(): boolean;
}

/**
 * A new connection whose POST /v1/echo (100 bytes of "a") has sent its headers and 10 bytes of its
 * body, and waits. `chunked`: sent chunked, which the echo answers only once the body is complete
 * (with a length, it streams the answer from the start).
 */
export function stalledEcho(
  port: number,
  caller: Caller,
  options: { chunked?: boolean } = {},
): Promise<StalledRequest> {
  const bodyBytes = 100;
  const [head, rest] = options.chunked
    ? [
        `POST /v1/echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\na\r\n${"a".repeat(10)}\r\n`,
        `5a\r\n${"a".repeat(90)}\r\n0\r\n\r\n`,
      ]
    : [
        `POST /v1/echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${bodyBytes}\r\n\r\n${"a".repeat(10)}`,
        "a".repeat(90),
      ];
  return new Promise((resolve, reject) => {
    let data = "";
    let isClosed = false;
    const socket = connect({ port, host: "127.0.0.1", servername: "localhost", ...caller }, () => {
      socket.write(head);
      resolve({
        socket,
        closed,
        isClosed: () => isClosed,
        finish: () =>
          new Promise<string>((done) => {
            const complete = () => {
              if (data.endsWith("a".repeat(bodyBytes)) || isClosed) done(data);
            };
            socket.on("data", complete);
            void closed.then(complete);
            socket.write(rest);
          }),
      });
    });
    const closed = new Promise<void>((done) =>
      socket.once("close", () => {
        isClosed = true;
        done();
      }),
    );
    socket.setEncoding("utf8").on("data", (chunk: string) => (data += chunk));
    socket.on("error", () => {});
    socket.once("error", reject);
  });
}
