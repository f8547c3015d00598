/**
 * Before a proxy is measured, it must refuse a caller without a client certificate: a peer that
 * accepted anonymous callers would be measured doing less work than ours (no client verification)
 * and would not be the peer the targets name. The probe connects with TLS but no certificate, sends
 * an HTTP request, and reads what comes back:
 *
 * - refused: the connection fails or closes with nothing read (TLS 1.3 sends the refusal as an alert
 *   after the client's side of the handshake), or the answer is an HTTP 4xx/5xx (nginx answers 400
 *   "No required SSL certificate was sent");
 * - accepted: anything else (a 2xx/3xx answer, or the request echoed back by a tunnel's upstream).
 */
import { readFileSync } from "node:fs";
import { connect } from "node:tls";
import { tlsPolicyOptions } from "../../services/src/tls-policy.ts";

export interface ProbeOutcome {
  refused: boolean;
  /** How, in a few words: the TLS error code, "closed", or the HTTP status line. */
  how: string;
}

const REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

export function probeWithoutClientCertificate(port: number, caFile: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    const decide = (outcome: ProbeOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    const socket = connect({
      host: "127.0.0.1",
      port,
      ca: readFileSync(caFile),
      servername: "localhost",
      ...tlsPolicyOptions("modern"),
    });
    socket.once("secureConnect", () => socket.write(REQUEST));
    socket.on("data", (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const head = received.toString("latin1");
      const lineEnd = head.indexOf("\r\n");
      if (lineEnd < 0 && received.length < 64) return;
      const statusLine = lineEnd < 0 ? head.slice(0, 64) : head.slice(0, lineEnd);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
      decide({ refused: status !== null && Number(status[1]) >= 400, how: statusLine });
    });
    socket.once("error", (error: NodeJS.ErrnoException) =>
      decide({ refused: received.length === 0, how: error.code ?? error.message }),
    );
    socket.once("close", () => decide({ refused: received.length === 0, how: "closed" }));
  });
}

/** Throws, naming the peer, unless it refuses a caller without a client certificate. */
export async function requireClientVerification(what: string, port: number, caFile: string): Promise<string> {
  const outcome = await probeWithoutClientCertificate(port, caFile);
  if (!outcome.refused)
    throw new Error(
      `${what} on port ${port} accepted a caller without a client certificate (${outcome.how}): refusing to measure a peer that does not verify clients`,
    );
  return outcome.how;
}
