/**
 * The reference point for "how fast can Node itself proxy": a bare `https.createServer` forwarding
 * every request to the upstream over a keep-alive `http.Agent` (mode http), or a bare
 * `tls.createServer` piping bytes to a TCP connection to the upstream (mode tcp), with the same
 * certificate, CA, TLS policy and client-certificate requirement as our server. No allow-list, no
 * identity header, no metrics, no timeouts, no hop-by-hop handling beyond Connection/Keep-Alive:
 * the gap between it and the peers is Node's, the gap between it and our server is our code's.
 *
 *   node bench/proxy/bare-node-proxy-server.ts '<json options>'
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect } from "node:net";
import { pipeline } from "node:stream";
import { createServer as createTlsServer } from "node:tls";
import { keepReadsPausable } from "../../services/src/server/pausable-reads.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";
import { UPSTREAM_POOL } from "./peer-configs.ts";

export interface BareNodeProxyOptions {
  mode: "http" | "tcp";
  port: number;
  cert: string;
  key: string;
  ca: string;
  upstreamPort: number;
}

const HOP_BY_HOP = ["connection", "keep-alive"];

function withoutHopByHop(headers: Record<string, string | string[] | undefined>) {
  const copy = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2]!) as BareNodeProxyOptions;
  const tls = {
    cert: readFileSync(options.cert),
    key: readFileSync(options.key),
    ca: readFileSync(options.ca),
    ...tlsPolicyOptions("modern"),
    requestCert: true,
    rejectUnauthorized: true,
  };
  if (options.mode === "http") {
    const agent = new Agent({ keepAlive: true, maxFreeSockets: UPSTREAM_POOL });
    const server = createHttpsServer({ ...tls, keepAliveTimeout: 65_000 }, (req, res) => {
      const upstream = request(
        {
          host: "127.0.0.1",
          port: options.upstreamPort,
          method: req.method,
          path: req.url,
          headers: withoutHopByHop(req.headers),
          agent,
        },
        (answer) => {
          // The caller may have gone (ab closes its connections when its time is up).
          if (res.destroyed) {
            answer.resume();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
          answer.pipe(res);
        },
      );
      upstream.once("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
      res.once("close", () => {
        if (!res.writableFinished) upstream.destroy();
      });
    });
    keepReadsPausable(server);
    server.listen(options.port, "127.0.0.1");
  } else {
    const server = createTlsServer(tls, (socket) => {
      const upstream = connect(options.upstreamPort, "127.0.0.1");
      upstream.setNoDelay(true);
      socket.setNoDelay(true);
      pipeline(socket, upstream, () => socket.destroy());
      pipeline(upstream, socket, () => upstream.destroy());
    });
    server.listen(options.port, "127.0.0.1");
  }
  process.once("SIGTERM", () => process.exit(0));
}
