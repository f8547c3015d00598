/**
 * A whole program (index.ts, package.json, components/, services/ and examples/demo-app) in a
 * temporary directory laid out like the repository: a release's, extracted from the git history as
 * it was, or this working tree's, optionally with a change to its services. Tests run it with
 * `import(<dir>/index.ts)`; it builds its images from its own services/ and demo app, as
 * `pulumi up` from that release's project directory would.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { note } from "../support/run-notes.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PROGRAM_PATHS = ["index.ts", "package.json", "program", "components", "services", "examples/demo-app"];

/** The program's paths that `commit` has (older releases have no program/). */
function pathsAt(commit: string): string[] {
  return PROGRAM_PATHS.filter((entry) => {
    try {
      execFileSync("git", ["-C", ROOT, "cat-file", "-e", `${commit}:${entry}`], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  });
}

export interface ProgramTree {
  dir: string;
  /** The program, as the test engine runs it. */
  program: () => Promise<Record<string, unknown>>;
  remove(): void;
}

function tree(dir: string): ProgramTree {
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return {
    dir,
    program: () => import(pathToFileURL(path.join(dir, "index.ts")).href),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Why a release's program cannot be extracted (its commit is not in the history), or undefined.
 * Under CI=true a missing commit fails instead: the test must run there.
 */
export function missingRelease(commit: string): string | undefined {
  try {
    execFileSync("git", ["-C", ROOT, "cat-file", "-e", `${commit}^{commit}`], { stdio: "ignore" });
    return undefined;
  } catch {
    const reason = `this test needs commit ${commit} in the git history (run \`git fetch --unshallow\`)`;
    if (process.env.CI === "true") throw new Error(`CI=true, so ${reason}`);
    note(`Skipped: ${reason}`);
    return reason;
  }
}

/** The program of `commit`, every file as it was then. */
export function releaseTree(commit: string): ProgramTree {
  const dir = mkdtempSync(path.join(tmpdir(), "mtls-pki-release-"));
  const archive = execFileSync("git", ["-C", ROOT, "archive", commit, ...pathsAt(commit)], {
    maxBuffer: 64 * 1024 * 1024,
  });
  // Modes as a checkout has them (the umask applied), not the archive's: an image's build context
  // digest covers each file's mode, and a different one would rebuild it.
  execFileSync("tar", ["-x", "--no-same-permissions", "-C", dir], {
    input: archive,
    maxBuffer: 64 * 1024 * 1024,
  });
  return tree(dir);
}

/**
 * This working tree's program, with `comment` appended to the server's entry point: a new version
 * of the services that changes nothing they do, so their image (and each container running it)
 * must be replaced.
 */
export function workingTreeWithNewServices(comment: string): ProgramTree {
  const dir = mkdtempSync(path.join(tmpdir(), "mtls-pki-new-services-"));
  for (const entry of PROGRAM_PATHS) {
    cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  appendFileSync(path.join(dir, "services/src/server.ts"), `\n// ${comment}\n`);
  return tree(dir);
}
