/**
 * The code a user copies from the README: the first ```ts block of a section, found by its exact
 * heading, and the names of the stack outputs it declares.
 */
import { readFile } from "node:fs/promises";

export async function firstTsBlock(readmeFile: string, heading: string): Promise<string> {
  const lines = (await readFile(readmeFile, "utf8")).split("\n");
  const start = lines.findIndex(
    (line) => /^#{1,6} /.test(line) && line.replace(/^#+ /, "").trim() === heading,
  );
  if (start === -1) throw new Error(`${readmeFile} has no section headed "${heading}"`);
  const level = lines[start]!.indexOf(" ");
  const block: string[] = [];
  let inBlock = false;
  for (const line of lines.slice(start + 1)) {
    if (!inBlock) {
      const heading = /^(#{1,6}) /.exec(line);
      if (heading && heading[1]!.length <= level) break;
      if (line.trim() === "```ts") inBlock = true;
      continue;
    }
    if (line.trim() === "```") return `${block.join("\n")}\n`;
    block.push(line);
  }
  throw new Error(`${readmeFile}: the section "${heading}" has no complete \`\`\`ts code block`);
}

/** `export const NAME` declarations of a program: its stack outputs. */
export function exportedNames(source: string): string[] {
  return [...source.matchAll(/^export const (\w+)/gm)].map((m) => m[1]!).sort();
}
