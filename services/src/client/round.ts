/**
 * One client round: GET /v1/whoami, then POST /v1/echo with a small body that must come back
 * unchanged. The https.Agent carries the identity and keeps connections (and TLS sessions) alive
 * between rounds. The server certificate is verified against the CA bundle and the expected name.
 */
import type { IncomingMessage } from "node:http";
import { Agent, request } from "node:https";
import { isIP } from "node:net";
import { checkServerIdentity, createSecureContext, type PeerCertificate, type TLSSocket } from "node:tls";
import type { TlsPolicy } from "../contract.ts";
import { ROUTES } from "../contract.ts";
import type { Identity } from "../identity/validate.ts";
import { tlsPolicyOptions } from "../tls-policy.ts";
import { ResponseError, RoundTimeoutError } from "./failure-reasons.ts";

/**
 * The agent carries the identity, the policy and the server-name check. The name check must sit
 * on the agent: given per request, it makes Node discard the connection after each response.
 */
export function createAgent(identity: Identity, policy: TlsPolicy, serverName: string): Agent {
  return new Agent({
    keepAlive: true,
    // Calls are sequential: one socket makes a call wait for it rather than open a second
    // connection in the moment between a response's end and its socket's return to the pool.
    maxSockets: 1,
    // One prepared context per identity (the agent is replaced on reload). Given as cert/key
    // options instead, the PEM text would become part of the agent's pool keys (and NODE_DEBUG).
    secureContext: createSecureContext({
      cert: identity.chainPem,
      key: identity.keyPem,
      ca: identity.caPem,
      ...tlsPolicyOptions(policy),
    }),
    // SNI carries host names only; the certificate check covers IP addresses too.
    servername: isIP(serverName) ? undefined : serverName,
    checkServerIdentity: (_host, certificate) => checkServerIdentity(serverName, certificate),
  });
}

export interface RoundOptions {
  agent: Agent;
  url: URL;
  serverName: string;
  timeoutMs: number;
  round: number;
}

export interface ServerView {
  commonName: string | null;
  serialNumber: string;
  fingerprint256: string;
  notAfter: string;
  protocol: string | null;
  cipher: string | null;
  sessionReused: boolean;
  connectionReused: boolean;
}

export interface RoundResult {
  /** What the server says about us (its /v1/whoami answer). */
  whoami: Record<string, unknown>;
  /** What we saw of the server's certificate and the connection. */
  server: ServerView;
  echoBytes: number;
  durationMs: number;
}

interface Response {
  status: number;
  body: Buffer;
  server: ServerView;
}

/** Failure details the caller needs to put the error into words. */
export interface CallState {
  handshakeDone: boolean;
  reusedSocket?: boolean;
}

/** Sockets that carried a call before: the next call on one reuses the connection. */
const usedSockets = new WeakSet<object>();

/** The server certificate last seen in a full handshake, per agent (see serverView). */
const lastCertificate = new WeakMap<Agent, PeerCertificate>();

/**
 * What the client saw of the server. A resumed TLS 1.3 session shows no peer certificate on the
 * client side; the one of the full handshake that issued the session is reported then (a server
 * whose identity changed cannot resume: its new context has new ticket keys).
 */
function serverView(agent: Agent, socket: TLSSocket, reused: boolean): ServerView {
  let certificate: PeerCertificate = socket.getPeerCertificate(false);
  if (certificate && Object.keys(certificate).length > 0) lastCertificate.set(agent, certificate);
  else certificate = lastCertificate.get(agent) ?? certificate;
  const commonName = certificate.subject?.CN;
  return {
    commonName: (Array.isArray(commonName) ? commonName[0] : commonName) ?? null,
    serialNumber: (certificate.serialNumber ?? "").toUpperCase(),
    fingerprint256: certificate.fingerprint256,
    notAfter: certificate.valid_to ? new Date(certificate.valid_to).toISOString() : "",
    protocol: socket.getProtocol(),
    cipher: socket.getCipher()?.name ?? null,
    sessionReused: socket.isSessionReused(),
    connectionReused: reused,
  };
}

