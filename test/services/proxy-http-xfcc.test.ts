/**
 * MTLS_UPSTREAM=http://: an authenticated caller's request reaches the upstream with method, path,
 * query, body and end-to-end headers; the server adds x-forwarded-client-cert (Hash, Subject, URI,
 * By as Envoy writes them, computed here independently with openssl and SHA-256 of the DER),
 * removes any identity header the caller forged, drops hop-by-hop headers both ways and appends
 * X-Forwarded-For / sets X-Forwarded-Proto.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IdentityFiles, removeDir, writeIdentity } from "../support/pki-fixtures/files.ts";
import { createTestPki, issueLeaf, type Leaf, type TestPki } from "../support/pki-fixtures/pki.ts";
import { type RunningServer, startServer, stopAllServices } from "./support/service-process.ts";
import { metric } from "./support/status.ts";
import { type Caller, callServer } from "./support/tls-client.ts";
import { type HttpUpstream, startHttpUpstream } from "./support/upstreams.ts";

const SERVER_URI = "spiffe://example.org/ns/prod/sa/api";
const CLIENT_URI = "spiffe://example.org/ns/prod/sa/web";

let pki: TestPki;
let files: IdentityFiles;
let upstream: HttpUpstream;
let server: RunningServer;
let awkward: Leaf;

const callerOf = (leaf: Leaf): Caller => ({ ca: pki.caPem, cert: leaf.chainPem, key: leaf.keyPem });

function derOf(pem: string): Buffer {
  const body = pem.split("-----END CERTIFICATE-----")[0]!.replace(/-----BEGIN CERTIFICATE-----|\s/g, "");
  return Buffer.from(body, "base64");
}

/** The subject as OpenSSL prints it in RFC 2253 form, the way Envoy does. */
function opensslSubject(pem: string): string {
  const out = execFileSync("openssl", ["x509", "-noout", "-subject", "-nameopt", "RFC2253"], { input: pem });
  return out
    .toString("utf8")
    .trim()
    .replace(/^subject=/, "");
}

beforeAll(async () => {
  pki = await createTestPki({ clientUris: [CLIENT_URI] });
  const serverLeaf = await issueLeaf(pki.issuing, {
    commonName: "mtls-server",
    purpose: "server",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    uris: [SERVER_URI],
  });
  awkward = await issueLeaf(pki.issuing, {
    // Escaped for the fixture's DN parser; the certificate's CN is: Acme, "Widgets"; Inc
    commonName: 'Acme\\, \\"Widgets\\"\\; Inc',
    purpose: "client",
    dnsNames: ["a.example", "b.example"],
  });
  files = await writeIdentity({ cert: serverLeaf.chainPem, key: serverLeaf.keyPem, ca: pki.caPem });
  upstream = await startHttpUpstream();
  server = await startServer({
    identity: files,
    env: { MTLS_UPSTREAM: `http://127.0.0.1:${upstream.port}`, MTLS_UPSTREAM_CLIENT_CERT: "on" },
  });
});

afterAll(async () => {
  await stopAllServices();
  await upstream.close();
  await removeDir(files.dir);
});

