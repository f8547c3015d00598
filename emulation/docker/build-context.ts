/**
 * The docker.Image provider's `build.contextDigest`: a SHA-256 over the Dockerfile and every file of
 * the build context that the .dockerignore does not exclude (path, mode and content of each), added
 * to the checked inputs so that *any* change in the context shows up as a diff and rebuilds the image.
 * (pulumi-docker provider/provider.go `hashContext`; ignore file: `<dockerfile>.dockerignore`, else
 * `<context>/.dockerignore`.)
 *
 * `contextTar` packs the same files for the daemon's build endpoint.
 *
 * .dockerignore patterns follow moby/patternmatcher: `*` and `?` within one path segment, `**` across
 * segments (Node's glob matching), `!` re-includes, the last matching pattern wins, and a pattern
 * that matches a directory matches everything below it.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import path from "node:path";
import { type TarEntry, tarArchive } from "./tar.ts";

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

/** A file or symlink of the build context that the .dockerignore keeps, in path order. */
export interface ContextEntry {
  /** Context-relative path, with "/". */
  relative: string;
  absolute: string;
  kind: "file" | "symlink";
}

/** Every file and symlink of the context the .dockerignore does not exclude, in path order. */
export function contextEntries(contextDir: string, dockerfile: string): ContextEntry[] {
  const rules = ignoreRules(contextDir, dockerfile);
  const found: ContextEntry[] = [];
  const walk = (relativeDir: string): void => {
    const entries = readdirSync(path.join(contextDir, relativeDir), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const relative = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
      const absolute = path.join(contextDir, relative);
      if (entry.isDirectory()) walk(relative);
      else if (!isIgnored(rules, relative))
        found.push({ relative, absolute, kind: entry.isSymbolicLink() ? "symlink" : "file" });
    }
  };
  walk("");
  return found;
}

/** Hex SHA-256 of the Dockerfile plus the non-ignored files of the context, in path order. */
export function hashBuildContext(contextDir: string, dockerfile: string): string {
  const hash = createHash("sha256");
  // The Dockerfile always counts, under one fixed name, wherever it lives.
  hash.update(fileEntry(dockerfile, "Dockerfile", 0));
  for (const { relative, absolute, kind } of contextEntries(contextDir, dockerfile)) {
    // Like the provider: a symlink counts by where it points, not by its target's content.
    if (kind === "symlink") hash.update(`${relative}\0->${readlinkSync(absolute)}\0`);
    else hash.update(fileEntry(absolute, relative, statSync(absolute).mode));
  }
  return hash.digest("hex");
}

/**
 * The archive the build endpoint receives: the kept files of the context, their directories, and
 * the Dockerfile. Owner 0:0 as the provider writes it; modes and mtimes as on disk. A Dockerfile
 * that is outside the context or that the .dockerignore excludes travels under a name of its own,
 * `.dockerfile.<hex>` (as the docker CLI sends one from outside the context), which no COPY of a
 * named path picks up. Returns the archive and the Dockerfile's name inside it.
 */
export function contextTar(contextDir: string, dockerfile: string): { archive: Buffer; dockerfile: string } {
  const kept = contextEntries(contextDir, dockerfile);
  const entries: TarEntry[] = [];
  const directories = new Set<string>();
  const owner = { uid: 0, gid: 0 };
  const addParents = (relative: string): void => {
    const parent = path.posix.dirname(relative);
    if (parent === "." || directories.has(parent)) return;
    addParents(parent);
    directories.add(parent);
    const stat = statSync(path.join(contextDir, parent));
    entries.push({
      type: "directory",
      name: parent,
      mode: stat.mode & 0o7777,
      mtime: stat.mtimeMs / 1000,
      ...owner,
    });
  };
  for (const { relative, absolute, kind } of kept) {
    addParents(relative);
    const stat = lstatSync(absolute);
    const meta = { name: relative, mode: stat.mode & 0o7777, mtime: stat.mtimeMs / 1000, ...owner };
    entries.push(
      kind === "symlink"
        ? { type: "symlink", target: readlinkSync(absolute), ...meta }
        : { type: "file", content: readFileSync(absolute), ...meta },
    );
  }
  const inContext = path
    .relative(path.resolve(contextDir), path.resolve(dockerfile))
    .split(path.sep)
    .join("/");
  let name = inContext;
  if (!kept.some((entry) => entry.relative === inContext)) {
    name = `.dockerfile.${randomBytes(6).toString("hex")}`;
    const stat = statSync(dockerfile);
    entries.push({
      type: "file",
      name,
      content: readFileSync(dockerfile),
      mode: 0o644,
      mtime: stat.mtimeMs / 1000,
      ...owner,
    });
  }
  return { archive: tarArchive(entries), dockerfile: name };
}
