/**
 * What a user copies from the README: the code blocks of a section (found by its exact heading,
 * its subsections included), each by its language, and the names of the stack outputs a program
 * declares.
 */
import { readFile } from "node:fs/promises";

export interface CodeBlock {
  /** The fence's info string: "ts", "sh", "yaml", "json", ... */
  lang: string;
  text: string;
}

export async function sectionBlocks(readmeFile: string, heading: string): Promise<CodeBlock[]> {
  const lines = (await readFile(readmeFile, "utf8")).split("\n");
  const start = lines.findIndex(
    (line) => /^#{1,6} /.test(line) && line.replace(/^#+ /, "").trim() === heading,
  );
  if (start === -1) throw new Error(`${readmeFile} has no section headed "${heading}"`);
  const level = lines[start]!.indexOf(" ");
  const blocks: CodeBlock[] = [];
  let open: CodeBlock | undefined;
  let body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (open === undefined) {
      const next = /^(#{1,6}) /.exec(line);
      if (next && next[1]!.length <= level) break;
      const fence = /^```(\w+)\s*$/.exec(line.trim());
      if (fence) {
        open = { lang: fence[1]!, text: "" };
        body = [];
      }
      continue;
    }
    if (line.trim() === "```") {
      blocks.push({ ...open, text: `${body.join("\n")}\n` });
      open = undefined;
      continue;
    }
    body.push(line);
  }
  if (open)
    throw new Error(`${readmeFile}: the section "${heading}" has an unclosed \`\`\`${open.lang} block`);
  return blocks;
}

/** The section's only block in `lang`; fails when there is none or more than one. */
export function onlyBlock(blocks: CodeBlock[], lang: string, heading: string): string {
  const found = blocks.filter((block) => block.lang === lang);
  if (found.length !== 1)
    throw new Error(
      `the README's "${heading}" has ${found.length} \`\`\`${lang} blocks; the tests expect one`,
    );
  return found[0]!.text;
}

/** `export const NAME` declarations of a program: its stack outputs. */
export function exportedNames(source: string): string[] {
  return [...source.matchAll(/^export const (\w+)/gm)].map((m) => m[1]!).sort();
}
