/**
 * The multi-language package (provider.ts, plugin/, PulumiPlugin.yaml) leaves the TypeScript
 * library and this project's program as they were: every stack file is deployed by the program of
 * commit 3e1113a (the last one before the package, its index.ts and components/ as they were then),
 * then today's program runs on the same (emulated) engine state, and every resource must be `same`:
 * nothing created, updated, replaced or deleted, and the stack outputs unchanged.
 *
 * Both runs build the images from this working tree's services/ (and the old program's components
 * read its contract): a change of the services' code rebuilds the image and replaces the containers
 * by design, which is not what this test is about. Nor is the workloads' move from a shared network
 * namespace to private networks, which came after that commit: the sidecar stack is deployed here
 * without its workloads, and test/program/sidecar-upgrade.test.ts shows that upgrade step by step.
 *
 * Needs the git history (the old commit) and a Docker engine (a swarm manager for the swarm
 * stack); under CI=true a missing one fails.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { stackConfig, stackNames } from "../support/stack-files.ts";
import { swarmSkipReason } from "../support/swarm-available.ts";
import { deploy, newStack, wholeProgram } from "./deploy.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The last commit before the package: what existing stacks were deployed with. */
const BEFORE_PACKAGE = "3e1113a";

function missingHistory(): string | undefined {
  try {
    execFileSync("git", ["-C", ROOT, "cat-file", "-e", `${BEFORE_PACKAGE}^{commit}`], { stdio: "ignore" });
    return undefined;
  } catch {
    const reason = `this test needs commit ${BEFORE_PACKAGE} in the git history (run \`git fetch --unshallow\`)`;
    if (process.env.CI === "true") throw new Error(`CI=true, so ${reason}`);
    console.warn(`Skipped: ${reason}`);
    return reason;
  }
}

/** The program of that commit, in a temporary directory laid out like the repository. */
function programBefore(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "mtls-pki-before-package-"));
  const archive = execFileSync("git", [
    "-C",
    ROOT,
    "archive",
    BEFORE_PACKAGE,
    "index.ts",
    "package.json",
    "components",
  ]);
  // Modes as a checkout has them (the umask applied), not the archive's: the image's build context
  // digest covers each file's mode, and a different one would rebuild the image.
  execFileSync("tar", ["-x", "--no-same-permissions", "-C", dir], {
    input: archive,
    maxBuffer: 64 * 1024 * 1024,
  });
  // This working tree's services (see above), with the modes a checkout gives them.
  cpSync(path.join(ROOT, "services"), path.join(dir, "services"), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

const skip = missingHistory() ?? (await dockerSkipReason());
const swarmSkip = skip ?? (await swarmSkipReason());
const onSwarm = (stack: string) => stackConfig(stack).runtime === "swarm";

describe.skipIf(skip)(`a stack deployed by the program of ${BEFORE_PACKAGE}, then by today's`, () => {
  let before: string;
  let baseImage: string;

  beforeAll(async () => {
    baseImage = await ensureBaseImage();
    before = programBefore();
  });
  afterAll(() => {
    if (before) rmSync(before, { recursive: true, force: true });
  });

  const stacks = stackNames().filter((stack) => !onSwarm(stack) || !swarmSkip);
  it.each(stacks)("changes nothing in stack %s", async (stackName) => {
    // Without workloads: their wiring changed since that commit (see above).
    const { workloads: _changedSince, ...file } = stackConfig(stackName);
    const config = {
      ...file,
      baseImage,
      ...(stackConfig(stackName).publishPort ? { publishPort: String(await freePort()) } : {}),
    };
    const stack = newStack();
    // The old program resolves services/ against its working directory, as `pulumi up` from its
    // project directory would: the same relative paths in both runs.
    process.chdir(before);
    let old: Awaited<ReturnType<typeof deploy>>;
    try {
      old = await deploy(stackName, config, {
        stack,
        program: () => import(pathToFileURL(path.join(before, "index.ts")).href),
      });
    } finally {
      process.chdir(ROOT);
    }
    try {
      const created = old.run.ops.filter((op) => op.op === "create");
      expect(created.length).toBeGreaterThan(10);
      const today = await deploy(stackName, config, { stack, program: wholeProgram });
      const notSame = today.run.ops
        .filter((op) => op.op !== "same")
        .map((op) => `${op.op} ${op.type} ${op.name} (${[...(op.changed ?? [])].sort().join(", ")})`);
      expect(notSame).toEqual([]);
      expect(today.run.ops).toHaveLength(created.length);
      expect(today.run.exports).toEqual(old.run.exports);
    } finally {
      await old.destroy();
    }
  });
});
