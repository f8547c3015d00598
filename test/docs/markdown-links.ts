/**
 * The links of a Markdown file, as GitHub renders them: inline `[text](target)` and `![alt](target)`
 * and reference definitions `[label]: target`, outside code blocks and code spans; and the anchors
 * its headings get (GitHub's slugs: lower case, punctuation dropped, spaces as "-", "-1", "-2" ...
 * for repeats).
 */

export interface MarkdownLink {
  line: number;
  target: string;
}

/** Each line with whether it is inside a fenced code block (fence lines count as code). */
function classifyLines(text: string): { line: string; code: boolean }[] {
  let fence: string | undefined;
  return text.split("\n").map((line) => {
    const marker = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (marker) {
      if (fence === undefined) fence = marker;
      else if (marker.startsWith(fence[0]!) && marker.length >= fence.length) fence = undefined;
      return { line, code: true };
    }
    return { line, code: fence !== undefined };
  });
}

/** The text outside code, line by line (code lines blanked and code spans emptied, so numbers stay). */
function proseLines(text: string): string[] {
  return classifyLines(text).map(({ line, code }) => (code ? "" : line.replace(/`[^`]*`/g, "``")));
}

export function markdownLinks(text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  proseLines(text).forEach((line, index) => {
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ line: index + 1, target: match[1]! });
    }
    const reference = /^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(\s|$)/.exec(line);
    if (reference) links.push({ line: index + 1, target: reference[1]! });
  });
  return links;
}

export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every anchor the file's headings (`#` lines outside code blocks) give it. */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { line, code } of classifyLines(text)) {
    const heading = code ? undefined : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)?.[1];
    if (!heading) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

/** Whether a link target leaves the repository (a URL or a mail address). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}
