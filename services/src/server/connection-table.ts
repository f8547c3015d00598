/**
 * The server's table of its connections, split into two budgets that add up to
 * MTLS_MAX_CONNECTIONS:
 *
 * - unauthenticated: connections that have proven nothing yet. `silent` ones have not started a
 *   TLS handshake, `handshaking` ones have, `refused` ones finished it but are not admitted (a
 *   certificate that failed verification, a client over its quota) and only wait to be told why;
 * - verified: admitted connections, with their client identity, their certificate's notAfter,
 *   when they opened, whether a request is in flight and since when they are idle.
 *
 * This file only keeps the books (counts per budget and per client, the order in which victims
 * are chosen); admission.ts decides what to do with them. Every set keeps insertion order, so the
 * oldest entry, and the longest-idle one, is the first of its set: choosing a victim costs O(1).
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { PeerIdentity } from "./peer-identity.ts";

export type UnauthenticatedState = "silent" | "handshaking" | "refused";
export type ConnectionState = UnauthenticatedState | "verified";
export type Budget = "unauthenticated" | "verified";

export interface Connection {
  /** The TCP socket the listener accepted. */
  readonly raw: Socket;
  /** Its TLS socket, once the handshake has shown it. */
  tls?: TLSSocket;
  readonly openedAt: number;
  /** The event-loop turn it was accepted in (admission.ts counts them). */
  readonly acceptedInTurn: number;
  state: ConnectionState;
  /** When it entered its state (began its handshake, was refused, was admitted). */
  stateSince: number;
  /** Verified: the identity its quota counts (first URI SAN, else common name). */
  client?: string;
  peer?: PeerIdentity;
  /** Verified: the peer certificate's notAfter, ms since the epoch. */
  notAfter?: number;
  /** Requests received and not yet answered (HTTP). */
  inFlight: number;
  /** The response of the latest request in flight, while its headers may still change. */
  response?: { headersSent: boolean; setHeader(name: string, value: string): unknown };
  /** When its last response completed (or it was admitted); meaningful while idle. */
  idleSince: number;
  /** Set once the server decided to close it: why (its close is then no peer's doing). */
  closedBy?: string;
  /** Closed once the response in flight is complete (maximum age, a refused peer). */
  closeAfterResponse?: string;
}

export function budgetOf(connection: Connection): Budget {
  return connection.state === "verified" ? "verified" : "unauthenticated";
}

/** The name a per-client quota counts: the first URI SAN (SPIFFE ID), else the common name, else the fingerprint. */
export function clientKey(peer: PeerIdentity): string {
  return peer.uris[0] ?? peer.commonName ?? peer.fingerprint256;
}

