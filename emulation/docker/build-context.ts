/**
 * The docker.Image provider's `build.contextDigest`: a SHA-256 over the Dockerfile and every file of
 * the build context that the .dockerignore does not exclude (path, mode and content of each), added
 * to the checked inputs so that *any* change in the context shows up as a diff and rebuilds the image.
 * (pulumi-docker provider/provider.go `hashContext`; ignore file: `<dockerfile>.dockerignore`, else
 * `<context>/.dockerignore`.)
 *
 * .dockerignore patterns follow moby/patternmatcher: `*` and `?` within one path segment, `**` across
 * segments (Node's glob matching), `!` re-includes, the last matching pattern wins, and a pattern
 * that matches a directory matches everything below it.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import path from "node:path";

interface IgnoreRule {
  negate: boolean;
  pattern: string;
}

export function parseIgnoreFile(text: string): IgnoreRule[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const negate = line.startsWith("!");
      const body = path.posix.normalize((negate ? line.slice(1) : line).trim()).replace(/^\/+/, "");
      return { negate, pattern: body };
    });
}

/** Whether a context-relative path (with "/") is left out of the build context. */
export function isIgnored(rules: IgnoreRule[], relativePath: string): boolean {
  const parents: string[] = [];
  const parts = relativePath.split("/");
  for (let i = 1; i <= parts.length; i++) parents.push(parts.slice(0, i).join("/"));
  let ignored = false;
  for (const rule of rules) {
    if (parents.some((candidate) => path.posix.matchesGlob(candidate, rule.pattern))) ignored = !rule.negate;
  }
  return ignored;
}

function ignoreRules(contextDir: string, dockerfile: string): IgnoreRule[] {
  for (const candidate of [`${dockerfile}.dockerignore`, path.join(contextDir, ".dockerignore")]) {
    if (existsSync(candidate)) return parseIgnoreFile(readFileSync(candidate, "utf8"));
  }
  return [];
}

function fileEntry(file: string, name: string, mode: number): Buffer {
  const content = createHash("sha256").update(readFileSync(file)).digest();
  return Buffer.concat([Buffer.from(`${name}\0${(mode & 0o7777).toString(8)}\0`), content]);
}

/** Hex SHA-256 of the Dockerfile plus the non-ignored files of the context, in path order. */
export function hashBuildContext(contextDir: string, dockerfile: string): string {
  const rules = ignoreRules(contextDir, dockerfile);
  const hash = createHash("sha256");
  // The Dockerfile always counts, under one fixed name, wherever it lives.
  hash.update(fileEntry(dockerfile, "Dockerfile", 0));
  const walk = (relativeDir: string): void => {
    const entries = readdirSync(path.join(contextDir, relativeDir), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      const absolute = path.join(contextDir, relative);
      if (entry.isDirectory()) {
        walk(relative);
      } else if (entry.isSymbolicLink()) {
        // Like the provider: a symlink counts by where it points, not by its target's content.
        if (!isIgnored(rules, relative)) hash.update(`${relative}\0->${readlinkSync(absolute)}\0`);
      } else if (!isIgnored(rules, relative)) {
        hash.update(fileEntry(absolute, relative, statSync(absolute).mode));
      }
    }
  };
  walk("");
  return hash.digest("hex");
}
