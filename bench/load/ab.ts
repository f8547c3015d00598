/**
 * ApacheBench with the client certificate (`ab -E`, chain and key in one PEM file): kept-alive
 * requests (`-k`), or `POST` of a file's content (bulk echo over one connection).
 */
import type { TlsPolicy } from "../../services/src/contract.ts";
import type { PkiFiles } from "../pki/pki.ts";
import { runPinned } from "../system/processes.ts";

export interface AbResult {
  complete: number;
  failed: number;
  non2xx: number;
  seconds: number;
  requestsPerSecond: number;
}

const numberAfter = (label: string, text: string) => {
  const match = new RegExp(`^${label}:\\s+([\\d.]+)`, "m").exec(text);
  return match ? Number(match[1]) : undefined;
};

export function parseAb(stdout: string): AbResult {
  const complete = numberAfter("Complete requests", stdout);
  const seconds = numberAfter("Time taken for tests", stdout);
  if (complete === undefined || seconds === undefined)
    throw new Error(`ab printed no summary:\n${stdout.slice(-800)}`);
  const failed = numberAfter("Failed requests", stdout) ?? 0;
  return {
    complete,
    failed,
    non2xx: numberAfter("Non-2xx responses", stdout) ?? 0,
    seconds,
    requestsPerSecond: complete / seconds,
  };
}

export async function runAb(options: {
  core: number;
  port: number;
  path: string;
  pki: PkiFiles;
  policy: TlsPolicy;
  concurrency: number;
  seconds: number;
  postFile?: string;
}): Promise<AbResult> {
  const { port, path } = options;
  // -t alone caps the run at 50000 requests; a later -n lifts the cap, the time limit stays.
  const args = `-q -k -c ${options.concurrency} -t ${options.seconds} -n 100000000`.split(" ");
  args.push("-E", options.pki.clientPem, "-f", options.policy === "modern" ? "TLS1.3" : "TLS1.2");
  if (options.postFile) args.push("-p", options.postFile, "-T", "application/octet-stream");
  const url = `https://127.0.0.1:${port}${path}`;
  const ab = await runPinned(options.core, "ab", [...args, url], `ab against port ${port}`);
  const result = parseAb(ab.stdout);
  if (result.complete === 0) throw new Error(`ab completed no request against port ${port}`);
  if (result.failed > 0 || result.non2xx > 0)
    throw new Error(
      `ab against port ${port}${path}: ${result.failed} failed and ${result.non2xx} non-2xx of ${result.complete} requests`,
    );
  return result;
}
