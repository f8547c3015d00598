/**
 * `openssl s_server` as the server our client talks to: OpenSSL does the TLS (and, with
 * `-Verify`, requires and verifies our client certificate); this driver plays the HTTP part by
 * reading the requests s_server prints and writing the answers to its stdin (`-quiet` makes it a
 * plain pipe). It answers GET /v1/whoami with a small JSON and echoes POST /v1/echo.
 */
import { type ChildProcess, spawn } from "node:child_process";

export interface SServer {
  child: ChildProcess;
  stderr(): string;
  /** Requests seen, as "METHOD /path". */
  requests: string[];
  stop(): Promise<void>;
}

export function startSServer(args: string[]): SServer {
  const child = spawn("openssl", ["s_server", "-quiet", ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  let pending = Buffer.alloc(0);
  const requests: string[] = [];
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin!.on("error", () => {});
  child.stdout!.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const headerEnd = pending.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const head = pending.subarray(0, headerEnd).toString("latin1");
      const [method, path] = head.split(" ");
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (pending.length < headerEnd + 4 + length) return;
      const body = pending.subarray(headerEnd + 4, headerEnd + 4 + length);
      pending = pending.subarray(headerEnd + 4 + length);
      requests.push(`${method} ${path}`);
      const answer =
        method === "POST"
          ? body
          : Buffer.from(JSON.stringify({ commonName: "answered by openssl s_server" }));
      child.stdin!.write(
        Buffer.concat([
          Buffer.from(
            `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${answer.length}\r\n\r\n`,
          ),
          answer,
        ]),
      );
    }
  });
  return {
    child,
    stderr: () => stderr,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}
