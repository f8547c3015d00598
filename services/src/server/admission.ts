/**
 * Which connections the server keeps, from its table of connections (connection-table.ts), so that
 * verified callers keep being served while others hoard connections:
 *
 * - The listener is a plain TCP server in front of the TLS server: a connection is handed to TLS
 *   (tls.Server's documented `connection` injection) only once its first bytes arrive, so a peer
 *   that opens connections and sends nothing costs a socket, no TLS state. One that sends nothing
 *   within MTLS_HANDSHAKE_TIMEOUT_MS is closed (a handshake timeout, as Node's for the rest).
 * - Unauthenticated budget (MTLS_MAX_UNAUTHENTICATED_CONNECTIONS, a share of MTLS_MAX_CONNECTIONS):
 *   when it is full, a new connection closes the oldest unauthenticated one (refused ones first,
 *   then those that have not started a handshake, then those mid-handshake) instead of being
 *   refused itself (unless every silent one was accepted in this same event-loop turn and so
 *   could not be read yet: then the newcomer is). Refusing the newcomer would let whoever came first hold the budget until the
 *   handshake deadline: an anonymous peer that opens connections and sends nothing would lock
 *   every verified caller out with no certificate and no bandwidth. Evicting the oldest means such
 *   a connection lives only until the budget has turned over once, while a real handshake needs
 *   one round trip, and a flood of silent connections never evicts a handshake in progress.
 * - Verified budget (the rest of the cap): when a verified handshake needs a slot and none is
 *   free, the connection idle the longest between requests is closed (nginx's reusable-connection
 *   drain), never one with a request in flight; if every one is busy, the newcomer is refused.
 * - Per-client quota (MTLS_MAX_CONNECTIONS_PER_CLIENT): a new connection of a client at its quota
 *   is refused (429), its other connections stay; other identities are not touched.
 * - Age and expiry: a connection older than MTLS_MAX_CONNECTION_AGE_MS is closed after the
 *   response in flight (with Connection: close), or at once if idle; a request on a connection
 *   whose peer certificate has expired is refused (400) and the connection closed.
 *
 * A refused HTTP connection is kept, in the unauthenticated budget, until its first request can be
 * told why (429 for the quota, 503 when every verified slot is busy); in TCP mode it is closed.
 * Every eviction, reclaim and refusal is counted by budget and reason; the first of a burst is
 * logged (burst-log.ts), and /readyz says which budget is saturated (it does not make the server
 * unready: it is serving, and a health check that failed now would restart it under the flood).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as NetServer, Socket } from "node:net";
import type { Server, TLSSocket } from "node:tls";
import { type BurstLog, createBurstLog } from "../burst-log.ts";
import { ENV } from "../contract.ts";
import type { Logger } from "../log.ts";
import type { Registry } from "../metrics.ts";
import { type CertificateRefusal, certificateRefusal } from "./certificate-refusal.ts";
import { type Budget, type Connection, ConnectionTable, clientKey } from "./connection-table.ts";
import type { ConnectionMetrics } from "./metrics.ts";
import type { PeerIdentity } from "./peer-identity.ts";

export interface AdmissionLimits {
  /** A connection that has sent nothing within this is closed. */
  handshakeTimeoutMs: number;
  maxConnections: number;
  maxUnauthenticatedConnections: number;
  maxConnectionsPerClient: number;
  maxConnectionAgeMs: number;
  /** A refused connection that sends no request within this is closed. */
  refusedDeadlineMs: number;
}

export const ADMISSION_REFUSAL_REASONS = ["per_client_quota", "verified_full"] as const;
export type AdmissionRefusalReason = (typeof ADMISSION_REFUSAL_REASONS)[number];

/** Why the server closed a connection of its own accord, by budget. */
export const CONNECTION_CLOSE_REASONS = {
  unauthenticated: ["evicted", "refused_at_accept", "silent_timeout", "refusal_unread"],
  verified: ["reclaimed_idle", "client_quota", "max_age", "certificate_expired", "revoked", "not_allowed"],
} as const;
export type VerifiedCloseReason = (typeof CONNECTION_CLOSE_REASONS.verified)[number];

