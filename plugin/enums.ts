/**
 * The closed sets of values the multi-language components take, as enums every Pulumi language
 * gets: the `as const` object pattern, which the SDK's schema analyzer turns into a schema enum
 * (it refuses the library's union types). Each has the same values as the library's list of that
 * name; test/plugin/schema.test.ts keeps them equal.
 */

/** What a service runs as: the image's first argument. */
export const ServiceRole = {
  /** The mTLS server: accepts callers whose certificate chains to the CA bundle. */
  Server: "server",
  /** An mTLS client: calls a server with its client certificate. */
  Client: "client",
} as const;
export type ServiceRole = (typeof ServiceRole)[keyof typeof ServiceRole];

/** A server's TLS policy. */
export const TlsPolicy = {
  /** TLS 1.3 only. */
  Modern: "modern",
  /** TLS 1.2 with forward-secret AEAD suites, and TLS 1.3. */
  Intermediate: "intermediate",
} as const;
export type TlsPolicy = (typeof TlsPolicy)[keyof typeof TlsPolicy];

/** Docker's restart policy of a container. */
export const RestartPolicy = {
  /** Never restarted. */
  No: "no",
  /** Restarted when it exits with a non-zero code. */
  OnFailure: "on-failure",
  /** Always restarted, also after the Docker daemon restarts (the components' default). */
  Always: "always",
  /** Restarted unless it was stopped (a daemon recovering from a crash counts as stopping it). */
  UnlessStopped: "unless-stopped",
} as const;
export type RestartPolicy = (typeof RestartPolicy)[keyof typeof RestartPolicy];

/** What a server sidecar speaks to the app behind it. */
export const WorkloadProtocol = {
  /** A reverse proxy that adds `x-forwarded-client-cert` with the caller's identity. */
  Http: "http",
  /** Bytes piped both ways. */
  Tcp: "tcp",
} as const;
export type WorkloadProtocol = (typeof WorkloadProtocol)[keyof typeof WorkloadProtocol];
