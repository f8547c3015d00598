/** Runs `scripts/verify.ts` as `npm run verify` does (Node, repository root), never throwing on an exit code. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface VerifyRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout lines starting with "verify: ". */
  lines: string[];
}

export function runVerify(args: string[], env: NodeJS.ProcessEnv): Promise<VerifyRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["scripts/verify.ts", ...args],
      { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        const lines = stdout.split("\n").filter((line) => line.startsWith("verify: "));
        resolve({ code, stdout, stderr, lines });
      },
    );
  });
}
