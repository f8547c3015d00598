/**
 * Configuration of both services from environment variables (names and defaults in contract.ts).
 * Every bad value fails with one sentence that names the variable, the value and what is expected.
 */
import { isIP } from "node:net";
import { DEFAULTS, ENV, TLS_POLICIES, type TlsPolicy } from "./contract.ts";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export type Env = Record<string, string | undefined>;

export interface ListenAddress {
  host: string;
  port: number;
}

export interface IdentityPaths {
  certFile: string;
  keyFile: string;
  caFile: string;
}

export interface CommonConfig {
  identity: IdentityPaths;
  statusListen: ListenAddress;
  tlsPolicy: TlsPolicy;
  identityWaitMs: number;
  reloadDebounceMs: number;
  reloadPollMs: number;
  shutdownTimeoutMs: number;
}

export interface ServerConfig extends CommonConfig {
  listen: ListenAddress;
  /** Empty: any certificate that chains to the CA bundle is allowed. */
  allowedClients: string[];
  /** The reloadable access policy (server/policy.ts); its allow-list replaces allowedClients. */
  policyFile: string;
  handshakeTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  maxBodyBytes: number;
  accessLog: boolean;
}

export interface ClientConfig extends CommonConfig {
  serverUrl: URL;
  /** The name the server certificate must be valid for. */
  serverName: string;
  intervalMs: number;
  requestTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  once: boolean;
}

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}=${JSON.stringify(raw)} is not a whole number`);
  const parsed = Number(raw);
  if (parsed < min || parsed > max) {
    throw new ConfigError(`${name}=${raw} is out of range: expected ${min} to ${max}`);
  }
  return parsed;
}

function onOff(env: Env, name: string, fallback: "on" | "off"): boolean {
  const raw = (value(env, name) ?? fallback).toLowerCase();
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected on or off`);
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(name: string, raw: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw);
  const host = match ? (match[1] ?? match[2] ?? "") : "";
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port > 65535 || (match[1] !== undefined && isIP(host) !== 6)) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not a listen address: expected host:port, e.g. 0.0.0.0:8443`,
    );
  }
  return { host: host === "" ? "0.0.0.0" : host, port };
}

function listenAddress(env: Env, name: string, fallback: string): ListenAddress {
  return parseListenAddress(name, value(env, name) ?? fallback);
}

function tlsPolicy(env: Env): TlsPolicy {
  const raw = value(env, ENV.tlsPolicy) ?? DEFAULTS.tlsPolicy;
  if (!(TLS_POLICIES as readonly string[]).includes(raw)) {
    throw new ConfigError(
      `${ENV.tlsPolicy}=${JSON.stringify(raw)} is not a TLS policy: expected ${TLS_POLICIES.join(" or ")}`,
    );
  }
  return raw as TlsPolicy;
}

function common(env: Env, statusFallback: string): CommonConfig {
  return {
    identity: {
      certFile: value(env, ENV.certFile) ?? DEFAULTS.certFile,
      keyFile: value(env, ENV.keyFile) ?? DEFAULTS.keyFile,
      caFile: value(env, ENV.caFile) ?? DEFAULTS.caFile,
    },
    statusListen: listenAddress(env, ENV.statusListen, statusFallback),
    tlsPolicy: tlsPolicy(env),
    identityWaitMs: integer(env, ENV.identityWaitMs, DEFAULTS.identityWaitMs, 0),
    reloadDebounceMs: integer(env, ENV.reloadDebounceMs, DEFAULTS.reloadDebounceMs, 0, 60_000),
    reloadPollMs: integer(env, ENV.reloadPollMs, DEFAULTS.reloadPollMs, 0),
    shutdownTimeoutMs: integer(env, ENV.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs, 0),
  };
}

export function parseAllowedClients(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

export function parseServerConfig(env: Env): ServerConfig {
  return {
    ...common(env, DEFAULTS.statusListen),
    listen: listenAddress(env, ENV.listen, DEFAULTS.listen),
    allowedClients: parseAllowedClients(value(env, ENV.allowedClients) ?? DEFAULTS.allowedClients),
    policyFile: value(env, ENV.policyFile) ?? DEFAULTS.policyFile, // issue 10: access policy file
    handshakeTimeoutMs: integer(env, ENV.handshakeTimeoutMs, DEFAULTS.handshakeTimeoutMs, 1),
    headersTimeoutMs: integer(env, ENV.headersTimeoutMs, DEFAULTS.headersTimeoutMs, 1),
    requestTimeoutMs: integer(env, ENV.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 1),
    keepAliveTimeoutMs: integer(env, ENV.keepAliveTimeoutMs, DEFAULTS.keepAliveTimeoutMs, 1),
    maxConnections: integer(env, ENV.maxConnections, DEFAULTS.maxConnections, 1),
    maxBodyBytes: integer(env, ENV.maxBodyBytes, DEFAULTS.maxBodyBytes, 0),
    accessLog: onOff(env, ENV.accessLog, DEFAULTS.accessLog),
  };
}

export function parseClientConfig(env: Env, args: readonly string[]): ClientConfig {
  let once = false;
  for (const arg of args) {
    if (arg === "--once") once = true;
    else throw new ConfigError(`unknown argument ${JSON.stringify(arg)}: the client accepts only --once`);
  }
  const rawUrl = value(env, ENV.serverUrl) ?? DEFAULTS.serverUrl;
  let serverUrl: URL;
  try {
    serverUrl = new URL(rawUrl);
  } catch {
    throw new ConfigError(
      `${ENV.serverUrl}=${JSON.stringify(rawUrl)} is not a URL: expected e.g. https://mtls-server:8443`,
    );
  }
  if (serverUrl.protocol !== "https:") {
    throw new ConfigError(`${ENV.serverUrl}=${JSON.stringify(rawUrl)} must use https://`);
  }
  const urlHost = serverUrl.hostname.replace(/^\[(.*)\]$/, "$1");
  const backoffInitialMs = integer(env, ENV.backoffInitialMs, DEFAULTS.backoffInitialMs, 1);
  const backoffMaxMs = integer(env, ENV.backoffMaxMs, DEFAULTS.backoffMaxMs, 1);
  if (backoffMaxMs < backoffInitialMs) {
    throw new ConfigError(
      `${ENV.backoffMaxMs}=${backoffMaxMs} is below ${ENV.backoffInitialMs}=${backoffInitialMs}`,
    );
  }
  return {
    ...common(env, DEFAULTS.clientStatusListen),
    serverUrl,
    serverName: value(env, ENV.serverName) ?? urlHost,
    intervalMs: integer(env, ENV.intervalMs, DEFAULTS.intervalMs, 1),
    requestTimeoutMs: integer(env, ENV.requestTimeoutMs, DEFAULTS.clientRequestTimeoutMs, 1),
    backoffInitialMs,
    backoffMaxMs,
    once,
  };
}
