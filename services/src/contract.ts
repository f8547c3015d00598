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

/** Environment variables read by the services, with their defaults. */
export const ENV = {
  certFile: "MTLS_CERT_FILE",
  keyFile: "MTLS_KEY_FILE",
  caFile: "MTLS_CA_FILE",
  listen: "MTLS_LISTEN",
  statusListen: "MTLS_STATUS_LISTEN",
  allowedClients: "MTLS_ALLOWED_CLIENTS",
  tlsPolicy: "MTLS_TLS_POLICY",
  serverUrl: "MTLS_SERVER_URL",
  serverName: "MTLS_SERVER_NAME",
  intervalMs: "MTLS_INTERVAL_MS",
} as const;

export const DEFAULT_SERVER_PORT = 8443;
export const DEFAULT_STATUS_PORT = 9090;
/** The server's alias on the Docker network, and a DNS SAN of its certificate, unless configured. */
export const DEFAULT_SERVER_NAME = "mtls-server";

export const TLS_POLICIES = ["modern", "intermediate"] as const;
export type TlsPolicy = (typeof TLS_POLICIES)[number];

export const DEFAULTS = {
  certFile: `${IDENTITY_DIR}/${IDENTITY_FILES.cert}`,
  keyFile: `${IDENTITY_DIR}/${IDENTITY_FILES.key}`,
  caFile: `${IDENTITY_DIR}/${IDENTITY_FILES.ca}`,
  listen: `0.0.0.0:${DEFAULT_SERVER_PORT}`,
  statusListen: `127.0.0.1:${DEFAULT_STATUS_PORT}`,
  allowedClients: "",
  tlsPolicy: "modern" as TlsPolicy,
  serverUrl: `https://${DEFAULT_SERVER_NAME}:${DEFAULT_SERVER_PORT}`,
  intervalMs: 5000,
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
export const ROLES = ["server", "client"] as const;
export type Role = (typeof ROLES)[number];
