/**
 * Configuration of both services from environment variables (names and defaults in contract.ts).
 * Every variable is read before anything is refused, so a start reports every bad value at once,
 * each in one sentence that names the variable, the value and what is expected (env-reader.ts).
 *
 * Layout, for whoever adds a variable: `common()` holds what both services read, then
 * `parseServerConfig` and `parseClientConfig` their own; a value that depends on another (a
 * clash, an order) is checked after both are read, with `reader.problem(...)`. Each parse ends
 * with `reader.throwIfAny()`.
 */
import {
  DEFAULTS,
  defaultConnectionBudgets,
  ENV,
  IDENTITY_DIR,
  TLS_POLICIES,
  type TlsPolicy,
} from "./contract.ts";
import {
  ConfigError,
  type Env,
  EnvReader,
  type ListenAddress,
  listenAddressOrProblem,
} from "./env-reader.ts";
import { type ProxyConfig, readProxyConfig, readTunnelConfig, type TunnelConfig } from "./sidecar-config.ts";

export { ConfigError, type Env, type ListenAddress };

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
  /** Every connection of the mTLS listener: the unauthenticated and the verified budget together. */
  maxConnections: number;
  /** Connections not yet admitted (handshake pending, or refused and being told why). */
  maxUnauthenticatedConnections: number;
  /** Connections one client identity may hold. */
  maxConnectionsPerClient: number;
  maxConnectionAgeMs: number;
  maxBodyBytes: number;
  accessLog: boolean;
  /** Sidecar mode (MTLS_UPSTREAM): undefined serves the built-in endpoints. */
  proxy: ProxyConfig | undefined;
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
  /** Sidecar mode (MTLS_LOCAL_LISTEN): undefined makes rounds against the built-in endpoints. */
  tunnel: TunnelConfig | undefined;
}

/** `host:port`, `[v6]:port` or `:port` (all interfaces); throws ConfigError otherwise. */
export function parseListenAddress(name: string, raw: string): ListenAddress {
  const parsed = listenAddressOrProblem(name, raw);
  if (typeof parsed === "string") throw new ConfigError(parsed);
  return parsed;
}

/**
 * How long to wait for absent identity files. Waiting is for delivery: the default paths under
 * IDENTITY_DIR are filled by the delivery container, possibly a moment after the service starts.
 * A path the user typed is not delivered by anyone, so a typo there fails at once, unless
 * MTLS_IDENTITY_WAIT_MS is set explicitly.
 */
function identityWaitMs(reader: EnvReader, identity: IdentityPaths): number {
  const delivered = [identity.certFile, identity.keyFile, identity.caFile].every((path) =>
    path.startsWith(`${IDENTITY_DIR}/`),
  );
  return reader.integer(ENV.identityWaitMs, delivered ? DEFAULTS.identityWaitMs : 0, 0);
}

function common(reader: EnvReader, statusFallback: string): CommonConfig {
  const identity = {
    certFile: reader.text(ENV.certFile) ?? DEFAULTS.certFile,
    keyFile: reader.text(ENV.keyFile) ?? DEFAULTS.keyFile,
    caFile: reader.text(ENV.caFile) ?? DEFAULTS.caFile,
  };
  return {
    identity,
    statusListen: reader.listenAddress(ENV.statusListen, statusFallback),
    tlsPolicy: reader.choice(ENV.tlsPolicy, TLS_POLICIES, DEFAULTS.tlsPolicy, "a TLS policy"),
    identityWaitMs: identityWaitMs(reader, identity),
    reloadDebounceMs: reader.integer(ENV.reloadDebounceMs, DEFAULTS.reloadDebounceMs, 0, 60_000),
    reloadPollMs: reader.integer(ENV.reloadPollMs, DEFAULTS.reloadPollMs, 0),
    shutdownTimeoutMs: reader.integer(ENV.shutdownTimeoutMs, DEFAULTS.shutdownTimeoutMs, 0),
  };
}

