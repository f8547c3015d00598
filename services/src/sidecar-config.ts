/**
 * Configuration of the sidecar modes (docs/SERVICES.md, "Sidecar modes"): the server as a reverse
 * proxy or TCP tunnel in front of an upstream (MTLS_UPSTREAM), the client as a local tunnel
 * (MTLS_LOCAL_LISTEN). Read by parseServerConfig / parseClientConfig (config.ts) with the same
 * EnvReader as every other variable, so one start reports every bad variable at once, one sentence
 * each naming the variable (ConfigError, exit 2), and nothing starts half-way.
 */
import { isIP } from "node:net";
import { type SourceNetworks, sourceNetworksOrProblem } from "./client/source-networks.ts";
import { DEFAULTS, ENV } from "./contract.ts";
import { type EnvReader, type ListenAddress, listenAddressOrProblem } from "./env-reader.ts";

export interface Upstream {
  protocol: "http" | "tcp";
  host: string;
  port: number;
  /** `host:port` as written (IPv6 in brackets), for logs and error lines. */
  address: string;
}

export interface ProxyConfig {
  upstream: Upstream;
  /** Inactivity allowed on the upstream connection (connect, waiting for an answer, mid-body). */
  timeoutMs: number;
  /** tcp://: a tunnel idle both ways this long is closed; 0 = never. */
  idleTimeoutMs: number;
  /** http://: add RFC 9440 Client-Cert too. */
  clientCertHeader: boolean;
  /** tcp://: a tunnel whose peer is newly refused or expired is closed this long after. */
  closeGraceMs: number;
}

export interface TunnelConfig {
  listen: ListenAddress;
  idleTimeoutMs: number;
  /** Local connections open at once; a new one beyond is closed at accept. */
  maxConnections: number;
  /** After an identity reload, tunnels of the old identity are closed this long after. */
  closeGraceMs: number;
  /** MTLS_LOCAL_ALLOW_FROM: the only networks served; undefined = anyone who reaches the listener. */
  allowFrom: SourceNetworks | undefined;
}

// The sidecar variables keep their own wording for numbers and flags (documented in
// docs/SERVICES.md, "Bad input"), so these two record their problems on the shared reader.
function integer(reader: EnvReader, name: string, fallback: number, min: number): number {
  const raw = reader.text(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    reader.problem(`${name}=${JSON.stringify(raw)} is not a whole number`);
    return fallback;
  }
  const parsed = Number(raw);
  if (parsed < min || !Number.isSafeInteger(parsed)) {
    reader.problem(`${name}=${raw} is out of range: expected ${min} or more`);
    return fallback;
  }
  return parsed;
}

function flag(reader: EnvReader, name: string, fallback: "on" | "off"): boolean {
  const raw = (reader.text(name) ?? fallback).toLowerCase();
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  reader.problem(`${name}=${JSON.stringify(raw)} is not valid: expected on or off (1 or 0)`);
  return fallback === "on";
}

function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, "$1");
}

const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

export function isLoopback(host: string): boolean {
  const bare = unbracket(host).toLowerCase();
  if (bare === "localhost" || bare === "::1") return true;
  return isIP(bare) === 4 && bare.startsWith("127.");
}

/**
 * True when connecting to `upstream` would reach the server's own mTLS listener: a loop that would
 * forward every request to itself until the connection limit. Host names other than localhost are
 * not resolved here (a start-up must not depend on DNS), so only literal matches are caught.
 */
function pointsAtListener(upstream: Upstream, listen: ListenAddress): boolean {
  if (listen.port === 0 || upstream.port !== listen.port) return false;
  const target = unbracket(upstream.host).toLowerCase();
  const bound = unbracket(listen.host).toLowerCase();
  if (target === bound) return true;
  if (WILDCARDS.has(bound)) return isLoopback(target) || WILDCARDS.has(target);
  return isLoopback(bound) && isLoopback(target);
}

/** The upstream `raw` names, or the one sentence saying why it is not one. */
export function upstreamOrProblem(raw: string, listen: ListenAddress): Upstream | string {
  const name = ENV.upstream;
  const expected = "expected http://host:port or tcp://host:port, e.g. http://127.0.0.1:8080";
  const match = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]+\]|[^:/?#[\]@]+)(?::(\d*))?\/?$/i.exec(raw);
  if (!match) {
    return `${name}=${JSON.stringify(raw)} is not an upstream address: ${expected}`;
  }
  const scheme = match[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "tcp") {
    return `${name}=${JSON.stringify(raw)} has scheme "${scheme}": expected http:// (reverse proxy) or tcp:// (TCP tunnel)`;
  }
  const host = match[2]!;
  if (host.startsWith("[") && isIP(unbracket(host)) !== 6) {
    return `${name}=${JSON.stringify(raw)} has an invalid IPv6 address: ${expected}`;
  }
  if (match[3] === undefined || match[3] === "") {
    return `${name}=${JSON.stringify(raw)} has no port: ${expected}`;
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) {
    return `${name}=${JSON.stringify(raw)} has port ${match[3]}, out of range: expected 1 to 65535`;
  }
  const upstream: Upstream = { protocol: scheme, host: unbracket(host), port, address: `${host}:${port}` };
  if (pointsAtListener(upstream, listen)) {
    return (
      `${name}=${JSON.stringify(raw)} points at the server's own listener (${ENV.listen}=${listen.host}:${listen.port}): ` +
      "every request would be forwarded to itself; give the address your application listens on"
    );
  }
  return upstream;
}

