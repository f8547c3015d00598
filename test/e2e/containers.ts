/** Small Docker CLI helpers for the end-to-end tests: logs, status endpoints, one-off runs. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface LogLine {
  event?: string;
  level?: string;
  [field: string]: unknown;
}

/** The JSON log lines a container wrote (stdout and stderr), oldest first. */
export async function jsonLogs(container: string): Promise<LogLine[]> {
  const { stdout, stderr } = await run("docker", ["logs", container], { maxBuffer: 64 * 1024 * 1024 });
  return `${stdout}\n${stderr}`
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);
}

/** Reads a status endpoint (/metrics, /readyz) of a service from inside its container. */
export async function statusEndpoint(container: string, path: string, port = 9090): Promise<string> {
  const script = `fetch("http://127.0.0.1:${port}${path}").then(async (r) => process.stdout.write(await r.text()))`;
  const { stdout } = await run("docker", ["exec", container, "node", "-e", script]);
  return stdout;
}

/** The value of one Prometheus sample (0 when absent), e.g. metric('x_total{reason="unknown_ca"}'). */
export function metricValue(metrics: string, sample: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

export interface OneOffResult {
  code: number;
  output: string;
}

/** `docker run --rm` of the services image, labelled for cleanup; never throws on a non-zero exit. */
export async function runOnce(args: string[]): Promise<OneOffResult> {
  try {
    const { stdout, stderr } = await run("docker", ["run", "--rm", ...args]);
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(failure.code ?? 1), output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
  }
}

export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ""}`);
}