/** Comma-separated names; blank entries (a trailing comma) are ignored. */
export function parseAllowedClients(raw: string | undefined): string[] {
  return (raw ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

function allowedClients(reader: EnvReader): string[] {
  const raw = reader.text(ENV.allowedClients) ?? DEFAULTS.allowedClients;
  const entries = parseAllowedClients(raw);
  // Unset means "every certificate from the CA bundle"; a value with only commas and blanks is
  // almost certainly a list that lost its names on the way, and must not silently mean the same.
  if (raw !== "" && entries.length === 0) {
    reader.problem(
      `${ENV.allowedClients}=${JSON.stringify(reader.raw(ENV.allowedClients))} names no client: ` +
        "list common names or URI SANs separated by commas, or leave it unset to allow every certificate of the CA bundle",
    );
  }
  return entries;
}

const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", ""]);

/** Two listen addresses that cannot both be bound (port 0 always gets a port of its own). */
function clash(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  return a.host === b.host || WILDCARD_HOSTS.has(a.host) || WILDCARD_HOSTS.has(b.host);
}

export function parseServerConfig(env: Env): ServerConfig {
  const reader = new EnvReader(env);
  const base = {
    ...common(reader, DEFAULTS.statusListen),
    listen: reader.listenAddress(ENV.listen, DEFAULTS.listen),
    allowedClients: allowedClients(reader),
    // The access policy file (allow-list, revocations); a plain path, read and checked by the server.
    policyFile: reader.text(ENV.policyFile) ?? DEFAULTS.policyFile,
    handshakeTimeoutMs: reader.integer(ENV.handshakeTimeoutMs, DEFAULTS.handshakeTimeoutMs, 1),
    headersTimeoutMs: reader.integer(ENV.headersTimeoutMs, DEFAULTS.headersTimeoutMs, 1),
    requestTimeoutMs: reader.integer(ENV.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 1),
    keepAliveTimeoutMs: reader.integer(ENV.keepAliveTimeoutMs, DEFAULTS.keepAliveTimeoutMs, 1),
    ...connectionBudgets(reader),
    maxConnectionAgeMs: reader.integer(ENV.maxConnectionAgeMs, DEFAULTS.maxConnectionAgeMs, 1),
    maxBodyBytes: reader.integer(ENV.maxBodyBytes, DEFAULTS.maxBodyBytes, 0),
    accessLog: reader.onOff(ENV.accessLog, DEFAULTS.accessLog),
  };
  // The sidecar variables go on the same reader: their problems join the one report.
  const config: ServerConfig = { ...base, proxy: readProxyConfig(reader, base.listen) };
  if (clash(config.statusListen, config.listen)) {
    // The status listener is the one that moves: MTLS_LISTEN is what clients were told.
    reader.problem(
      `${ENV.statusListen}=${formatListen(config.statusListen)} takes the port of ${ENV.listen}=${formatListen(config.listen)}: ` +
        `give the status listener a port of its own (default ${DEFAULTS.statusListen})`,
    );
  }
  reader.throwIfAny();
  return config;
}

/**
 * MTLS_MAX_CONNECTIONS and the two budgets within it. The unauthenticated budget must leave room
 * for verified connections, and a per-client quota above what verified connections can hold at all
 * would be no quota.
 */
function connectionBudgets(
  reader: EnvReader,
): Pick<ServerConfig, "maxConnections" | "maxUnauthenticatedConnections" | "maxConnectionsPerClient"> {
  const maxConnections = reader.integer(ENV.maxConnections, DEFAULTS.maxConnections, 1);
  const defaults = defaultConnectionBudgets(maxConnections);
  const unauthenticatedSet = reader.isSet(ENV.maxUnauthenticatedConnections);
  const maxUnauthenticatedConnections = reader.integer(
    ENV.maxUnauthenticatedConnections,
    defaults.maxUnauthenticatedConnections,
    1,
  );
  const verified = maxConnections - maxUnauthenticatedConnections;
  // The default quota never exceeds what verified callers can hold; a quota given does, as an error.
  const maxConnectionsPerClient = reader.integer(
    ENV.maxConnectionsPerClient,
    Math.max(1, Math.min(defaults.maxConnectionsPerClient, verified)),
    1,
  );
  if (verified < 1) {
    reader.problem(
      unauthenticatedSet
        ? `${ENV.maxUnauthenticatedConnections}=${maxUnauthenticatedConnections} is not below ${ENV.maxConnections}=${maxConnections}: ` +
            `verified callers get the rest of the cap; expected at most ${maxConnections - 1}`
        : `${ENV.maxConnections}=${maxConnections} leaves no connection for verified callers beside the ` +
            `${maxUnauthenticatedConnections} for handshakes (${ENV.maxUnauthenticatedConnections}): expected at least 2`,
    );
  } else if (maxConnectionsPerClient > verified) {
    reader.problem(
      `${ENV.maxConnectionsPerClient}=${maxConnectionsPerClient} is larger than the ${verified} connections verified callers can hold ` +
        `(${ENV.maxConnections}=${maxConnections} minus ${ENV.maxUnauthenticatedConnections}=${maxUnauthenticatedConnections}): ` +
        `expected at most ${verified}`,
    );
  }
  return { maxConnections, maxUnauthenticatedConnections, maxConnectionsPerClient };
}

function formatListen(address: ListenAddress): string {
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** The server URL; a problem is recorded (and the default returned) when it is not usable. */
function serverUrl(reader: EnvReader): URL {
  const raw = reader.text(ENV.serverUrl) ?? DEFAULTS.serverUrl;
  const fallback = new URL(DEFAULTS.serverUrl);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The URL parser refuses a port above 65535 as "Invalid URL": say what is really wrong.
    const port = /^[a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)(?:[/?#]|$)/i.exec(raw)?.[1];
    reader.problem(
      port !== undefined && Number(port) > 65535
        ? `${ENV.serverUrl}=${JSON.stringify(raw)} has port ${port}, out of range: expected 1 to 65535`
        : `${ENV.serverUrl}=${JSON.stringify(raw)} is not a URL: expected e.g. ${DEFAULTS.serverUrl}`,
    );
    return fallback;
  }
  if (url.protocol !== "https:") {
    reader.problem(`${ENV.serverUrl}=${JSON.stringify(raw)} must use https://`);
    return fallback;
  }
  return url;
}

export function parseClientConfig(env: Env, args: readonly string[]): ClientConfig {
  const reader = new EnvReader(env);
  let once = false;
  for (const arg of args) {
    if (arg === "--once") once = true;
    else reader.problem(`unknown argument ${JSON.stringify(arg)}: the client accepts only --once`);
  }
  const url = serverUrl(reader);
  const urlHost = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const backoffInitialMs = reader.integer(ENV.backoffInitialMs, DEFAULTS.backoffInitialMs, 1);
  const backoffMaxMs = reader.integer(ENV.backoffMaxMs, DEFAULTS.backoffMaxMs, 1);
  if (backoffMaxMs < backoffInitialMs) {
    reader.problem(
      `${ENV.backoffMaxMs}=${backoffMaxMs} is below ${ENV.backoffInitialMs}=${backoffInitialMs}`,
    );
  }
  const config: ClientConfig = {
    ...common(reader, DEFAULTS.clientStatusListen),
    serverUrl: url,
    serverName: reader.text(ENV.serverName) ?? urlHost,
    intervalMs: reader.integer(ENV.intervalMs, DEFAULTS.intervalMs, 1),
    requestTimeoutMs: reader.integer(ENV.requestTimeoutMs, DEFAULTS.clientRequestTimeoutMs, 1),
    backoffInitialMs,
    backoffMaxMs,
    once,
    tunnel: readTunnelConfig(reader, once),
  };
  reader.throwIfAny();
  return config;
}
