/**
 * Configuration of the services from the environment (services/src/config.ts, env-reader.ts):
 * defaults, one sentence per problem naming the variable and value, every problem at once, and
 * the identity-wait rule (wait at the delivered paths only, unless the wait is set).
 */
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  type Env,
  parseClientConfig,
  parseListenAddress,
  parseServerConfig,
} from "../../../services/src/config.ts";

/** The problems a parse reports (fails the test if it reports none). */
function problems(parse: () => unknown): readonly string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const server = (env: Env) => problems(() => parseServerConfig(env));
const client = (env: Env, args: string[] = []) => problems(() => parseClientConfig(env, args));

describe("configuration", () => {
  it("applies the contract's defaults", () => {
    const config = parseServerConfig({});
    expect(config).toMatchObject({
      listen: { host: "0.0.0.0", port: 8443 },
      statusListen: { host: "127.0.0.1", port: 9090 },
      tlsPolicy: "modern",
      allowedClients: [],
      identityWaitMs: 60_000,
      identity: { certFile: "/etc/mtls/tls.crt", keyFile: "/etc/mtls/tls.key", caFile: "/etc/mtls/ca.crt" },
    });
    expect(parseClientConfig({}, []).statusListen.port).toBe(9091);
    expect(parseClientConfig({ MTLS_SERVER_URL: "https://10.0.0.5:8443" }, []).serverName).toBe("10.0.0.5");
  });

  it("names the variable and the value in every error", () => {
    expect(server({ MTLS_LISTEN: "8443" })).toEqual([
      'MTLS_LISTEN="8443" is not a listen address: expected host:port, e.g. 0.0.0.0:8443',
    ]);
    expect(server({ MTLS_MAX_BODY_BYTES: "1MB" })).toEqual([
      'MTLS_MAX_BODY_BYTES="1MB" is not a whole number',
    ]);
    expect(server({ MTLS_ACCESS_LOG: "maybe" })).toEqual([
      'MTLS_ACCESS_LOG="maybe" is not valid: expected on or off',
    ]);
    expect(client({ MTLS_SERVER_URL: "http://x:80" })).toEqual([
      'MTLS_SERVER_URL="http://x:80" must use https://',
    ]);
    expect(client({ MTLS_SERVER_URL: "not a url" })).toEqual([
      'MTLS_SERVER_URL="not a url" is not a URL: expected e.g. https://mtls-server:8443',
    ]);
    expect(client({}, ["--twice"])).toEqual(['unknown argument "--twice": the client accepts only --once']);
  });

  it("reports every bad variable at once, in the order they are read", () => {
    expect(server({ MTLS_TLS_POLICY: "tls10", MTLS_MAX_CONNECTIONS: "-1", MTLS_LISTEN: "x" })).toEqual([
      'MTLS_TLS_POLICY="tls10" is not a TLS policy: expected modern or intermediate',
      'MTLS_LISTEN="x" is not a listen address: expected host:port, e.g. 0.0.0.0:8443',
      "MTLS_MAX_CONNECTIONS=-1 is too small: expected a whole number of at least 1",
    ]);
    expect(
      client({ MTLS_SERVER_URL: "ftp://x", MTLS_INTERVAL_MS: "soon", MTLS_STATUS_LISTEN: "[::1:9" }, ["-x"]),
    ).toHaveLength(4);
  });

  it("says that a port is out of range, for a listen address and for the server URL", () => {
    expect(server({ MTLS_LISTEN: "127.0.0.1:99999" })).toEqual([
      'MTLS_LISTEN="127.0.0.1:99999" has port 99999, out of range: expected 0 to 65535',
    ]);
    expect(client({ MTLS_SERVER_URL: "https://localhost:99999" })).toEqual([
      'MTLS_SERVER_URL="https://localhost:99999" has port 99999, out of range: expected 1 to 65535',
    ]);
    expect(client({ MTLS_SERVER_URL: "https://[::1]:70000/x" })).toEqual([
      'MTLS_SERVER_URL="https://[::1]:70000/x" has port 70000, out of range: expected 1 to 65535',
    ]);
  });

  it("says which bound a whole number misses", () => {
    expect(server({ MTLS_MAX_CONNECTIONS: "0" })).toEqual([
      "MTLS_MAX_CONNECTIONS=0 is too small: expected a whole number of at least 1",
    ]);
    expect(server({ MTLS_RELOAD_DEBOUNCE_MS: "70000" })).toEqual([
      "MTLS_RELOAD_DEBOUNCE_MS=70000 is out of range: expected a whole number from 0 to 60000",
    ]);
  });

  it("blames MTLS_STATUS_LISTEN when the status listener takes the port of MTLS_LISTEN", () => {
    expect(server({ MTLS_STATUS_LISTEN: "127.0.0.1:8443" })).toEqual([
      "MTLS_STATUS_LISTEN=127.0.0.1:8443 takes the port of MTLS_LISTEN=0.0.0.0:8443: " +
        "give the status listener a port of its own (default 127.0.0.1:9090)",
    ]);
    expect(server({ MTLS_LISTEN: "127.0.0.1:9000", MTLS_STATUS_LISTEN: ":9000" })).toHaveLength(1);
    // Different hosts, or port 0 (a free port each), do not clash.
    expect(
      parseServerConfig({ MTLS_LISTEN: "127.0.0.1:9000", MTLS_STATUS_LISTEN: "127.0.0.2:9000" }),
    ).toBeTruthy();
    expect(parseServerConfig({ MTLS_LISTEN: "127.0.0.1:0", MTLS_STATUS_LISTEN: "127.0.0.1:0" })).toBeTruthy();
  });

  it("reads IPv6 and all-interface listen addresses", () => {
    expect(parseListenAddress("X", "[::1]:9090")).toEqual({ host: "::1", port: 9090 });
    expect(parseListenAddress("X", ":8443")).toEqual({ host: "0.0.0.0", port: 8443 });
    expect(() => parseListenAddress("X", "host:70000")).toThrow(ConfigError);
  });

  it("splits the allow-list on commas and trims it", () => {
    expect(parseServerConfig({ MTLS_ALLOWED_CLIENTS: " client-a, ,spiffe://x/y " }).allowedClients).toEqual([
      "client-a",
      "spiffe://x/y",
    ]);
    expect(parseServerConfig({ MTLS_ALLOWED_CLIENTS: "" }).allowedClients).toEqual([]);
  });

  it("refuses an allow-list of only commas and blanks instead of letting everyone in", () => {
    expect(server({ MTLS_ALLOWED_CLIENTS: " , ," })).toEqual([
      'MTLS_ALLOWED_CLIENTS=" , ," names no client: list common names or URI SANs separated by commas, ' +
        "or leave it unset to allow every certificate of the CA bundle",
    ]);
  });
});