describe("reverse proxy: identity headers", () => {
  it("adds x-forwarded-client-cert with the hash of the certificate DER, its subject, URI SAN and our own URI SAN", async () => {
    const result = await callServer({
      port: server.port,
      caller: callerOf(pki.client),
      path: "/orders?id=7",
    });
    expect(result.status).toBe(200);
    const seen = upstream.requests.at(-1)!;
    const hash = createHash("sha256").update(derOf(pki.client.certPem)).digest("hex");
    const subject = opensslSubject(pki.client.certPem);
    expect(subject).toBe("O=mtls-pki tests,CN=client-a");
    // With MTLS_UPSTREAM_CLIENT_CERT=on, Cert carries the URL-encoded PEM.
    expect(seen.headers["x-forwarded-client-cert"]).toBe(
      `By=${SERVER_URI};Hash=${hash};Cert="${encodeURIComponent(pki.client.certPem)}";Subject="${subject}";URI=${CLIENT_URI}`,
    );
    // RFC 9440 Client-Cert: the DER, base64, between colons.
    expect(seen.headers["client-cert"]).toBe(`:${derOf(pki.client.certPem).toString("base64")}:`);
  });

  it("quotes and escapes a subject with commas, quotes and semicolons, and lists every DNS SAN", async () => {
    await callServer({ port: server.port, caller: callerOf(awkward) });
    const xfcc = String(upstream.requests.at(-1)!.headers["x-forwarded-client-cert"]);
    const subject = opensslSubject(awkward.certPem);
    expect(subject).toBe('O=mtls-pki tests,CN=Acme\\, \\"Widgets\\"\\; Inc');
    const quoted = `"${subject.replace(/["\\]/g, (char) => `\\${char}`)}"`;
    const hash = createHash("sha256").update(derOf(awkward.certPem)).digest("hex");
    expect(xfcc).toBe(
      `By=${SERVER_URI};Hash=${hash};Cert="${encodeURIComponent(awkward.certPem)}";Subject=${quoted};DNS=a.example;DNS=b.example`,
    );
  });

  it("removes an x-forwarded-client-cert and a Client-Cert the caller forged", async () => {
    await callServer({
      port: server.port,
      caller: callerOf(pki.client),
      headers: {
        "x-forwarded-client-cert": "By=spiffe://evil;Hash=00;URI=spiffe://example.org/ns/prod/sa/admin",
        "client-cert": ":Zm9yZ2Vk:",
        "client-cert-chain": ":Zm9yZ2Vk:",
      },
    });
    const seen = upstream.requests.at(-1)!;
    const xfccLines = seen.rawHeaders.filter(
      (_, index) => index % 2 === 0 && /^x-forwarded-client-cert$/i.test(seen.rawHeaders[index]!),
    );
    expect(xfccLines).toHaveLength(1);
    expect(String(seen.headers["x-forwarded-client-cert"])).not.toContain("evil");
    expect(String(seen.headers["x-forwarded-client-cert"])).toContain(`URI=${CLIENT_URI}`);
    expect(seen.headers["client-cert"]).not.toBe(":Zm9yZ2Vk:");
    expect(seen.headers["client-cert-chain"]).toBeUndefined();
  });
});

describe("reverse proxy: the request and the answer", () => {
  it("forwards method, path, query, body and end-to-end headers, and the upstream's status and headers back", async () => {
    const result = await callServer({
      port: server.port,
      caller: callerOf(pki.client),
      method: "PUT",
      path: "/v2/items/9?fields=a,b&x=%20y",
      body: "payload",
      headers: { "content-type": "text/plain", "x-request-id": "r-1" },
    });
    expect(result.status).toBe(200);
    const echoed = JSON.parse(result.body) as {
      method: string;
      url: string;
      headers: Record<string, string>;
    };
    expect(echoed.method).toBe("PUT");
    expect(echoed.url).toBe("/v2/items/9?fields=a,b&x=%20y");
    expect(echoed.headers["x-request-id"]).toBe("r-1");
    expect(echoed.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(echoed.headers["content-length"]).toBe("7");
    expect(result.headers["x-upstream"]).toBe("yes");
    expect(result.headers["content-type"]).toBe("application/json");
    expect(result.headers["x-upstream-hop"]).toBeUndefined();
  });

  it("drops hop-by-hop headers and those Connection names; appends X-Forwarded-For, sets X-Forwarded-Proto", async () => {
    await callServer({
      port: server.port,
      caller: callerOf(pki.client),
      headers: {
        connection: "keep-alive, x-hop",
        "x-hop": "secret",
        "keep-alive": "timeout=5",
        te: "trailers",
        "proxy-authorization": "Basic Zm9vOmJhcg==",
        "x-forwarded-for": "203.0.113.9",
        "x-forwarded-proto": "http",
      },
    });
    const seen = upstream.requests.at(-1)!.headers;
    expect(seen["x-hop"]).toBeUndefined();
    expect(seen.te).toBeUndefined();
    expect(seen["proxy-authorization"]).toBeUndefined();
    expect(seen["keep-alive"]).toBeUndefined();
    expect(seen["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("https");
  });

  it("answers an Upgrade (WebSocket) request with 501 rather than forwarding it or hanging", async () => {
    const before = upstream.requests.length;
    const result = await callServer({
      port: server.port,
      caller: callerOf(pki.client),
      path: "/ws",
      headers: { connection: "Upgrade", upgrade: "websocket" },
    });
    expect(result.status).toBe(501);
    expect(JSON.parse(result.body).error.code).toBe("upgrade_not_supported");
    expect(upstream.requests.length).toBe(before);
  });

  it("reuses kept-alive upstream connections and counts requests under route=proxy", async () => {
    const before = upstream.connections();
    const requestsBefore = await metric(server.statusUrl, "mtls_requests_total", {
      route: "proxy",
      status: "200",
    });
    for (let index = 0; index < 5; index++) {
      expect((await callServer({ port: server.port, caller: callerOf(pki.client) })).status).toBe(200);
    }
    expect(upstream.connections() - before).toBeLessThanOrEqual(1);
    expect(await metric(server.statusUrl, "mtls_requests_total", { route: "proxy", status: "200" })).toBe(
      requestsBefore + 5,
    );
  });
});
