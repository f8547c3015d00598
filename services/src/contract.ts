/**
 * The contract between the Pulumi program and the mTLS services: every name both sides must agree
 * on (file paths inside the container, environment variables, ports, endpoints, the service user).
 * The program imports it to wire containers; the services import it to read their configuration.
 * It imports nothing, so it can ship in the image as it is.
 */

/** Where a service's identity lives inside its container (the read-only volume mount). */
export const IDENTITY_DIR = "/etc/mtls";

/** File names follow the Kubernetes TLS secret / cert-manager convention. */
export const IDENTITY_FILES = {
  cert: "tls.crt",
  key: "tls.key",
  ca: "ca.crt",
} as const;

/**
 * The server's access policy (allow-list, revoked serials), delivered beside the identity files and
 * reloaded without a restart. Its own constant, not an IDENTITY_FILES entry: it is not
 * part of the identity set that must be valid together.
 */
export const POLICY_FILE = "policy.json";

export const DEFAULT_SERVER_PORT = 8443;
export const DEFAULT_STATUS_PORT = 9090;
/** The client's status port: a different default so that server and client can share one host. */
export const DEFAULT_CLIENT_STATUS_PORT = 9091;
/** The server's alias on the Docker network, and a DNS SAN of its certificate, unless configured. */
export const DEFAULT_SERVER_NAME = "mtls-server";

export const TLS_POLICIES = ["modern", "intermediate"] as const;
export type TlsPolicy = (typeof TLS_POLICIES)[number];

/**
 * Every environment variable the services read: its name and its default, in one table (ENV and
 * DEFAULTS below are its two columns). `clientDefault`: where the client's default differs from the
 * server's. A variable without a default is unset unless given (docs/SERVICES.md says what each
 * means then).
 */
