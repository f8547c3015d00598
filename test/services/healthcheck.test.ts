/**
 * services/src/healthcheck.ts, the command behind the image's HEALTHCHECK and the containers'
 * healthcheck, run as Docker runs it (a separate node process) against a real status listener.
 */
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { ENV } from "../../services/src/contract.ts";

const SCRIPT = fileURLToPath(new URL("../../services/src/healthcheck.ts", import.meta.url));

function runHealthcheck(statusListen: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT],
      { env: { ...process.env, [ENV.statusListen]: statusListen }, timeout: 10_000 },
      (error, _stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr: stderr.trim() });
      },
    );
  });
}

describe("container health check", () => {
  let server: http.Server | undefined;

  /** A status listener on an ephemeral loopback port answering /readyz with `status`. */
  async function statusListener(status: number): Promise<number> {
    server = http.createServer((request, response) => {
      response.statusCode = request.url === "/readyz" ? status : 404;
      response.end();
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  test("healthy when /readyz answers 200", async () => {
    const port = await statusListener(200);
    expect(await runHealthcheck(`127.0.0.1:${port}`)).toEqual({ code: 0, stderr: "" });
  });

  test("unhealthy, with the status, when /readyz answers 503", async () => {
    const port = await statusListener(503);
    const result = await runHealthcheck(`127.0.0.1:${port}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`unhealthy: http://127.0.0.1:${port}/readyz answered 503`);
  });

  test("unhealthy, naming the listener, when nothing listens", async () => {
    const port = await statusListener(200);
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const result = await runHealthcheck(`127.0.0.1:${port}`);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`unhealthy: status listener 127.0.0.1:${port}: ECONNREFUSED`);
  });

  test("a listener on every address (0.0.0.0) is probed through loopback", async () => {
    // Listening on loopback alone proves the probe went to 127.0.0.1, without opening a port wider.
    const port = await statusListener(200);
    expect((await runHealthcheck(`0.0.0.0:${port}`)).code).toBe(0);
  });
});