function call(
  options: RoundOptions,
  method: "GET" | "POST",
  path: string,
  state: CallState,
  body?: Buffer,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const req = request({
      agent: options.agent,
      host: options.url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: options.url.port || 443,
      path,
      method,
      servername: isIP(options.serverName) ? undefined : options.serverName,
      headers: body
        ? { "content-type": "application/json", "content-length": body.length }
        : { accept: "application/json" },
    });
    const timer = setTimeout(() => req.destroy(new RoundTimeoutError()), options.timeoutMs);
    req.on("socket", (socket) => {
      // req.reusedSocket misses a socket handed over to a queued request, so track sockets here.
      state.reusedSocket = usedSockets.has(socket);
      usedSockets.add(socket);
      if (state.reusedSocket) state.handshakeDone = true;
      else socket.once("secureConnect", () => (state.handshakeDone = true));
    });
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on("response", (res: IncomingMessage) => {
      // Read now: once the body ends, the socket goes back to the agent and res.socket is null.
      const server = serverView(options.agent, res.socket as TLSSocket, state.reusedSocket === true);
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          server,
        });
      });
    });
    req.end(body);
  });
}

/**
 * A keep-alive connection the server has just closed fails the next request with a reset; that is
 * no failure of the round, so such a request is repeated once on a new connection (both calls are
 * idempotent). Any other error is the round's.
 */
async function callOnce(
  options: RoundOptions,
  method: "GET" | "POST",
  path: string,
  state: CallState,
  body?: Buffer,
): Promise<Response> {
  const attempt: CallState = { handshakeDone: false };
  try {
    return await call(options, method, path, attempt, body);
  } catch (error) {
    const code = (error as { code?: string }).code;
    const staleKeepAlive = attempt.reusedSocket === true && (code === "ECONNRESET" || code === "EPIPE");
    if (!staleKeepAlive) {
      state.handshakeDone = attempt.handshakeDone;
      throw error;
    }
    const retry: CallState = { handshakeDone: false };
    try {
      return await call(options, method, path, retry, body);
    } finally {
      state.handshakeDone = retry.handshakeDone;
    }
  }
}

function parseJson(body: Buffer, what: string): Record<string, unknown> {
  try {
    return JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new ResponseError(200, `the server's ${what} answer is not JSON`);
  }
}

function refusal(response: Response, path: string): ResponseError {
  let message = `HTTP ${response.status} from ${path}`;
  let code: string | undefined;
  try {
    const parsed = JSON.parse(response.body.toString("utf8")) as {
      error?: { message?: string; code?: unknown };
    };
    if (parsed.error?.message) message += `: ${parsed.error.message}`;
    if (typeof parsed.error?.code === "string") code = parsed.error.code;
  } catch {
    // Not JSON: a one-line text answer (the server's 400 for a rejected client certificate) is
    // quoted as it is; anything longer keeps the status line alone.
    const text = response.body.toString("utf8").trim();
    if (text !== "" && text.length <= 200 && !text.includes("\n")) message += `: ${text}`;
  }
  return new ResponseError(response.status, message, code);
}

export async function runRound(options: RoundOptions, state: CallState): Promise<RoundResult> {
  const started = performance.now();
  const whoami = await callOnce(options, "GET", ROUTES.whoami, state);
  if (whoami.status !== 200) throw refusal(whoami, ROUTES.whoami);
  const identity = parseJson(whoami.body, ROUTES.whoami);
  const payload = Buffer.from(JSON.stringify({ round: options.round, sentAt: new Date().toISOString() }));
  const echo = await callOnce(options, "POST", ROUTES.echo, state, payload);
  if (echo.status !== 200) throw refusal(echo, ROUTES.echo);
  if (!echo.body.equals(payload)) {
    throw new ResponseError(
      200,
      `${ROUTES.echo} returned ${echo.body.length} bytes that differ from the ${payload.length} sent`,
    );
  }
  return {
    whoami: identity,
    server: echo.server,
    echoBytes: payload.length,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
  };
}