const VARIABLES = {
  certFile: { name: "MTLS_CERT_FILE", default: `${IDENTITY_DIR}/${IDENTITY_FILES.cert}` },
  keyFile: { name: "MTLS_KEY_FILE", default: `${IDENTITY_DIR}/${IDENTITY_FILES.key}` },
  caFile: { name: "MTLS_CA_FILE", default: `${IDENTITY_DIR}/${IDENTITY_FILES.ca}` },
  /** The server's reloadable access policy (JSON); absent = no file policy. */
  policyFile: { name: "MTLS_POLICY_FILE", default: `${IDENTITY_DIR}/${POLICY_FILE}` },
  listen: { name: "MTLS_LISTEN", default: `0.0.0.0:${DEFAULT_SERVER_PORT}` },
  statusListen: {
    name: "MTLS_STATUS_LISTEN",
    default: `127.0.0.1:${DEFAULT_STATUS_PORT}`,
    clientDefault: `127.0.0.1:${DEFAULT_CLIENT_STATUS_PORT}`,
  },
  /** Comma-separated common names or URI SANs; empty = every certificate of the CA bundle. */
  allowedClients: { name: "MTLS_ALLOWED_CLIENTS", default: "" },
  tlsPolicy: { name: "MTLS_TLS_POLICY", default: "modern" as TlsPolicy },
  serverUrl: { name: "MTLS_SERVER_URL", default: `https://${DEFAULT_SERVER_NAME}:${DEFAULT_SERVER_PORT}` },
  /** Default: the URL's host. */
  serverName: { name: "MTLS_SERVER_NAME" },
  intervalMs: { name: "MTLS_INTERVAL_MS", default: 5000 },
  // Limits and timing of both services (see docs/SERVICES.md for what each one bounds).
  handshakeTimeoutMs: { name: "MTLS_HANDSHAKE_TIMEOUT_MS", default: 10_000 },
  headersTimeoutMs: { name: "MTLS_HEADERS_TIMEOUT_MS", default: 10_000 },
  /** Server: a whole request, body included. Client: one call, connect to last byte. */
  requestTimeoutMs: { name: "MTLS_REQUEST_TIMEOUT_MS", default: 30_000, clientDefault: 10_000 },
  /** Above the client's default interval, so its keep-alive connection is reused between rounds. */
  keepAliveTimeoutMs: { name: "MTLS_KEEPALIVE_TIMEOUT_MS", default: 65_000 },
  /** Server: every connection of the mTLS listener, split into the two budgets below. */
  maxConnections: { name: "MTLS_MAX_CONNECTIONS", default: 1024 },
  /**
   * Server: connections not yet admitted (handshake pending, or refused and waiting to be told
   * why), a share of MTLS_MAX_CONNECTIONS; verified callers get the rest. Default: see
   * defaultConnectionBudgets.
   */
  maxUnauthenticatedConnections: { name: "MTLS_MAX_UNAUTHENTICATED_CONNECTIONS" },
  /** Server: connections one client identity may hold. Default: see defaultConnectionBudgets. */
  maxConnectionsPerClient: { name: "MTLS_MAX_CONNECTIONS_PER_CLIENT" },
  /**
   * Server, HTTP: a connection this old is closed after the response in flight (Connection: close),
   * so a rotated-out client certificate stops being used; 1 h, as nginx's keepalive_time.
   */
  maxConnectionAgeMs: { name: "MTLS_MAX_CONNECTION_AGE_MS", default: 3_600_000 },
  maxBodyBytes: { name: "MTLS_MAX_BODY_BYTES", default: 1024 * 1024 },
  shutdownTimeoutMs: { name: "MTLS_SHUTDOWN_TIMEOUT_MS", default: 10_000 },
  /** How long to wait for identity files that are absent at start before giving up (0 = do not wait). */
  identityWaitMs: { name: "MTLS_IDENTITY_WAIT_MS", default: 60_000 },
  reloadDebounceMs: { name: "MTLS_RELOAD_DEBOUNCE_MS", default: 300 },
  /** Safety-net re-check of the identity files for file systems whose change events get lost (0 = off). */
  reloadPollMs: { name: "MTLS_RELOAD_POLL_MS", default: 10_000 },
  /** `on` (default) or `off`: one log line per request. */
  accessLog: { name: "MTLS_ACCESS_LOG", default: "on" },
  backoffInitialMs: { name: "MTLS_BACKOFF_INITIAL_MS", default: 500 },
  backoffMaxMs: { name: "MTLS_BACKOFF_MAX_MS", default: 30_000 },
  // --- sidecar modes (parsed in sidecar-config.ts) ---
  /** Server: `http://host:port` (reverse proxy) or `tcp://host:port` (TCP tunnel); unset = built-in endpoints. */
  upstream: { name: "MTLS_UPSTREAM" },
  /** Server: the upstream must accept and answer within this much inactivity (else 504 / closed). */
  upstreamTimeoutMs: { name: "MTLS_UPSTREAM_TIMEOUT_MS", default: 30_000 },
  /** Server, tcp:// and client tunnel: a tunnel with no bytes either way for this long is closed (0 = never). */
  tunnelIdleTimeoutMs: { name: "MTLS_TUNNEL_IDLE_TIMEOUT_MS", default: 3_600_000 },
  /** Server, http://: `on` adds RFC 9440 Client-Cert (the DER, base64) beside x-forwarded-client-cert. */
  upstreamClientCert: { name: "MTLS_UPSTREAM_CLIENT_CERT", default: "off" },
  /** Client: `host:port` of a plain TCP listener whose connections are carried over mTLS; unset = rounds. */
  localListen: { name: "MTLS_LOCAL_LISTEN" },
  /** Client: `1` allows MTLS_LOCAL_LISTEN on an address other than loopback. */
  localListenAny: { name: "MTLS_LOCAL_LISTEN_ANY" },
  /**
   * Client tunnel: local connections open at once; beyond, a new one is closed at accept. Half the
   * server's default per-client quota, so the tunnel refuses (at once, locally, counted) before the
   * server would, also while closes are still on their way and with two replicas of one identity.
   */
  localMaxConnections: { name: "MTLS_LOCAL_MAX_CONNECTIONS", default: 128 },
  /**
   * Server tcp:// and client tunnel: a tunnel whose certificate no longer holds is closed this long
   * after that is seen (server: the peer newly refused by the policy, or its certificate expired;
   * client: its own identity was replaced by a reload), so work in flight can finish.
   */
  tunnelCloseGraceMs: { name: "MTLS_TUNNEL_CLOSE_GRACE_MS", default: 10_000 },
  /**
   * Client: comma-separated networks (CIDRs) whose hosts may use the tunnel; a connection from
   * anywhere else is reset unread. Set, it allows MTLS_LOCAL_LISTEN beyond loopback. Unset = anyone
   * who reaches the listener.
   */
  localAllowFrom: { name: "MTLS_LOCAL_ALLOW_FROM" },
} as const;

