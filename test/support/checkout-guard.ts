/**
 * Global setup of every vitest run: fails the run when the tests left something in the checkout.
 * Tests write only to temporary directories; a file they leave in the project (a state backend, a
 * passphrase, credentials, an edited stack file) would be adopted by the user's next `npm run up`.
 *
 * It compares `git status --porcelain --ignored` before and after the run: any entry that is new
 * afterwards fails it, except what installing and building make on purpose (node_modules/, the
 * provisioned Node in .tools/, the library build in dist/). What was there before the run (a
 * developer's own edits or deployments) is not the tests' doing and is left out.
 *
 * Outside a git checkout there is nothing to compare: the guard says so in one line, and under
 * CI=true (which always runs on a clone) that is a failure.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Entries a run may add: the install, the provisioned Node and the library build. */
export const ALLOWED_ENTRIES = ["node_modules/", ".tools/", "dist/"];

/** The checkout's status lines (`XY path`), or undefined when ROOT is not a git work tree. */
export function checkoutStatus(root = ROOT): Set<string> | undefined {
  try {
    const out = execFileSync("git", ["status", "--porcelain", "--ignored"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return new Set(out.split("\n").filter((line) => line !== ""));
  } catch {
    return undefined;
  }
}

/** Status lines present after but not before, other than the allowed entries. */
export function leftBehind(before: Set<string>, after: Set<string>): string[] {
  return [...after]
    .filter((line) => !before.has(line))
    .filter((line) => !ALLOWED_ENTRIES.includes(line.slice(3)))
    .sort();
}

export default function setup(): (() => void) | undefined {
  const before = checkoutStatus();
  if (before === undefined) {
    const reason =
      "checkout guard: not a git checkout, so nothing checks that the tests leave no files in it";
    if (process.env.CI === "true") throw new Error(`CI=true needs a git checkout: ${reason}`);
    console.log(reason);
    return undefined;
  }
  return () => {
    const after = checkoutStatus() ?? new Set<string>();
    const left = leftBehind(before, after);
    if (left.length > 0) {
      // A teardown that throws does not fail vitest's run: set the exit status instead.
      console.error(
        `checkout guard: FAILED, the tests left files in the checkout (git status --porcelain --ignored: ${left.join(", ")}); tests must write only to temporary directories`,
      );
      process.exitCode = 1;
    }
  };
}
