/**
 * Configuration of the sidecar modes (docs/SERVICES.md, "Sidecar modes"): the server as a reverse
 * proxy or TCP tunnel in front of an upstream (MTLS_UPSTREAM), the client as a local tunnel
 * (MTLS_LOCAL_LISTEN). Parsed right after the base configuration and before anything starts, with
 * the same one-sentence ConfigError (exit 2) naming the variable.
 */
import { isIP } from "node:net";
import { ConfigError, type Env, type ListenAddress, parseListenAddress } from "./config.ts";
import { DEFAULTS, ENV } from "./contract.ts";

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
}

export interface TunnelConfig {
  listen: ListenAddress;
  idleTimeoutMs: number;
}

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

function integer(env: Env, name: string, fallback: number, min: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a whole number`);
  const parsed = Number(raw);
  if (parsed < min || !Number.isSafeInteger(parsed)) {
    throw new ConfigError(`${name}=${raw} is out of range: expected ${min} or more`);
  }
  return parsed;
}

function flag(env: Env, name: string, fallback: "on" | "off"): boolean {
  const raw = (value(env, name) ?? fallback).toLowerCase();
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected on or off (1 or 0)`);
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

export function parseUpstream(raw: string, listen: ListenAddress): Upstream {
  const name = ENV.upstream;
  const expected = "expected http://host:port or tcp://host:port, e.g. http://127.0.0.1:8080";
  const match = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]+\]|[^:/?#[\]@]+)(?::(\d*))?\/?$/i.exec(raw);
  if (!match) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not an upstream address: ${expected}`);
  }
  const scheme = match[1]!.toLowerCase();
  if (scheme !== "http" && scheme !== "tcp") {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} has scheme "${scheme}": expected http:// (reverse proxy) or tcp:// (TCP tunnel)`,
    );
  }
  const host = match[2]!;
  if (host.startsWith("[") && isIP(unbracket(host)) !== 6) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} has an invalid IPv6 address: ${expected}`);
  }
  if (match[3] === undefined || match[3] === "") {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} has no port: ${expected}`);
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} has port ${match[3]}, out of range: expected 1 to 65535`,
    );
  }
  const upstream: Upstream = { protocol: scheme, host: unbracket(host), port, address: `${host}:${port}` };
  if (pointsAtListener(upstream, listen)) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} points at the server's own listener (${ENV.listen}=${listen.host}:${listen.port}): ` +
        "every request would be forwarded to itself; give the address your application listens on",
    );
  }
  return upstream;
}

/** The server's proxy mode, or undefined (built-in endpoints) when MTLS_UPSTREAM is not set. */
export function parseProxyConfig(env: Env, listen: ListenAddress): ProxyConfig | undefined {
  const raw = value(env, ENV.upstream);
  if (raw === undefined) return undefined;
  return {
    upstream: parseUpstream(raw, listen),
    timeoutMs: integer(env, ENV.upstreamTimeoutMs, DEFAULTS.upstreamTimeoutMs, 1),
    idleTimeoutMs: integer(env, ENV.tunnelIdleTimeoutMs, DEFAULTS.tunnelIdleTimeoutMs, 0),
    clientCertHeader: flag(env, ENV.upstreamClientCert, DEFAULTS.upstreamClientCert),
  };
}

/** The client's local tunnel, or undefined (rounds against the built-in endpoints) when not set. */
export function parseTunnelConfig(env: Env, once: boolean): TunnelConfig | undefined {
  const raw = value(env, ENV.localListen);
  const any = flag(env, ENV.localListenAny, "off");
  if (raw === undefined) return undefined;
  if (once) throw new ConfigError(`${ENV.localListen} runs a tunnel and cannot be combined with --once`);
  if (!/^(\[[^\]]+\]|[^:[\]]+):\d{1,5}$/.test(raw)) {
    throw new ConfigError(
      `${ENV.localListen}=${JSON.stringify(raw)} is not a listen address: expected host:port, e.g. 127.0.0.1:15001`,
    );
  }
  const listen = parseListenAddress(ENV.localListen, raw);
  if (!any && !isLoopback(listen.host)) {
    throw new ConfigError(
      `${ENV.localListen}=${JSON.stringify(raw)} is not a loopback address: the tunnel carries plain TCP to an ` +
        `authenticated connection, so anyone who reaches it calls as this client; bind 127.0.0.1 (the default ` +
        `inside a shared network namespace) or set ${ENV.localListenAny}=1 to allow it`,
    );
  }
  return { listen, idleTimeoutMs: integer(env, ENV.tunnelIdleTimeoutMs, DEFAULTS.tunnelIdleTimeoutMs, 0) };
}
