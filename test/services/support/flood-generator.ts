/**
 * A flood against an mTLS listener, run as its own process (so its work never slows the caller
 * being measured): `node flood-generator.ts '<json FloodSpec>'`. It writes one JSON line when the
 * flood is in place (`holding`: it has opened `connections`, whether or not the server kept them),
 * one per second (`stats`), and a last one when SIGTERM stops it (`stopped`). Used by the services' flood tests and by the bench's flood scenario (bench/floods/).
 *
 * - `anonymous`: plain TCP connections that never start a TLS handshake (no certificate, no
 *   bandwidth); each one the server closes is opened again at once, so the flood is sustained.
 * - `hoard`: keep-alive mTLS connections of one verified client, each making one request every
 *   `intervalMs`; each one the server closes (or refuses) is opened again, so the client keeps
 *   trying to hold `connections` of them.
 * - `calls`: the caller being measured (for the bench, which pins it to a core): GET /v1/whoami on
 *   a new connection each, one after the other, for `durationMs`; its `calls` line has the figures.
 */
import { Agent, request } from "node:https";
import { connect, type Socket } from "node:net";

export type FloodSpec =
  | { kind: "anonymous"; host: string; port: number; connections: number }
  | {
      kind: "hoard";
      host: string;
      port: number;
      connections: number;
      intervalMs: number;
      servername: string;
      ca: string;
      cert: string;
      key: string;
    }
  | {
      kind: "calls";
      host: string;
      port: number;
      durationMs: number;
      timeoutMs: number;
      servername: string;
      ca: string;
      cert: string;
      key: string;
    };

/** What a `calls` run saw: answers by status and failures by error code, and the latencies. */
export interface CallsFigures {
  calls: number;
  ok: number;
  failures: Record<string, number>;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface FloodStats {
  /** Connections established and not closed now. */
  open: number;
  /** Connections opened since the start, re-openings included. */
  opened: number;
  /** Connections the server closed. */
  closedByServer: number;
  /** hoard: answers by status (200, 429, 503, ...) and calls that failed without one. */
  answers: Record<string, number>;
  failedCalls: number;
}

const stats: FloodStats = { open: 0, opened: 0, closedByServer: 0, answers: {}, failedCalls: 0 };
let stopping = false;
let announced = false;

function print(event: string): void {
  process.stdout.write(`${JSON.stringify({ event, ...stats })}\n`);
}

function announceOnce(wanted: number): void {
  if (!announced && stats.opened >= wanted) {
    announced = true;
    print("holding");
  }
}

function anonymous(spec: Extract<FloodSpec, { kind: "anonymous" }>): void {
  const open = () => {
    if (stopping) return;
    const socket: Socket = connect({ host: spec.host, port: spec.port });
    let connected = false;
    socket.on("error", () => {});
    socket.once("connect", () => {
      connected = true;
      stats.opened++;
      stats.open++;
      announceOnce(spec.connections);
    });
    socket.once("close", () => {
      if (connected) {
        stats.open--;
        if (!stopping) stats.closedByServer++;
      }
      // Re-open on the next turn, so a refusing server is hammered but the loop still breathes.
      if (!stopping) setImmediate(open);
    });
  };
  for (let index = 0; index < spec.connections; index++) open();
}

function hoard(spec: Extract<FloodSpec, { kind: "hoard" }>): void {
  const slot = () => {
    // One agent per slot: one keep-alive connection each, re-opened by the agent when closed.
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: spec.ca,
      cert: spec.cert,
      key: spec.key,
      servername: spec.servername,
    });
    agent.on("free", () => {});
    const call = () => {
      if (stopping) return;
      const req = request({ host: spec.host, port: spec.port, path: "/v1/whoami", agent }, (res) => {
        stats.answers[String(res.statusCode)] = (stats.answers[String(res.statusCode)] ?? 0) + 1;
        res.resume();
        res.once("end", () => setTimeout(call, spec.intervalMs));
      });
      req.on("socket", (socket: Socket) => {
        if (tracked.has(socket)) return;
        tracked.add(socket);
        socket.once("secureConnect", () => {
          stats.opened++;
          stats.open++;
          announceOnce(spec.connections);
          socket.once("close", () => {
            stats.open--;
            if (!stopping) stats.closedByServer++;
          });
        });
      });
      req.on("error", () => {
        stats.failedCalls++;
        setTimeout(call, Math.min(spec.intervalMs, 100));
      });
      req.end();
    };
    call();
  };
  const tracked = new WeakSet<Socket>();
  for (let index = 0; index < spec.connections; index++) slot();
}

async function calls(spec: Extract<FloodSpec, { kind: "calls" }>): Promise<void> {
  const figures: CallsFigures = { calls: 0, ok: 0, failures: {}, p50Ms: null, p99Ms: null };
  const durations: number[] = [];
  const until = Date.now() + spec.durationMs;
  while (Date.now() < until) {
    const started = performance.now();
    const outcome = await new Promise<string>((resolve) => {
      const req = request(
        {
          host: spec.host,
          port: spec.port,
          path: "/v1/whoami",
          agent: false,
          servername: spec.servername,
          ca: spec.ca,
          cert: spec.cert,
          key: spec.key,
        },
        (res) => {
          res.resume();
          res.once("end", () => resolve(String(res.statusCode)));
        },
      );
      req.setTimeout(spec.timeoutMs, () =>
        req.destroy(Object.assign(new Error("timeout"), { code: "timeout" })),
      );
      req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      req.end();
    });
    figures.calls++;
    if (outcome === "200") {
      figures.ok++;
      durations.push(performance.now() - started);
    } else figures.failures[outcome] = (figures.failures[outcome] ?? 0) + 1;
  }
  durations.sort((a, b) => a - b);
  const at = (q: number) =>
    durations.length === 0
      ? null
      : Math.round(durations[Math.min(durations.length - 1, Math.floor(q * durations.length))]! * 10) / 10;
  figures.p50Ms = at(0.5);
  figures.p99Ms = at(0.99);
  process.stdout.write(`${JSON.stringify({ event: "calls", ...figures })}\n`);
  process.exit(0);
}

const spec = JSON.parse(process.argv[2] ?? "{}") as FloodSpec;
if (spec.kind === "anonymous") anonymous(spec);
else if (spec.kind === "hoard") hoard(spec);
else if (spec.kind === "calls") void calls(spec);
else throw new Error(`unknown flood ${JSON.stringify(spec)}`);
setInterval(() => print("stats"), 1000).unref();
process.once("SIGTERM", () => {
  stopping = true;
  print("stopped");
  process.exit(0);
});
// The parent's end (a killed test run) ends the flood too.
process.stdin.resume();
process.stdin.once("end", () => process.exit(0));
