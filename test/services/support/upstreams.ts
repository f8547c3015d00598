/**
 * Upstreams for the sidecar tests, in the test process on loopback: an HTTP application that
 * records what reached it (and answers with it), a TCP application with a chosen behaviour, and a
 * count of the connections each one accepted (a stranger must never make one).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
}

export interface HttpUpstream {
  port: number;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Answers every request with 200 and JSON of what it saw, unless `handler` takes over. */
export async function startHttpUpstream(
  handler?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HttpUpstream> {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server: Server = createHttpServer((req, res) => {
    requests.push({
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      rawHeaders: req.rawHeaders,
    });
    if (handler) {
      handler(req, res);
      return;
    }
    req.resume();
    req.on("end", () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
      res.writeHead(200, {
        "content-type": "application/json",
        "x-upstream": "yes",
        // Hop-by-hop: the caller must not get these from the upstream.
        connection: "keep-alive, x-upstream-hop",
        "x-upstream-hop": "internal",
      });
      res.end(body);
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface TcpUpstream {
  port: number;
  connections(): number;
  sockets: Socket[];
  close(): Promise<void>;
}

export async function startTcpUpstream(onConnection: (socket: Socket) => void): Promise<TcpUpstream> {
  let connections = 0;
  const sockets: Socket[] = [];
  const server: TcpServer = createTcpServer({ allowHalfOpen: true }, (socket) => {
    connections++;
    sockets.push(socket);
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Echoes bytes back; answers its peer's half-close with the byte count, then ends. */
export function echoThenCount(socket: Socket): void {
  let count = 0;
  socket.on("data", (chunk: Buffer) => {
    count += chunk.length;
    socket.write(chunk);
  });
  socket.on("end", () => socket.end(`\ncount=${count}\n`));
}
