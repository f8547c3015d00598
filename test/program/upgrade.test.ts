/**
 * Upgrading an existing stack to the current program: the program as it was before it consumed the
 * library (commit 06258ea: index.ts and components/) is deployed for each stack file, then the
 * current program runs on the same (emulated) engine state. Everything must be `same` (no create,
 * update, replace or delete: the PKI included, so CA generation "1" is today's CA) except two
 * deliberate changes:
 * - the server's two containers, replaced once: since the policy file, the server's access policy travels
 *   in policy.json through its delivery container (a new upload) instead of the server container's
 *   environment (which loses MTLS_ALLOWED_CLIENTS and MTLS_TLS_POLICY and gains MTLS_POLICY_FILE);
 * - the clients' restart policy, updated in place: "always" now, so that the services come back
 *   after a daemon crash (docs/OPERATIONS.md).
 *
 * Both runs build the services' image from this working tree's services/, so that the test shows
 * what the program's refactor does, not what a change of the services' code does (that rebuilds the
 * image by design). The old components keep their own copy of the contract they were written
 * against, so later renames in services/src/contract.ts cannot break the old program.
 *
 * Needs the git history (the old commit) and a Docker engine; under CI=true either missing fails.
 */
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEALTHCHECK_COMMAND } from "../../components/mtls-service.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { freePort } from "../support/free-port.ts";
import { note } from "../support/run-notes.ts";
import { stackConfig, stackNames } from "../support/stack-files.ts";
import { deploy, newStack, wholeProgram } from "./deploy.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The last commit before the program consumed the library. */
const OLD_COMMIT = "06258ea";
/** The health check script the old program's containers run (its components/mtls-service.ts). */
const OLD_HEALTHCHECK_SCRIPT = "/app/src/healthcheck.ts";

function missingHistory(): string | undefined {
  try {
    execFileSync("git", ["-C", ROOT, "cat-file", "-e", `${OLD_COMMIT}^{commit}`], { stdio: "ignore" });
    return undefined;
  } catch {
    const reason = `the upgrade test needs commit ${OLD_COMMIT} in the git history (run \`git fetch --unshallow\`)`;
    if (process.env.CI === "true") throw new Error(`CI=true, so ${reason}`);
    note(`Upgrade test skipped: ${reason}`);
    return reason;
  }
}

/** The old program in a temporary directory laid out like the repository. */
function oldProgramTree(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "mtls-pki-old-program-"));
  const archive = execFileSync("git", [
    "-C",
    ROOT,
    "archive",
    OLD_COMMIT,
    "index.ts",
    "package.json",
    "components",
    "services/src/contract.ts",
  ]);
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  mkdirSync(path.join(dir, "old-contract"));
  cpSync(path.join(dir, "services/src/contract.ts"), path.join(dir, "old-contract/contract.ts"));
  rmSync(path.join(dir, "services"), { recursive: true });
  for (const file of readdirSync(path.join(dir, "components"))) {
    const source = path.join(dir, "components", file);
    const text = readFileSync(source, "utf8");
    writeFileSync(
      source,
      text
        .replaceAll("../services/src/contract.ts", "../old-contract/contract.ts")
        // The image both runs build ships the services as JavaScript (type-stripped at build), and its
        // health check with them; the old program named the TypeScript one its image had. Pointed
        // at the image's own, the old program's containers get healthy, and the test stays about
        // the program (a real upgrade replaces the service containers for the new image anyway).
        .replaceAll(JSON.stringify(OLD_HEALTHCHECK_SCRIPT), JSON.stringify(HEALTHCHECK_COMMAND.at(-1))),
    );
  }
  cpSync(path.join(ROOT, "services"), path.join(dir, "services"), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** The stack's client names, as the program reads them (the project default when the stack sets none). */
function clientNames(stackName: string): string[] {
  const clients = stackConfig(stackName).clients;
  return clients ? (JSON.parse(clients) as string[]) : ["client-a"];
}

const skip = missingHistory() ?? (await dockerSkipReason());

describe.skipIf(skip)("upgrading a stack deployed by the program of commit 06258ea", () => {
  let oldTree: string;
  let baseImage: string;

  beforeAll(async () => {
    baseImage = await ensureBaseImage();
    oldTree = oldProgramTree();
  });
  afterAll(() => {
    if (oldTree) rmSync(oldTree, { recursive: true, force: true });
  });

  // A swarm stack runs components that commit never had: there is nothing of it to upgrade.
  const upgradable = stackNames().filter((stack) => stackConfig(stack).runtime !== "swarm");
  it.each(upgradable)(
    "replaces only the server's two containers, once, and updates the clients' restart policy in place, in stack %s",
    async (stackName) => {
      // The keys the old program knew: workloads (sidecars) came later, and what they add is new.
      const { workloads: _added, ...known } = stackConfig(stackName);
      const config = {
        ...known,
        baseImage,
        ...(stackConfig(stackName).publishPort ? { publishPort: String(await freePort()) } : {}),
      };
      const stack = newStack();
      // The old program resolves services/ against its working directory, as `pulumi up` run from
      // its project directory would: same relative paths in both runs, so the image inputs match.
      process.chdir(oldTree);
      let old: Awaited<ReturnType<typeof deploy>>;
      try {
        old = await deploy(stackName, config, {
          stack,
          program: () => import(pathToFileURL(path.join(oldTree, "index.ts")).href),
        });
      } finally {
        process.chdir(ROOT);
      }
      try {
        const created = old.run.ops.filter((op) => op.op === "create");
        expect(created.length).toBeGreaterThan(10);
        const upgraded = await deploy(stackName, config, { stack, program: wholeProgram });
        const notSame = upgraded.run.ops
          .filter((op) => op.op !== "same")
          .map((op) => `${op.op} ${op.type} ${op.name} (${[...(op.changed ?? [])].sort().join(", ")})`);
        const server = stackConfig(stackName).serverName ?? "mtls-server";
        const container = "docker:index/container:Container";
        expect(notSame.sort()).toEqual(
          [
            `replace ${container} ${server} (envs, restart)`,
            `replace ${container} ${server}-delivery (uploads)`,
            ...clientNames(stackName).map((name) => `update ${container} ${name} (restart)`),
          ].sort(),
        );
        expect(upgraded.run.ops).toHaveLength(created.length);
        // Every output the old program had keeps its value (the server container's name aside: a
        // replaced container gets a new auto-name); the new ones come on top.
        const { containerNames: oldNames, ...oldRest } = old.run.exports as Record<string, unknown> & {
          containerNames: { clients: unknown };
        };
        expect(upgraded.run.exports).toMatchObject(oldRest);
        expect((upgraded.run.exports.containerNames as typeof oldNames).clients).toEqual(oldNames.clients);
      } finally {
        await old.destroy();
      }
    },
  );
});