export interface AdmissionRefusal {
  reason: AdmissionRefusalReason;
  status: 429 | 503;
  code: "too_many_connections" | "server_busy";
  message: string;
}

export interface Admission {
  /**
   * Called once the client certificate verified: admits the connection into the verified budget,
   * or says why not (HTTP: answer its first request with it; the caller closes it in TCP mode).
   */
  admit(socket: TLSSocket, peer: PeerIdentity): AdmissionRefusal | undefined;
  /** A connection whose client certificate was rejected: kept, unadmitted, to be told why. */
  certificateRejected(socket: TLSSocket): void;
  /** True when the server closed this connection itself (an eviction is no handshake failure). */
  closedByServer(socket: Socket): boolean;
  /** The refusal for a request on a connection whose peer certificate has expired since. */
  expiredRefusal(socket: Socket): CertificateRefusal | undefined;
  /** HTTP: follow each request to its response (in flight, idle since, close after it). */
  trackRequests(server: Server): void;
  /** Counts a connection closed by another part of the server (the TCP tunnel's revalidation). */
  countClosed(reason: VerifiedCloseReason): void;
  /** Every accepted connection not closed yet (for the shutdown drain). */
  openConnections(): number;
  /** Destroys every open connection (end of the shutdown deadline). */
  destroyAll(): void;
  /** For /readyz: each budget's use and limit, and which are saturated. */
  status(): AdmissionStatus;
  stop(): void;
}

export interface AdmissionStatus {
  unauthenticated: { inUse: number; limit: number };
  verified: { inUse: number; limit: number };
  perClientLimit: number;
  busiestClient: { client: string; connections: number } | null;
  /** `unauthenticated`, `verified` and `per_client` (a client at its quota) when so. */
  saturated: string[];
  clientsAtQuota: string[];
}

export interface AdmissionOptions {
  /** The TCP listener that accepts (its `listen` is the server's); connections go on to `server`. */
  listener: NetServer;
  /** The TLS (or HTTPS) server, which never listens itself. */
  server: Server;
  limits: AdmissionLimits;
  /** TCP connections carry no requests: nothing is idle, nothing is reclaimed, nothing waits for a refusal. */
  mode: "http" | "tcp";
  metrics: ConnectionMetrics;
  registry: Registry;
  log: Logger;
  /** A connection closed for sending nothing within the handshake timeout (a handshake failure). */
  onSilentTimeout: (remote: string | undefined) => void;
}

const MAX_LISTED_CLIENTS = 5;

