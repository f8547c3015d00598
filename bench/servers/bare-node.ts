/**
 * Bare Node, what Node itself costs: the same certificate, CA, policy and client-certificate
 * requirement as our server and nothing else, so the gap to nginx is Node's and the gap to ours is
 * our code's. `server`: https.createServer echoing POST bodies and answering the fixed whoami body
 * otherwise (with our server's paused-parser work-around, services/src/server/pausable-reads.ts);
 * `http-proxy`: the same forwarding over a keep-alive http.Agent, dropping only Connection and
 * Keep-Alive (what a user writes by hand); `tcp-proxy`: tls.createServer piped to the upstream;
 * `tcp-echo`: the tunnels' plain-TCP upstream.   node bench/servers/bare-node.ts '<json options>'
 */
import { readFileSync } from "node:fs";
import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, createServer as createTcpServer } from "node:net";
import { pipeline } from "node:stream";
import { createServer as createTlsServer } from "node:tls";
import type { TlsPolicy } from "../../services/src/contract.ts";
import { keepReadsPausable } from "../../services/src/server/pausable-reads.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";
import { freePort } from "../../test/support/free-port.ts";
import type { PkiFiles } from "../pki/issue-pki.ts";
import { startPinnedServer } from "./server-under-test.ts";

interface Options {
  mode: "server" | "http-proxy" | "tcp-proxy" | "tcp-echo";
  port: number;
  tls: { cert: string; key: string; ca: string };
  policy: TlsPolicy;
  /** `server`: what it answers; the proxies: their upstream's port. */
  body?: string;
  upstreamPort?: number;
}

export async function startBareNode(
  mode: Options["mode"],
  pki: PkiFiles,
  core: number,
  more: { policy?: TlsPolicy; body?: string; upstreamPort?: number } = {},
) {
  const port = await freePort();
  const policy = more.policy ?? "modern";
  const tls = { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca };
  const options: Options = { mode, port, tls, policy, ...more };
  return startPinnedServer({
    ...{ kind: "node-bare", what: `bare Node (${mode})`, port, keyAlgorithm: pki.keyAlgorithm, policy, core },
    command: process.execPath,
    args: [new URL(import.meta.url).pathname, JSON.stringify(options)],
  });
}

const withoutHopByHop = ({ connection: _c, "keep-alive": _k, ...rest }: IncomingHttpHeaders) => rest;

function serve(options: Options): void {
  const { cert, key, ca } = options.tls;
  const tls = {
    ...{ cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca) },
    ...tlsPolicyOptions(options.policy),
    requestCert: true,
    rejectUnauthorized: true,
  };
  const target = { host: "127.0.0.1", port: options.upstreamPort! };
  process.once("SIGTERM", () => process.exit(0));
  if (options.mode === "tcp-echo") {
    createTcpServer((socket) => {
      socket.setNoDelay(true);
      socket.on("error", () => socket.destroy());
      socket.pipe(socket);
    }).listen(options.port, "127.0.0.1");
  } else if (options.mode === "tcp-proxy") {
    createTlsServer(tls, (socket) => {
      const upstream = connect(target.port, target.host).setNoDelay(true);
      socket.setNoDelay(true);
      pipeline(socket, upstream, () => socket.destroy());
      pipeline(upstream, socket, () => upstream.destroy());
    }).listen(options.port, "127.0.0.1");
  } else {
    const body = Buffer.from(options.body ?? "");
    const agent = new Agent({ keepAlive: true, maxFreeSockets: 64 });
    const server = createHttpsServer({ ...tls, keepAliveTimeout: 65_000 }, (req, res) => {
      if (options.mode === "server") {
        const length = req.headers["content-length"];
        if (req.method !== "POST")
          res.writeHead(200, { "content-type": "application/json", "content-length": body.length }).end(body);
        else
          pipeline(
            req,
            res.writeHead(200, { "content-type": "application/octet-stream", "content-length": length }),
            () => {},
          );
        return;
      }
      const headers = withoutHopByHop(req.headers);
      const upstream = request({ ...target, method: req.method, path: req.url, headers, agent }, (answer) => {
        if (res.destroyed) return void answer.resume(); // ab closes its connections when its time is up
        res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
        answer.pipe(res);
      });
      upstream.once("error", () => (res.headersSent ? res : res.writeHead(502)).end());
      req.pipe(upstream);
      res.once("close", () => res.writableFinished || upstream.destroy());
    });
    keepReadsPausable(server);
    server.listen(options.port, "127.0.0.1");
  }
}

if (import.meta.main) serve(JSON.parse(process.argv[2]!) as Options);
