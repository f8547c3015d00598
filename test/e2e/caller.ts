/**
 * A caller on the host: calls the published server in a loop, one new TLS connection per call, with
 * credentials it re-reads before every call (so a test can hand it the stack's new outputs after an
 * `up`, as a host tool re-reading them would). Records every outcome with its time; never throws.
 */
import * as https from "node:https";
import type { TLSSocket } from "node:tls";

export interface Credentials {
  certPem: string;
  keyPem: string;
  caPem: string;
}

export interface CallOutcome {
  at: number;
  ok: boolean;
  /** "HTTP 403 revoked", "HTTP 403 forbidden", or the connection error's message. */
  failure?: string;
  /** The error code of a refusal's JSON body (`revoked`, `forbidden`). */
  code?: string;
  /** Serial (upper-case hex) and issuer of the certificate the server presented. */
  serverSerial?: string;
  serverIssuer?: string;
}

export interface Caller {
  readonly outcomes: readonly CallOutcome[];
  readonly calls: number;
  readonly failures: CallOutcome[];
  /** Outcomes from the given time on. */
  since(at: number): CallOutcome[];
  /** Resolves with the first outcome from `after` on that satisfies `check`. */
  next(check: (outcome: CallOutcome) => boolean, after?: number): Promise<CallOutcome>;
  stop(): Promise<void>;
}

export function startCaller(
  url: string,
  credentials: () => Credentials,
  options: { maxVersion?: "TLSv1.2" | "TLSv1.3" } = {},
): Caller {
  const outcomes: CallOutcome[] = [];
  const waiters: Array<{
    check: (o: CallOutcome) => boolean;
    after: number;
    resolve: (o: CallOutcome) => void;
  }> = [];
  let stopped = false;
  const record = (outcome: CallOutcome) => {
    outcomes.push(outcome);
    for (const waiter of [...waiters]) {
      if (outcome.at >= waiter.after && waiter.check(outcome)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(outcome);
      }
    }
  };
  const once = () =>
    new Promise<void>((resolve) => {
      const { certPem, keyPem, caPem } = credentials();
      const request = https.get(
        `${url}/v1/whoami`,
        { cert: certPem, key: keyPem, ca: caPem, agent: false, timeout: 5000, ...options },
        (response) => {
          const peer = (response.socket as TLSSocket).getPeerCertificate();
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            const base = {
              at: Date.now(),
              serverSerial: peer.serialNumber?.toUpperCase(),
              serverIssuer: [peer.issuer?.CN].flat()[0],
            };
            if (response.statusCode === 200) {
              record({ ...base, ok: true });
            } else {
              let code: string | undefined;
              try {
                code = JSON.parse(Buffer.concat(chunks).toString("utf8")).error?.code;
              } catch {}
              record({
                ...base,
                ok: false,
                code,
                failure: `HTTP ${response.statusCode} ${code ?? ""}`.trim(),
              });
            }
            resolve();
          });
        },
      );
      request.on("timeout", () => request.destroy(new Error("timeout")));
      request.on("error", (error) => {
        record({ at: Date.now(), ok: false, failure: error.message });
        resolve();
      });
    });
  const loop = (async () => {
    while (!stopped) {
      await once();
      // Yield to the event loop (the test's own work runs in this process); no pacing intended.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    outcomes,
    get calls() {
      return outcomes.length;
    },
    get failures() {
      return outcomes.filter((o) => !o.ok);
    },
    since: (at) => outcomes.filter((o) => o.at >= at),
    next: (check, after = 0) =>
      new Promise((resolve) => {
        const found = outcomes.find((o) => o.at >= after && check(o));
        if (found) resolve(found);
        else waiters.push({ check, after, resolve });
      }),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
