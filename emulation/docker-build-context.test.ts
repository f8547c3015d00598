/**
 * The image's hidden contextDigest: .dockerignore semantics (moby/patternmatcher) and which changes
 * move the digest.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { hashBuildContext, isIgnored, parseIgnoreFile } from "./docker/build-context.ts";

describe(".dockerignore patterns", () => {
  const rules = parseIgnoreFile("# comment\n*\n!src\nsrc/**/*.test.ts\n/docs/\n");

  test.each([
    ["Dockerfile", true],
    ["README.md", true],
    ["src/main.ts", false],
    ["src/identity/load.ts", false],
    ["src/identity/load.test.ts", true],
    ["src/main.test.ts", true],
  ])("%s ignored: %s", (file, ignored) => {
    expect(isIgnored(rules, file)).toBe(ignored);
  });

  test("a pattern matching a directory excludes everything below it", () => {
    expect(isIgnored(parseIgnoreFile("node_modules"), "node_modules/a/b.js")).toBe(true);
  });

  test("the last matching pattern wins", () => {
    expect(isIgnored(parseIgnoreFile("!keep.md\n*.md"), "keep.md")).toBe(true);
    expect(isIgnored(parseIgnoreFile("*.md\n!keep.md"), "keep.md")).toBe(false);
  });
});

describe("context digest", () => {
  let dir: string;
  const digest = () => hashBuildContext(dir, path.join(dir, "Dockerfile"));

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "mtls-context-"));
    await mkdir(path.join(dir, "src"));
    await writeFile(path.join(dir, "Dockerfile"), "FROM scratch\n");
    await writeFile(path.join(dir, "src", "a.ts"), "a\n");
    await writeFile(path.join(dir, ".dockerignore"), "*.md\n");
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("is stable while nothing changes", () => {
    expect(digest()).toBe(digest());
  });

  test.each([
    ["a file's content", (d: string) => writeFile(path.join(d, "src", "a.ts"), "b\n")],
    ["a new file", (d: string) => writeFile(path.join(d, "src", "b.ts"), "b\n")],
    ["a file's mode", (d: string) => chmod(path.join(d, "src", "a.ts"), 0o600)],
    ["the Dockerfile", (d: string) => writeFile(path.join(d, "Dockerfile"), "FROM busybox\n")],
  ])("moves when %s changes", async (_what, change) => {
    const before = digest();
    await change(dir);
    expect(digest()).not.toBe(before);
  });

  test("ignores files the .dockerignore excludes", async () => {
    const before = digest();
    await writeFile(path.join(dir, "notes.md"), "x\n");
    expect(digest()).toBe(before);
  });
});