export class ConnectionTable {
  readonly #byRaw = new WeakMap<Socket, Connection>();
  readonly #unauthenticated: Record<UnauthenticatedState, Set<Connection>> = {
    refused: new Set(),
    silent: new Set(),
    handshaking: new Set(),
  };
  readonly #verified = new Set<Connection>();
  /** Verified connections with nothing in flight, longest idle first. */
  readonly #idle = new Set<Connection>();
  readonly #perClient = new Map<string, number>();
  #open = 0;

  /** A connection the listener just accepted: silent, in the unauthenticated budget. */
  add(raw: Socket, now: number, turn: number): Connection {
    const connection: Connection = {
      raw,
      openedAt: now,
      acceptedInTurn: turn,
      state: "silent",
      stateSince: now,
      inFlight: 0,
      idleSince: now,
    };
    this.#byRaw.set(raw, connection);
    this.#unauthenticated.silent.add(connection);
    this.#open++;
    return connection;
  }

  /** The entry of a TCP socket, or of a TLS socket through the TCP socket under it; kept after removal. */
  of(socket: Socket): Connection | undefined {
    return this.#byRaw.get(socket) ?? this.#byRaw.get(rawSocketOf(socket));
  }

  has(connection: Connection): boolean {
    return this.#setOf(connection)?.has(connection) ?? false;
  }

  /** Moves an unauthenticated connection on (silent → handshaking, → refused). */
  moveTo(connection: Connection, state: UnauthenticatedState, now: number): void {
    if (!this.has(connection) || connection.state === state) return;
    this.#detach(connection);
    connection.state = state;
    connection.stateSince = now;
    this.#unauthenticated[state].add(connection);
  }

  /** Admits a connection into the verified budget, idle until its first request. */
  verify(connection: Connection, peer: PeerIdentity, client: string, now: number): void {
    if (!this.has(connection)) return;
    this.#detach(connection);
    connection.state = "verified";
    connection.stateSince = now;
    connection.peer = peer;
    connection.client = client;
    connection.notAfter = Date.parse(peer.notAfter);
    connection.idleSince = now;
    this.#verified.add(connection);
    this.#idle.add(connection);
    this.#perClient.set(client, (this.#perClient.get(client) ?? 0) + 1);
  }

  /** Takes a connection out of the books (closed, or about to be). */
  remove(connection: Connection): void {
    if (!this.has(connection)) return;
    this.#detach(connection);
    this.#open--;
  }

  markBusy(connection: Connection): void {
    this.#idle.delete(connection);
  }

  markIdle(connection: Connection, now: number): void {
    if (connection.state !== "verified" || !this.#verified.has(connection)) return;
    connection.idleSince = now;
    this.#idle.delete(connection);
    this.#idle.add(connection);
  }

  isIdle(connection: Connection): boolean {
    return this.#idle.has(connection);
  }

  open(): number {
    return this.#open;
  }

  count(budget: Budget): number {
    if (budget === "verified") return this.#verified.size;
    const { refused, silent, handshaking } = this.#unauthenticated;
    return refused.size + silent.size + handshaking.size;
  }

  countOf(client: string): number {
    return this.#perClient.get(client) ?? 0;
  }

  /** The client holding the most verified connections, and how many. */
  busiestClient(): { client: string; connections: number } | undefined {
    let busiest: { client: string; connections: number } | undefined;
    for (const [client, connections] of this.#perClient) {
      if (!busiest || connections > busiest.connections) busiest = { client, connections };
    }
    return busiest;
  }

  /** Clients holding at least `limit` connections (at most `max` of them). */
  clientsAt(limit: number, max: number): string[] {
    const at: string[] = [];
    for (const [client, connections] of this.#perClient) {
      if (connections >= limit) at.push(client);
      if (at.length >= max) break;
    }
    return at;
  }

  /**
   * The unauthenticated connection to close when the budget is full: refused ones first (they
   * are judged already), then silent ones (they have not even started a handshake), then those
   * mid-handshake; the oldest of each. A silent connection accepted in the event-loop turn `turn`
   * has had no chance yet to be read (its first bytes may be waiting): while the oldest silent one
   * is that young, none is taken, and undefined says to turn the newcomer away instead.
   */
  unauthenticatedVictim(turn: number): Connection | undefined {
    const { refused, silent, handshaking } = this.#unauthenticated;
    const refusedFirst = first(refused);
    if (refusedFirst) return refusedFirst;
    const silentFirst = first(silent);
    if (silentFirst) return silentFirst.acceptedInTurn < turn ? silentFirst : undefined;
    return first(handshaking);
  }

  /** The verified connection idle the longest (of one client, if given); none is mid-request. */
  longestIdle(client?: string): Connection | undefined {
    for (const connection of this.#idle) {
      if (client === undefined || connection.client === client) return connection;
    }
    return undefined;
  }

  verified(): IterableIterator<Connection> {
    return this.#verified.values();
  }

  /** Connections that have sent nothing yet, oldest first. */
  silent(): IterableIterator<Connection> {
    return this.#unauthenticated.silent.values();
  }

  refused(): IterableIterator<Connection> {
    return this.#unauthenticated.refused.values();
  }

  all(): Connection[] {
    const { refused, silent, handshaking } = this.#unauthenticated;
    return [...refused, ...silent, ...handshaking, ...this.#verified];
  }

  #setOf(connection: Connection): Set<Connection> | undefined {
    return connection.state === "verified" ? this.#verified : this.#unauthenticated[connection.state];
  }

  #detach(connection: Connection): void {
    this.#setOf(connection)?.delete(connection);
    if (connection.state !== "verified") return;
    this.#idle.delete(connection);
    const client = connection.client ?? "";
    const left = (this.#perClient.get(client) ?? 1) - 1;
    if (left > 0) this.#perClient.set(client, left);
    else this.#perClient.delete(client);
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const value of set) return value;
  return undefined;
}

/**
 * The TCP socket under a server-side TLS socket. Node gives no public link between the two; it
 * keeps the accepted socket as the TLS socket's `_parent` (lib/internal/tls/wrap.js, Node 22 and
 * 24), which the connection gate uses for peer addresses too. If a Node release drops it, every
 * admission test fails (no TLS socket finds its entry), rather than admission failing silently.
 */
function rawSocketOf(socket: Socket): Socket {
  return (socket as unknown as { _parent?: Socket })._parent ?? socket;
}