export function installAdmission(options: AdmissionOptions): Admission {
  const { server, limits, mode, metrics, log } = options;
  const table = new ConnectionTable();
  const verifiedLimit = limits.maxConnections - limits.maxUnauthenticatedConnections;
  const http = mode === "http";
  const limitOf: Record<Budget | "per_client", number> = {
    unauthenticated: limits.maxUnauthenticatedConnections,
    verified: verifiedLimit,
    per_client: limits.maxConnectionsPerClient,
  };
  const events = { failure: "connections_limited", recovered: "connections_limit_recovered" };
  const bursts: Record<Budget | "per_client", { log: BurstLog; limitedSinceSweep: boolean }> = {
    unauthenticated: { log: createBurstLog(log, events), limitedSinceSweep: false },
    verified: { log: createBurstLog(log, events), limitedSinceSweep: false },
    per_client: { log: createBurstLog(log, events), limitedSinceSweep: false },
  };
  const limited = (budget: Budget | "per_client", reason: string, fields: Record<string, unknown>) => {
    const burst = bursts[budget];
    burst.limitedSinceSweep = true;
    burst.log.failure(reason, {
      budget,
      limit: limitOf[budget],
      inUse: budget === "per_client" ? undefined : table.count(budget),
      ...fields,
    });
  };

  registerGauges(options.registry, table, limitOf);

  /** Closes a connection the server chose to close, and takes it out of the books at once. */
  const close = (connection: Connection, reason: string, graceful: boolean) => {
    const budget: Budget = connection.state === "verified" ? "verified" : "unauthenticated";
    connection.closedBy = reason;
    table.remove(connection);
    metrics.closed.inc({ budget, reason });
    // Graceful: close_notify and FIN once nothing is left to write (an idle keep-alive connection).
    // A connection TLS has taken over is closed through its TLS socket: destroying the TCP socket
    // under it from within its own TLS callbacks crashes Node (SIGSEGV, seen on 24.22).
    if (!connection.tls) connection.raw.destroy();
    else if (graceful && !connection.tls.destroyed) connection.tls.destroySoon();
    else connection.tls.destroy();
  };

  // Event-loop turns: under a flood, the listener may accept hundreds of connections in one turn
  // before any of them is read; a connection is only judged silent once a turn has passed.
  let turn = 0;
  let turnEnding = false;
  const currentTurn = () => {
    if (!turnEnding) {
      turnEnding = true;
      setImmediate(() => {
        turn++;
        turnEnding = false;
      });
    }
    return turn;
  };
  /** Every accepted socket until its close (the table drops a connection as soon as it is closed). */
  const sockets = new Set<Socket>();
  const ignore = () => {};
  options.listener.on("connection", (raw: Socket) => {
    const now = Date.now();
    sockets.add(raw);
    metrics.openConnections.inc();
    raw.on("error", ignore); // a reset before TLS takes over; TLS reports its own errors
    raw.once("close", () => {
      sockets.delete(raw);
      metrics.openConnections.dec();
    });
    const turn = currentTurn();
    if (table.count("unauthenticated") >= limits.maxUnauthenticatedConnections) {
      const victim = table.unauthenticatedVictim(turn);
      if (!victim) {
        // Every silent one was accepted in this very turn, unread yet: the newcomer goes instead.
        limited("unauthenticated", "refused_at_accept", {});
        metrics.closed.inc({ budget: "unauthenticated", reason: "refused_at_accept" });
        raw.destroy();
        return;
      }
      limited("unauthenticated", "evicted", { victim: victim.state, victimAgeMs: now - victim.openedAt });
      close(victim, "evicted", false);
    }
    const connection = table.add(raw, now, turn);
    raw.once("close", () => table.remove(connection));
    // Its first bytes: a handshake begins. Put them back and hand the socket to TLS, which reads
    // what is buffered first.
    raw.once("data", (first: Buffer) => {
      raw.pause();
      raw.unshift(first);
      if (!table.has(connection)) return; // evicted meanwhile
      table.moveTo(connection, "handshaking", Date.now());
      server.emit("connection", raw);
    });
  });
  // The listener's hard limit: a backstop, logged once per burst like the budgets.
  const drops = {
    log: createBurstLog(log, { failure: "connection_dropped", recovered: "connection_drops_ended" }),
    sinceSweep: false,
  };
  options.listener.on("drop", (data?: { remoteAddress?: string; remotePort?: number }) => {
    metrics.droppedConnections.inc();
    drops.sinceSweep = true;
    drops.log.failure("hard_limit", {
      limit: options.listener.maxConnections,
      peer: data?.remoteAddress === undefined ? undefined : `${data.remoteAddress}:${data.remotePort}`,
    });
  });

  const refuse = (
    connection: Connection,
    reason: AdmissionRefusalReason,
    client: string,
  ): AdmissionRefusal => {
    metrics.refused.inc({ budget: "verified", reason });
    const refusal: AdmissionRefusal =
      reason === "per_client_quota"
        ? {
            reason,
            status: 429,
            code: "too_many_connections",
            message:
              `client "${client}" already holds ${limits.maxConnectionsPerClient} connections, ` +
              `its limit (${ENV.maxConnectionsPerClient}): reuse them, or close some first`,
          }
        : {
            reason,
            status: 503,
            code: "server_busy",
            message:
              `all ${verifiedLimit} connections for verified callers have a request in flight ` +
              `(${ENV.maxConnections} minus ${ENV.maxUnauthenticatedConnections}): retry shortly`,
          };
    limited(reason === "per_client_quota" ? "per_client" : "verified", reason, {
      client,
      remote: remoteOf(connection),
    });
    if (http) table.moveTo(connection, "refused", Date.now());
    else {
      close(connection, reason, false);
    }
    return refusal;
  };

  const admit = (socket: TLSSocket, peer: PeerIdentity): AdmissionRefusal | undefined => {
    const connection = table.of(socket);
    if (!connection || !table.has(connection)) return undefined; // closed meanwhile: nothing to admit
    connection.tls = socket;
    const client = clientKey(peer);
    // Refused rather than making room among its own: the client's connections stay as they are,
    // and the excess is told why (429) instead of its idle connections vanishing one by one.
    if (table.countOf(client) >= limits.maxConnectionsPerClient) {
      return refuse(connection, "per_client_quota", client);
    }
    if (table.count("verified") >= verifiedLimit) {
      const idle = http ? table.longestIdle() : undefined;
      if (!idle) return refuse(connection, "verified_full", client);
      limited("verified", "reclaimed_idle", {
        reclaimedClient: idle.client,
        reclaimedIdleMs: Date.now() - idle.idleSince,
      });
      close(idle, "reclaimed_idle", true);
    }
    table.verify(connection, peer, client, Date.now());
    if (http) {
      // At its maximum age: closed now if idle, else after the response in flight (whose headers,
      // if not sent yet, say so).
      const aged = setTimeout(
        () => {
          if (!table.has(connection)) return;
          if (table.isIdle(connection)) close(connection, "max_age", true);
          else if (!connection.closeAfterResponse) {
            connection.closeAfterResponse = "max_age";
            const response = connection.response;
            if (response && !response.headersSent) response.setHeader("connection", "close");
          }
        },
        Math.max(0, connection.openedAt + limits.maxConnectionAgeMs - Date.now()),
      );
      aged.unref();
      socket.once("close", () => clearTimeout(aged));
      // Bytes of a request whose headers are not complete yet: no longer idle, not reclaimable.
      // (Decrypted application data; this listener runs before the HTTP parser's.)
      socket.on("data", () => {
        if (connection.inFlight === 0) table.markBusy(connection);
      });
    }
    return undefined;
  };

  const trackRequests = (httpServer: Server) => {
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      const connection = table.of(req.socket);
      if (connection?.state !== "verified" || connection.closedBy) return;
      connection.inFlight++;
      table.markBusy(connection);
      if (!connection.closeAfterResponse && Date.now() - connection.openedAt >= limits.maxConnectionAgeMs) {
        connection.closeAfterResponse = "max_age";
      }
      // The client learns from the response itself that this connection ends with it.
      if (connection.closeAfterResponse) res.setHeader("connection", "close");
      connection.response = res;
      res.once("close", () => {
        if (connection.response === res) connection.response = undefined;
        connection.inFlight--;
        if (connection.inFlight > 0 || connection.closedBy) return;
        if (connection.closeAfterResponse) close(connection, connection.closeAfterResponse, true);
        else table.markIdle(connection, Date.now());
      });
    };
    // Before the routes, so a response's headers can still say Connection: close.
    httpServer.prependListener("request", onRequest);
    httpServer.prependListener("checkContinue", onRequest);
  };

  const expiredLogged = new WeakSet<Connection>();
  const expiredRefusal = (socket: Socket): CertificateRefusal | undefined => {
    const connection = table.of(socket);
    if (connection?.state !== "verified" || connection.notAfter === undefined) return undefined;
    if (connection.notAfter > Date.now()) return undefined;
    // Answered with the 400 of an expired certificate and Connection: close; counted once.
    connection.closeAfterResponse = "certificate_expired";
    if (!expiredLogged.has(connection)) {
      expiredLogged.add(connection);
      log.warn("connection_closed", {
        reason: "certificate_expired",
        peer: { commonName: connection.peer?.commonName, uri: connection.peer?.uris[0] },
        serialNumber: connection.peer?.serialNumber,
        notAfter: connection.peer?.notAfter,
        remote: remoteOf(connection),
      });
    }
    return certificateRefusal("expired");
  };

  // Deadlines are checked a few times per period, at most once a second.
  const sweepMs = Math.max(
    50,
    Math.min(1000, Math.floor(Math.min(limits.handshakeTimeoutMs, limits.refusedDeadlineMs) / 4)),
  );
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const connection of table.silent()) {
      if (now - connection.openedAt < limits.handshakeTimeoutMs) break; // oldest first
      options.onSilentTimeout(remoteOf(connection));
      close(connection, "silent_timeout", false);
    }
    if (http) {
      for (const connection of table.refused()) {
        if (now - connection.stateSince >= limits.refusedDeadlineMs)
          close(connection, "refusal_unread", false);
      }
    }
    for (const budget of ["unauthenticated", "verified", "per_client"] as const) {
      const burst = bursts[budget];
      const full =
        budget === "per_client"
          ? (table.busiestClient()?.connections ?? 0) >= limitOf.per_client
          : table.count(budget) >= limitOf[budget];
      if (!burst.limitedSinceSweep && !full) burst.log.success();
      burst.limitedSinceSweep = false;
    }
    if (!drops.sinceSweep) drops.log.success();
    drops.sinceSweep = false;
  }, sweepMs);
  sweep.unref();

  return {
    admit,
    certificateRejected: (socket) => {
      const connection = table.of(socket);
      if (!connection) return;
      table.moveTo(connection, "refused", Date.now());
    },
    closedByServer: (socket) => table.of(socket)?.closedBy !== undefined,
    expiredRefusal,
    trackRequests,
    countClosed: (reason) => metrics.closed.inc({ budget: "verified", reason }),
    openConnections: () => sockets.size,
    destroyAll: () => {
      for (const socket of sockets) socket.destroy();
    },
    status: () => {
      const busiest = table.busiestClient();
      const saturated: string[] = [];
      if (table.count("unauthenticated") >= limitOf.unauthenticated) saturated.push("unauthenticated");
      if (table.count("verified") >= limitOf.verified) saturated.push("verified");
      if ((busiest?.connections ?? 0) >= limitOf.per_client) saturated.push("per_client");
      return {
        unauthenticated: { inUse: table.count("unauthenticated"), limit: limitOf.unauthenticated },
        verified: { inUse: table.count("verified"), limit: limitOf.verified },
        perClientLimit: limitOf.per_client,
        busiestClient: busiest ?? null,
        saturated,
        clientsAtQuota: table.clientsAt(limitOf.per_client, MAX_LISTED_CLIENTS),
      };
    },
    stop: () => clearInterval(sweep),
  };
}