describe("waiting for identity files", () => {
  it("waits 60 s by default at the delivered paths under /etc/mtls", () => {
    expect(parseServerConfig({ MTLS_KEY_FILE: "/etc/mtls/other.key" }).identityWaitMs).toBe(60_000);
  });

  it("does not wait for a path the user typed, unless MTLS_IDENTITY_WAIT_MS says so", () => {
    expect(parseServerConfig({ MTLS_KEY_FILE: "./my.key" }).identityWaitMs).toBe(0);
    expect(parseClientConfig({ MTLS_CERT_FILE: "/home/me/tls.crt" }, []).identityWaitMs).toBe(0);
    expect(
      parseServerConfig({ MTLS_KEY_FILE: "./my.key", MTLS_IDENTITY_WAIT_MS: "5000" }).identityWaitMs,
    ).toBe(5000);
    expect(parseServerConfig({ MTLS_IDENTITY_WAIT_MS: "0" }).identityWaitMs).toBe(0);
  });
});

describe("connection budgets and bounds", () => {
  it("splits MTLS_MAX_CONNECTIONS into a quarter for handshakes, and a quarter per client, by default", () => {
    expect(parseServerConfig({})).toMatchObject({
      maxConnections: 1024,
      maxUnauthenticatedConnections: 256,
      maxConnectionsPerClient: 256,
      maxConnectionAgeMs: 3_600_000,
    });
    expect(parseServerConfig({ MTLS_MAX_CONNECTIONS: "100" })).toMatchObject({
      maxUnauthenticatedConnections: 25,
      maxConnectionsPerClient: 25,
    });
    expect(parseServerConfig({ MTLS_MAX_CONNECTIONS: "2" })).toMatchObject({
      maxUnauthenticatedConnections: 1,
      maxConnectionsPerClient: 1,
    });
    // A default quota never exceeds what verified callers can hold.
    expect(
      parseServerConfig({ MTLS_MAX_CONNECTIONS: "8", MTLS_MAX_UNAUTHENTICATED_CONNECTIONS: "7" })
        .maxConnectionsPerClient,
    ).toBe(1);
  });

  it("refuses each new variable that is not a whole number, or below 1, with one line each", () => {
    expect(
      server({
        MTLS_MAX_UNAUTHENTICATED_CONNECTIONS: "lots",
        MTLS_MAX_CONNECTIONS_PER_CLIENT: "0",
        MTLS_MAX_CONNECTION_AGE_MS: "1h",
      }),
    ).toEqual([
      'MTLS_MAX_UNAUTHENTICATED_CONNECTIONS="lots" is not a whole number',
      "MTLS_MAX_CONNECTIONS_PER_CLIENT=0 is too small: expected a whole number of at least 1",
      'MTLS_MAX_CONNECTION_AGE_MS="1h" is not a whole number',
    ]);
    expect(server({ MTLS_MAX_UNAUTHENTICATED_CONNECTIONS: "-3" })).toEqual([
      "MTLS_MAX_UNAUTHENTICATED_CONNECTIONS=-3 is too small: expected a whole number of at least 1",
    ]);
    expect(server({ MTLS_UPSTREAM: "tcp://127.0.0.1:5432", MTLS_TUNNEL_CLOSE_GRACE_MS: "0" })).toEqual([
      "MTLS_TUNNEL_CLOSE_GRACE_MS=0 is out of range: expected 1 or more",
    ]);
    expect(
      client({
        MTLS_LOCAL_LISTEN: "127.0.0.1:15001",
        MTLS_LOCAL_MAX_CONNECTIONS: "many",
        MTLS_TUNNEL_CLOSE_GRACE_MS: "-1",
      }),
    ).toEqual([
      'MTLS_LOCAL_MAX_CONNECTIONS="many" is not a whole number',
      'MTLS_TUNNEL_CLOSE_GRACE_MS="-1" is not a whole number',
    ]);
  });

  it("refuses an unauthenticated budget or a per-client quota that does not fit in the cap", () => {
    expect(server({ MTLS_MAX_CONNECTIONS: "100", MTLS_MAX_UNAUTHENTICATED_CONNECTIONS: "100" })).toEqual([
      "MTLS_MAX_UNAUTHENTICATED_CONNECTIONS=100 is not below MTLS_MAX_CONNECTIONS=100: " +
        "verified callers get the rest of the cap; expected at most 99",
    ]);
    expect(server({ MTLS_MAX_CONNECTIONS_PER_CLIENT: "1000" })).toEqual([
      "MTLS_MAX_CONNECTIONS_PER_CLIENT=1000 is larger than the 768 connections verified callers can hold " +
        "(MTLS_MAX_CONNECTIONS=1024 minus MTLS_MAX_UNAUTHENTICATED_CONNECTIONS=256): expected at most 768",
    ]);
    expect(server({ MTLS_MAX_CONNECTIONS: "1" })).toEqual([
      "MTLS_MAX_CONNECTIONS=1 leaves no connection for verified callers beside the 1 for handshakes " +
        "(MTLS_MAX_UNAUTHENTICATED_CONNECTIONS): expected at least 2",
    ]);
  });
});
