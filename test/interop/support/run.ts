/**
 * Runs a foreign TLS tool (openssl, curl, gnutls-cli) to completion with optional stdin, bounded in
 * time, and returns its exit code and output. The process is killed by its pid on timeout.
 */
import { spawn } from "node:child_process";

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** Keep stdin open after writing the input (tools that quit on EOF before the answer arrives). */
  keepStdinOpen?: boolean;
  timeoutMs?: number;
  cwd?: string;
}

export function runTool(command: string, args: string[], options: RunOptions = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.stdin.on("error", () => {}); // the tool may exit before reading it all
    if (options.input !== undefined) child.stdin.write(options.input);
    if (!options.keepStdinOpen) child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 10_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An HTTP/1.1 request as a raw string, for tools that send stdin over their TLS connection. */
export function httpRequest(method: string, path: string, body = ""): string {
  const length =
    body === "" ? "" : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  return `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${length}Connection: close\r\n\r\n${body}`;
}