/**
 * The server's proxy mode, or undefined (built-in endpoints) when MTLS_UPSTREAM is not set, or
 * when it is bad (the problem is on `reader`, which the caller throws with the others).
 */
export function readProxyConfig(reader: EnvReader, listen: ListenAddress): ProxyConfig | undefined {
  const raw = reader.text(ENV.upstream);
  if (raw === undefined) return undefined; // the proxy's own variables mean nothing without it
  const timeoutMs = integer(reader, ENV.upstreamTimeoutMs, DEFAULTS.upstreamTimeoutMs, 1);
  const idleTimeoutMs = integer(reader, ENV.tunnelIdleTimeoutMs, DEFAULTS.tunnelIdleTimeoutMs, 0);
  const clientCertHeader = flag(reader, ENV.upstreamClientCert, DEFAULTS.upstreamClientCert);
  const closeGraceMs = integer(reader, ENV.tunnelCloseGraceMs, DEFAULTS.tunnelCloseGraceMs, 1);
  const upstream = upstreamOrProblem(raw, listen);
  if (typeof upstream === "string") {
    reader.problem(upstream);
    return undefined;
  }
  return { upstream, timeoutMs, idleTimeoutMs, clientCertHeader, closeGraceMs };
}

/**
 * The client's local tunnel, or undefined (rounds against the built-in endpoints) when
 * MTLS_LOCAL_LISTEN is not set, or when it is bad (the problem is on `reader`).
 */
export function readTunnelConfig(reader: EnvReader, once: boolean): TunnelConfig | undefined {
  const raw = reader.text(ENV.localListen);
  const any = flag(reader, ENV.localListenAny, "off");
  const allowFromRaw = reader.text(ENV.localAllowFrom);
  if (raw === undefined) return undefined;
  const idleTimeoutMs = integer(reader, ENV.tunnelIdleTimeoutMs, DEFAULTS.tunnelIdleTimeoutMs, 0);
  const maxConnections = integer(reader, ENV.localMaxConnections, DEFAULTS.localMaxConnections, 1);
  const closeGraceMs = integer(reader, ENV.tunnelCloseGraceMs, DEFAULTS.tunnelCloseGraceMs, 1);
  let allowFrom: SourceNetworks | undefined;
  if (allowFromRaw !== undefined) {
    const parsed = sourceNetworksOrProblem(ENV.localAllowFrom, allowFromRaw);
    if (typeof parsed === "string") {
      reader.problem(parsed);
      return undefined;
    }
    allowFrom = parsed;
  }
  if (once) {
    reader.problem(`${ENV.localListen} runs a tunnel and cannot be combined with --once`);
    return undefined;
  }
  if (!/^(\[[^\]]+\]|[^:[\]]+):\d{1,5}$/.test(raw)) {
    reader.problem(
      `${ENV.localListen}=${JSON.stringify(raw)} is not a listen address: expected host:port, e.g. 127.0.0.1:15001`,
    );
    return undefined;
  }
  const listen = listenAddressOrProblem(ENV.localListen, raw);
  if (typeof listen === "string") {
    reader.problem(listen);
    return undefined;
  }
  // Beyond loopback, something must say who may use the tunnel: the networks allowed, or the
  // operator's explicit "anyone" (MTLS_LOCAL_LISTEN_ANY=1).
  if (!any && allowFrom === undefined && !isLoopback(listen.host)) {
    reader.problem(
      `${ENV.localListen}=${JSON.stringify(raw)} is not a loopback address: the tunnel carries plain TCP to an ` +
        `authenticated connection, so anyone who reaches it calls as this client; bind 127.0.0.1, or set ` +
        `${ENV.localAllowFrom} to the networks that may use it (e.g. 172.16.3.16/28), or set ${ENV.localListenAny}=1 to allow it`,
    );
    return undefined;
  }
  return { listen, idleTimeoutMs, maxConnections, closeGraceMs, allowFrom };
}
