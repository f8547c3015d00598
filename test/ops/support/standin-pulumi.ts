/**
 * A stand-in `pulumi` on PATH for the tests of scripts that run the real scripts/pulumi.sh: the
 * script forwards its arguments to a handler in the test process (over loopback HTTP) and prints
 * what the handler answers, with its exit status. Everything around it (scripts/pulumi.sh, the
 * state backend variables, the caller's quoting) is real.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface CliAnswer {
  stdout?: string;
  stderr?: string;
  code?: number;
}

export type CliHandler = (args: string[]) => Promise<CliAnswer> | CliAnswer;

export interface StandInPulumi {
  /** PATH with the stand-in first. */
  path: string;
  env: NodeJS.ProcessEnv;
  /** Every call's arguments, in order. */
  calls: string[][];
  close(): Promise<void>;
}

const SCRIPT = `#!/usr/bin/env node
const response = await fetch(process.env.MTLS_STANDIN_PULUMI_URL, {
  method: "POST",
  body: JSON.stringify(process.argv.slice(2)),
});
const answer = await response.json();
if (answer.stdout) process.stdout.write(answer.stdout);
if (answer.stderr) process.stderr.write(answer.stderr);
process.exitCode = answer.code ?? 0;
`;

export async function startStandInPulumi(handler: CliHandler): Promise<StandInPulumi> {
  const bin = mkdtempSync(path.join(tmpdir(), "mtls-standin-pulumi-"));
  writeFileSync(path.join(bin, "pulumi"), SCRIPT, { mode: 0o755 });
  const calls: string[][] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      const args = JSON.parse(Buffer.concat(chunks).toString("utf8")) as string[];
      calls.push(args);
      let answer: CliAnswer;
      try {
        answer = await handler(args);
      } catch (error) {
        answer = { stderr: `error: ${(error as Error).message}\n`, code: 255 };
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const envPath = `${bin}:${process.env.PATH ?? ""}`;
  return {
    path: envPath,
    env: { ...process.env, PATH: envPath, MTLS_STANDIN_PULUMI_URL: `http://127.0.0.1:${port}/` },
    calls,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(bin, { recursive: true, force: true });
    },
  };
}

/** The value of `--flag VALUE` (every occurrence). */
export function flagValues(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag && args[i + 1] !== undefined ? [args[i + 1]!] : []));
}
