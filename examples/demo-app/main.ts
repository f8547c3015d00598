/**
 * The demo app of Pulumi.sidecar.yaml, a stand-in for a user's own service. It knows nothing of TLS:
 *
 * - with MTLS_APP_PORT (a server workload), it serves plain HTTP on MTLS_APP_HOST:<port> (default
 *   0.0.0.0, every interface of its container: on Docker its only network is the workload's private
 *   one, shared only with the server sidecar; on Kubernetes 127.0.0.1, the pod's loopback) and
 *   answers every request with JSON holding the `x-forwarded-client-cert` header it received: the
 *   caller's identity as the server sidecar verified it;
 * - with MTLS_TUNNEL_<NAME>=<host>:<port> (a client workload: `tunnel-<name>:<port>`, its tunnel
 *   sidecar on the private network; `127.0.0.1:<port>` in a pod), it calls each tunnel every DEMO_INTERVAL_MS (default 2000)
 *   with a plain `GET /hello` on a new connection (so every call also makes the tunnel's mTLS
 *   connection) and logs one JSON line per call, failures included (5 s timeout).
 *
 * Both exit at once on SIGTERM (as PID 1, Node would otherwise ignore it).
 */
import http from "node:http";

const log = (event: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), event, ...fields }));

for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));

const port = process.env.MTLS_APP_PORT;
const tunnels = Object.entries(process.env).filter(([key]) => key.startsWith("MTLS_TUNNEL_"));

if (port !== undefined) {
  const server = http.createServer((request, response) => {
    const xfcc = request.headers["x-forwarded-client-cert"] ?? null;
    const body = JSON.stringify({ app: "demo-server", method: request.method, path: request.url, xfcc });
    log("request", { path: request.url, xfcc });
    response.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  // Every interface of its own container (on the private network only the sidecar reaches it), or
  // the address it is told (a pod's loopback, where only the pod's own sidecar reaches it).
  const host = process.env.MTLS_APP_HOST ?? "0.0.0.0";
  server.listen(Number(port), host, () => log("listening", { address: `${host}:${port}` }));
} else if (tunnels.length > 0) {
  const intervalMs = Number(process.env.DEMO_INTERVAL_MS ?? 2000);
  const call = (name: string, address: string) => {
    const started = Date.now();
    http
      .get(`http://${address}/hello`, { agent: false, timeout: 5000 }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () =>
          log("call", { tunnel: name, status: response.statusCode, durationMs: Date.now() - started, body }),
        );
      })
      .on("timeout", function (this: http.ClientRequest) {
        this.destroy(new Error("timed out after 5000 ms"));
      })
      .on("error", (error) =>
        log("call", { tunnel: name, error: error.message, durationMs: Date.now() - started }),
      );
  };
  for (const [key, address] of tunnels) {
    const name = key.slice("MTLS_TUNNEL_".length).toLowerCase();
    call(name, address!);
    setInterval(() => call(name, address!), intervalMs);
  }
} else {
  console.error(
    "demo-app: set MTLS_APP_PORT (server) or MTLS_TUNNEL_<NAME> (client); MtlsWorkload sets them",
  );
  process.exit(2);
}
