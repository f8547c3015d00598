/**
 * The reference point for "how fast can Node itself go": a bare `https.createServer` with the same
 * certificate, CA, TLS policy and client-certificate requirement as our server, answering
 * `POST /v1/echo` by streaming the body back (as ours does) and every other request with the same
 * fixed whoami body. No routing, no peer identity, no metrics, no logging: the gap between it and
 * nginx is Node's, the gap between it and our server is our code's. It carries the same work-around
 * for Node's paused-parser reset as our server (services/src/server/pausable-reads.ts), without
 * which back-to-back echoes on one connection get reset.
 *
 *   node bench/servers/bare-node-server.ts '<json options>'
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { pipeline } from "node:stream";
import type { TlsPolicy } from "../../services/src/contract.ts";
import { keepReadsPausable } from "../../services/src/server/pausable-reads.ts";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";

export interface BareNodeOptions {
  port: number;
  cert: string;
  key: string;
  ca: string;
  policy: TlsPolicy;
  body: string;
}

if (import.meta.main) {
  const options = JSON.parse(process.argv[2]!) as BareNodeOptions;
  const body = Buffer.from(options.body);
  const server = createServer(
    {
      cert: readFileSync(options.cert),
      key: readFileSync(options.key),
      ca: readFileSync(options.ca),
      ...tlsPolicyOptions(options.policy),
      requestCert: true,
      rejectUnauthorized: true,
      keepAliveTimeout: 65_000,
    },
    (req, res) => {
      if (req.method === "POST") {
        res.writeHead(200, {
          "content-type": "application/octet-stream",
          "content-length": req.headers["content-length"],
        });
        pipeline(req, res, () => {});
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
      res.end(body);
    },
  );
  keepReadsPausable(server);
  server.listen(options.port, "127.0.0.1");
  process.once("SIGTERM", () => process.exit(0));
}
