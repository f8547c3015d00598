/**
 * The documentation as a reader follows it: every relative link of README.md, docs/, emulation/ and
 * examples/ leads to a file or folder of the repository, and every `#anchor` to a heading of the
 * file it names. And nothing a user reads (the docs, and the comments and messages of the code that
 * ships or runs on their machines) speaks of the project's issue tracker: "issue 10" means nothing
 * to them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { headingAnchors, isExternal, markdownLinks } from "./markdown-links.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The repository's files under `dir` (relative paths), without installs, builds or local state. */
function filesUnder(dir: string): string[] {
  const skip = new Set(["node_modules", "dist", ".tools", ".pulumi", ".git", "bin"]);
  const out: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(ROOT, relative), { withFileTypes: true })) {
      if (skip.has(entry.name)) continue;
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

const DOCS = ["README.md", ...["docs", "emulation", "examples"].flatMap(filesUnder)].filter((f) =>
  f.endsWith(".md"),
);

/** What users read: the docs, and the code that ships in the package or runs on their machines. */
const READ_BY_USERS = [
  ...DOCS,
  "index.ts",
  "package.json",
  ...filesUnder("").filter((f) => /^Pulumi(\.[\w-]+)?\.yaml$/.test(f)),
  ...["components", "services", "scripts", "emulation", "examples"].flatMap(filesUnder),
].filter((f) => /\.(md|ts|sh|ya?ml|json)$|Dockerfile$/.test(f));

/** Where a relative link points, and its anchor. */
function resolve(from: string, target: string): { file: string; anchor?: string } {
  const [pathPart, anchor] = target.split("#", 2) as [string, string | undefined];
  const file =
    pathPart === "" ? from : path.posix.normalize(path.posix.join(path.posix.dirname(from), pathPart));
  return { file, anchor };
}

function brokenLinks(doc: string): string[] {
  const text = readFileSync(path.join(ROOT, doc), "utf8");
  const broken: string[] = [];
  for (const { line, target } of markdownLinks(text)) {
    if (isExternal(target)) continue;
    const { file, anchor } = resolve(doc, decodeURI(target));
    const where = `${doc}:${line}: ${target}`;
    if (file.startsWith("..") || !existsSync(path.join(ROOT, file))) {
      broken.push(`${where} (no ${file} in the repository)`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(path.join(ROOT, file)).isDirectory() || !file.endsWith(".md")) {
      broken.push(`${where} (an anchor into ${file}, which has no headings)`);
    } else if (!headingAnchors(readFileSync(path.join(ROOT, file), "utf8")).has(anchor)) {
      broken.push(`${where} (${file} has no heading #${anchor})`);
    }
  }
  return broken;
}

/** A mention of the tracker: "issue 10", "issues 9 and 10", "#12" (but not PKCS#8 or owner/repo#12). */
const ISSUE_MENTION = /\bissues?\s+#?\d+|(?<![\w/#&])#\d+\b(?![\w-])/i;

describe("the documentation's links", () => {
  it("covers the README, docs/, emulation/ and examples/", () => {
    expect(DOCS).toEqual(expect.arrayContaining(["README.md", "docs/LIBRARY.md", "emulation/README.md"]));
  });

  it.each(DOCS)("%s: every relative link leads to a file, and every anchor to a heading", (doc) => {
    expect(brokenLinks(doc)).toEqual([]);
  });
});

describe("what users read", () => {
  it("mentions no issue number of the project's tracker", () => {
    const mentions = READ_BY_USERS.flatMap((file) =>
      readFileSync(path.join(ROOT, file), "utf8")
        .split("\n")
        .flatMap((line, i) => (ISSUE_MENTION.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(mentions).toEqual([]);
  });
});