type Variables = typeof VARIABLES;

/** Each variable's name, by key: `ENV.certFile` is "MTLS_CERT_FILE". */
export const ENV = Object.fromEntries(
  Object.entries(VARIABLES).map(([key, variable]) => [key, variable.name]),
) as { readonly [K in keyof Variables]: Variables[K]["name"] };

type WithDefault = {
  [K in keyof Variables as Variables[K] extends { default: unknown } ? K : never]: Variables[K] extends {
    default: infer D;
  }
    ? D
    : never;
};

/** Each variable's default, by key, and the client's own where it differs (`client...`). */
export const DEFAULTS = {
  ...(Object.fromEntries(
    Object.entries(VARIABLES)
      .filter(([, variable]) => "default" in variable)
      .map(([key, variable]) => [key, (variable as { default: unknown }).default]),
  ) as WithDefault),
  clientStatusListen: VARIABLES.statusListen.clientDefault,
  clientRequestTimeoutMs: VARIABLES.requestTimeoutMs.clientDefault,
} as const;

/**
 * The defaults of the two budgets that depend on MTLS_MAX_CONNECTIONS: a quarter of it each, at
 * least 1. Unauthenticated connections get a quarter so that verified callers keep three quarters
 * however many connections strangers open; one client identity may hold a quarter, so that it
 * takes three identities at their quota to fill the verified budget, and idle connections are
 * reclaimed for the others before that.
 */
export function defaultConnectionBudgets(maxConnections: number): {
  maxUnauthenticatedConnections: number;
  maxConnectionsPerClient: number;
} {
  const quarter = Math.max(1, Math.floor(maxConnections / 4));
  return { maxUnauthenticatedConnections: quarter, maxConnectionsPerClient: quarter };
}

/** mTLS endpoints of the server. */
export const ROUTES = {
  whoami: "/v1/whoami",
  echo: "/v1/echo",
} as const;

/** Plain-HTTP status endpoints of both services. */
export const STATUS_ROUTES = {
  healthz: "/healthz",
  readyz: "/readyz",
  metrics: "/metrics",
} as const;

/** The fixed, non-root numeric user the image runs as; delivered identity files are owned by it. */
export const SERVICE_UID = 10001;
export const SERVICE_GID = 10001;

/**
 * The image's health check: the services/Dockerfile HEALTHCHECK and the containers' and swarm
 * services' own (test/components/healthcheck-contract.test.ts keeps the Dockerfile in step). Exec
 * form, as the image has no shell; healthy = /readyz answers 200 on the status listener.
 */
export const HEALTHCHECK = {
  command: ["node", "/app/src/healthcheck.js"],
  intervalSeconds: 5,
  timeoutSeconds: 3,
  startPeriodSeconds: 10,
  retries: 3,
} as const;

/** Roles the image's entrypoint accepts as its first argument. */
export const ROLES = ["server", "client"] as const;
export type Role = (typeof ROLES)[number];
