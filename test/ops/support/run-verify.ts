/**
 * Runs `scripts/verify.ts` as `npm run verify` does (Node, from the project's root), never throwing
 * on an exit code. The root is a temporary copy of the files verify uses (scripts/, the services'
 * contract, package.json), made for each run and removed after it: scripts/pulumi.sh keeps its
 * state backend and passphrase in the project (.pulumi/, .pulumi-passphrase), and a test must not
 * leave those in the checkout, where a later `npm run up` would adopt them.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../../..", import.meta.url));
/** What verify reads or runs, relative to the project root. */
const PROJECT_FILES = ["scripts", "services/src/contract.ts", "package.json", "Pulumi.kubernetes.yaml"];

export interface VerifyRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout lines starting with "verify: ". */
  lines: string[];
}

function projectCopy(): string {
  const root = mkdtempSync(path.join(tmpdir(), "mtls-verify-project-"));
  for (const file of PROJECT_FILES) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    cpSync(path.join(REPO, file), path.join(root, file), { recursive: true });
  }
  return root;
}

export function runVerify(args: string[], env: NodeJS.ProcessEnv): Promise<VerifyRun> {
  const root = projectCopy();
  return new Promise<VerifyRun>((resolve) => {
    execFile(
      process.execPath,
      ["scripts/verify.ts", ...args],
      { cwd: root, env, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        const lines = stdout.split("\n").filter((line) => line.startsWith("verify: "));
        resolve({ code, stdout, stderr, lines });
      },
    );
  }).finally(() => rmSync(root, { recursive: true, force: true }));
}