function remoteOf(connection: Connection): string | undefined {
  const { remoteAddress, remotePort } = connection.raw;
  return remoteAddress === undefined ? undefined : `${remoteAddress}:${remotePort}`;
}

function registerGauges(
  registry: Registry,
  table: ConnectionTable,
  limitOf: Record<Budget | "per_client", number>,
): void {
  registry.gaugeFamily<"budget">(
    "mtls_connections_in_use",
    "Connections of the mTLS listener by budget: unauthenticated (handshake pending, or refused and being told why) and verified.",
    () => [
      { labels: { budget: "unauthenticated" }, value: table.count("unauthenticated") },
      { labels: { budget: "verified" }, value: table.count("verified") },
    ],
  );
  registry.gaugeFamily<"budget">(
    "mtls_connections_limit",
    "The limit of each budget: unauthenticated, verified, and per_client (connections one client identity may hold).",
    () => [
      { labels: { budget: "unauthenticated" }, value: limitOf.unauthenticated },
      { labels: { budget: "verified" }, value: limitOf.verified },
      { labels: { budget: "per_client" }, value: limitOf.per_client },
    ],
  );
  registry.gauge(
    "mtls_connections_busiest_client",
    "Verified connections held by the client identity that holds the most.",
    () => table.busiestClient()?.connections ?? 0,
  );
}
