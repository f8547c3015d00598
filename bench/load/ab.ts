/**
 * ApacheBench with the client certificate (`ab -E`, chain and key in one PEM file): keep-alive
 * `GET /v1/whoami` requests (`-k`), and bulk `POST /v1/echo` over one kept-alive connection.
 */
import type { TlsPolicy } from "../../services/src/contract.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { expectSuccess, runPinned } from "../system/processes.ts";

export interface AbOptions {
  core: number;
  port: number;
  path: string;
  pki: PkiFiles;
  policy: TlsPolicy;
  concurrency: number;
  seconds: number;
  /** POST this file's content (bulk echo); GET otherwise. */
  postFile?: string;
}

export interface AbResult {
  complete: number;
  failed: number;
  non2xx: number;
  seconds: number;
  requestsPerSecond: number;
}

function numberAfter(label: string, text: string): number | undefined {
  const match = new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
}

export function parseAb(stdout: string): AbResult {
  const complete = numberAfter("Complete requests", stdout);
  const seconds = numberAfter("Time taken for tests", stdout);
  if (complete === undefined || seconds === undefined)
    throw new Error(`ab printed no summary:\n${stdout.slice(-800)}`);
  return {
    complete,
    failed: numberAfter("Failed requests", stdout) ?? 0,
    non2xx: numberAfter("Non-2xx responses", stdout) ?? 0,
    seconds,
    requestsPerSecond: complete / seconds,
  };
}

export async function runAb(options: AbOptions): Promise<AbResult> {
  const args = [
    "-q",
    "-k",
    "-c",
    String(options.concurrency),
    // -t alone caps the run at 50000 requests; a later -n lifts the cap, the time limit stays.
    "-t",
    String(options.seconds),
    "-n",
    "100000000",
    "-E",
    options.pki.clientPem,
    "-f",
    options.policy === "modern" ? "TLS1.3" : "TLS1.2",
    ...(options.postFile ? ["-p", options.postFile, "-T", "application/octet-stream"] : []),
    `https://127.0.0.1:${options.port}${options.path}`,
  ];
  const result = parseAb(
    expectSuccess(`ab against port ${options.port}`, await runPinned(options.core, "ab", args)).stdout,
  );
  if (result.complete === 0) throw new Error(`ab completed no request against port ${options.port}`);
  if (result.failed > 0 || result.non2xx > 0) {
    throw new Error(
      `ab against port ${options.port}${options.path}: ${result.failed} failed and ${result.non2xx} non-2xx of ${result.complete} requests`,
    );
  }
  return result;
}
