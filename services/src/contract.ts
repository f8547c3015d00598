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
 * reloaded without a restart (issue 10). Its own constant, not an IDENTITY_FILES entry: it is not
 * part of the identity set that must be valid together.
 */
export const POLICY_FILE = "policy.json";

/** Environment variables read by the services, with their defaults. */
export const ENV = {
  certFile: "MTLS_CERT_FILE",
  keyFile: "MTLS_KEY_FILE",
  caFile: "MTLS_CA_FILE",
  /** The server's reloadable access policy (JSON); absent = no file policy. */
  policyFile: "MTLS_POLICY_FILE",
  listen: "MTLS_LISTEN",
  statusListen: "MTLS_STATUS_LISTEN",
  allowedClients: "MTLS_ALLOWED_CLIENTS",
  tlsPolicy: "MTLS_TLS_POLICY",
  serverUrl: "MTLS_SERVER_URL",
  serverName: "MTLS_SERVER_NAME",
  intervalMs: "MTLS_INTERVAL_MS",
  // Limits and timing of both services (see docs/SERVICES.md for what each one bounds).
  handshakeTimeoutMs: "MTLS_HANDSHAKE_TIMEOUT_MS",
  headersTimeoutMs: "MTLS_HEADERS_TIMEOUT_MS",
  requestTimeoutMs: "MTLS_REQUEST_TIMEOUT_MS",
  keepAliveTimeoutMs: "MTLS_KEEPALIVE_TIMEOUT_MS",
  maxConnections: "MTLS_MAX_CONNECTIONS",
  maxBodyBytes: "MTLS_MAX_BODY_BYTES",
  shutdownTimeoutMs: "MTLS_SHUTDOWN_TIMEOUT_MS",
  /** How long to wait for identity files that are absent at start before giving up (0 = do not wait). */
  identityWaitMs: "MTLS_IDENTITY_WAIT_MS",
  reloadDebounceMs: "MTLS_RELOAD_DEBOUNCE_MS",
  /** Safety-net re-check of the identity files for file systems whose change events get lost (0 = off). */
  reloadPollMs: "MTLS_RELOAD_POLL_MS",
  /** `on` (default) or `off`: one log line per request. */
  accessLog: "MTLS_ACCESS_LOG",
  backoffInitialMs: "MTLS_BACKOFF_INITIAL_MS",
  backoffMaxMs: "MTLS_BACKOFF_MAX_MS",
  // --- sidecar modes (issue 9; parsed in sidecar-config.ts) ---
  /** Server: `http://host:port` (reverse proxy) or `tcp://host:port` (TCP tunnel); unset = built-in endpoints. */
  upstream: "MTLS_UPSTREAM",
  /** Server: the upstream must accept and answer within this much inactivity (else 504 / closed). */
  upstreamTimeoutMs: "MTLS_UPSTREAM_TIMEOUT_MS",
  /** Server, tcp:// and client tunnel: a tunnel with no bytes either way for this long is closed (0 = never). */
  tunnelIdleTimeoutMs: "MTLS_TUNNEL_IDLE_TIMEOUT_MS",
  /** Server, http://: `on` adds RFC 9440 Client-Cert (the DER, base64) beside x-forwarded-client-cert. */
  upstreamClientCert: "MTLS_UPSTREAM_CLIENT_CERT",
  /** Client: `host:port` of a plain TCP listener whose connections are carried over mTLS. */
  localListen: "MTLS_LOCAL_LISTEN",
  /** Client: `1` allows MTLS_LOCAL_LISTEN on an address other than loopback. */
  localListenAny: "MTLS_LOCAL_LISTEN_ANY",
  // --- end sidecar modes ---
} as const;

export const DEFAULT_SERVER_PORT = 8443;
export const DEFAULT_STATUS_PORT = 9090;
/** The client's status port: a different default so that server and client can share one host. */
export const DEFAULT_CLIENT_STATUS_PORT = 9091;
/** The server's alias on the Docker network, and a DNS SAN of its certificate, unless configured. */
export const DEFAULT_SERVER_NAME = "mtls-server";

export const TLS_POLICIES = ["modern", "intermediate"] as const;
export type TlsPolicy = (typeof TLS_POLICIES)[number];

export const DEFAULTS = {
  certFile: `${IDENTITY_DIR}/${IDENTITY_FILES.cert}`,
  keyFile: `${IDENTITY_DIR}/${IDENTITY_FILES.key}`,
  caFile: `${IDENTITY_DIR}/${IDENTITY_FILES.ca}`,
  policyFile: `${IDENTITY_DIR}/${POLICY_FILE}`,
  listen: `0.0.0.0:${DEFAULT_SERVER_PORT}`,
  statusListen: `127.0.0.1:${DEFAULT_STATUS_PORT}`,
  clientStatusListen: `127.0.0.1:${DEFAULT_CLIENT_STATUS_PORT}`,
  allowedClients: "",
  tlsPolicy: "modern" as TlsPolicy,
  serverUrl: `https://${DEFAULT_SERVER_NAME}:${DEFAULT_SERVER_PORT}`,
  intervalMs: 5000,
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  /** Server: a whole request, body included. Client: one call, connect to last byte. */
  requestTimeoutMs: 30_000,
  clientRequestTimeoutMs: 10_000,
  /** Above the client's default interval, so its keep-alive connection is reused between rounds. */
  keepAliveTimeoutMs: 65_000,
  maxConnections: 1024,
  maxBodyBytes: 1024 * 1024,
  shutdownTimeoutMs: 10_000,
  identityWaitMs: 60_000,
  reloadDebounceMs: 300,
  reloadPollMs: 10_000,
  accessLog: "on",
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  upstreamTimeoutMs: 30_000,
  tunnelIdleTimeoutMs: 3_600_000,
  upstreamClientCert: "off",
} as const;

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

/** Roles the image's entrypoint accepts as its first argument. */
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

export const ROLES = ["server", "client"] as const;
export type Role = (typeof ROLES)[number];
