/**
 * The checkout guard (test/support/checkout-guard.ts) on a real git repository in a temporary
 * directory: what a run adds to the checkout fails it, except the install, the provisioned Node
 * and the library build; what was there before the run does not.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { checkoutStatus, leftBehind } from "../support/checkout-guard.ts";

let repo: string;

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), "mtls-guard-repo-"));
  execFileSync("git", ["init", "-q", repo]);
  writeFileSync(join(repo, ".gitignore"), ".pulumi/\n.pulumi-passphrase\nnode_modules/\n.tools/\ndist/\n");
  writeFileSync(join(repo, "Pulumi.dev.yaml"), "config: {}\n");
  execFileSync("git", ["-C", repo, "add", "."]);
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]);
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

const status = () => {
  const lines = checkoutStatus(repo);
  if (!lines) throw new Error("not a git checkout");
  return lines;
};

it("names what a run left: ignored state, untracked files and edited tracked files", () => {
  const before = status();
  mkdirSync(join(repo, ".pulumi/state"), { recursive: true });
  writeFileSync(join(repo, ".pulumi/state/x"), "");
  writeFileSync(join(repo, ".pulumi-passphrase"), "x");
  writeFileSync(join(repo, "stray.txt"), "x");
  writeFileSync(join(repo, "Pulumi.dev.yaml"), "encryptionsalt: v1:x\nconfig: {}\n");
  expect(leftBehind(before, status())).toEqual([
    " M Pulumi.dev.yaml",
    "!! .pulumi-passphrase",
    "!! .pulumi/",
    "?? stray.txt",
  ]);
});

it("allows node_modules/, .tools/ and dist/", () => {
  const before = status();
  for (const dir of ["node_modules", ".tools", "dist"]) {
    mkdirSync(join(repo, dir));
    writeFileSync(join(repo, dir, "f"), "");
  }
  expect(leftBehind(before, status())).toEqual([]);
});

it("leaves out what was there before the run", () => {
  writeFileSync(join(repo, ".pulumi-passphrase"), "the user's own");
  const before = status();
  expect(leftBehind(before, status())).toEqual([]);
});

it("says when the directory is no git checkout", () => {
  const plain = mkdtempSync(join(tmpdir(), "mtls-guard-plain-"));
  try {
    expect(checkoutStatus(plain)).toBeUndefined();
  } finally {
    rmSync(plain, { recursive: true, force: true });
  }
});
