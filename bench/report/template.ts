/**
 * The report's Markdown templates (benchmarks.md, performance-paragraph.md) with named slots,
 * Mustache-like: `{{name}}` is the slot's text, `{{#name}}…{{/name}}` is kept only when the slot is
 * true (or non-empty text), `{{^name}}…{{/name}}` only when it is not. A section tag alone on its line
 * takes no line, and a dropped section that filled whole lines (a table row) leaves no empty line. A
 * slot the template names but no filler provides is an error naming both: no figure silently goes missing.
 */
import { readFileSync } from "node:fs";

export type SlotValue = string | number | boolean | undefined;
export type Slots = Record<string, SlotValue>;

const SECTION = /\{\{([#^])([\w.-]+)\}\}([\s\S]*?)\{\{\/\2\}\}(\n?)/;

/**
 * `absent(name)`: the value of a slot the filler did not provide but knows by the shape of its name
 * (a figure of a measurement the run did not make), or undefined to make it an error.
 */
export function fillTemplate(
  template: string,
  slots: Slots,
  where: string,
  absent: (name: string) => SlotValue = () => undefined,
): string {
  const lookup = (name: string): SlotValue => {
    if (name in slots) return slots[name];
    const value = absent(name);
    if (value === undefined) throw new Error(`${where}: the template names {{${name}}}, which no slot fills`);
    return value;
  };
  let text = template.replace(/^[ \t]*(\{\{[#^/][\w.-]+\}\})[ \t]*\n/gm, "$1");
  for (let match = SECTION.exec(text); match; match = SECTION.exec(text)) {
    const [, kind, name, body = "", newline = ""] = match;
    const kept = (kind === "#") === Boolean(lookup(name!));
    // A section that fills whole lines takes its line break with it when it is dropped.
    const wholeLines = match.index === 0 || text[match.index - 1] === "\n";
    text = text.replace(SECTION, () => (kept ? body + newline : wholeLines ? "" : newline));
  }
  return text.replace(/\{\{([\w.-]+)\}\}/g, (_, name: string) => {
    const value = lookup(name);
    if (value === undefined || typeof value === "boolean")
      throw new Error(`${where}: the slot {{${name}}} has no text`);
    return String(value);
  });
}

/** The template `name` beside this file, filled; its errors name it as bench/report/<name>. */
export function fillTemplateFile(name: string, slots: Slots, absent?: (name: string) => SlotValue) {
  const template = readFileSync(new URL(`./${name}`, import.meta.url), "utf8");
  return fillTemplate(template, slots, `bench/report/${name}`, absent);
}
