/**
 * The report's template engine (bench/report/template.ts): slots are replaced, sections kept or
 * dropped by their slot, a dropped table row leaves no empty line, and a slot the template names but
 * no filler provides is an error naming it, never an empty figure.
 */
import { describe, expect, test } from "vitest";
import { absentFigure } from "../../bench/report/figures.ts";
import { fillTemplate } from "../../bench/report/template.ts";

describe("report template", () => {
  test("fills slots and keeps or drops sections by their slot", () => {
    const text = "{{#a}}A {{x}}.{{/a}}{{^a}}not a.{{/a}} {{#b}}B{{/b}}{{^b}}no b{{/b}}";
    expect(fillTemplate(text, { a: true, b: false, x: "1.5×" }, "t")).toBe("A 1.5×. no b");
  });

  test("a dropped table row and a section tag alone on its line leave no empty line", () => {
    const text =
      "| h |\n|---|\n{{#one}}| 1 |{{/one}}\n{{#two}}| 2 |{{/two}}\n{{#three}}\n| 3 |\n{{/three}}\nend\n";
    expect(fillTemplate(text, { one: true, two: false, three: true }, "t")).toBe(
      "| h |\n|---|\n| 1 |\n| 3 |\nend\n",
    );
  });

  test("a slot no filler provides is an error naming it and the template", () => {
    expect(() => fillTemplate("ratio {{proxyKeepAlive.ratio}}", {}, "bench/report/benchmarks.md")).toThrow(
      "bench/report/benchmarks.md: the template names {{proxyKeepAlive.ratio}}, which no slot fills",
    );
    expect(() => fillTemplate("{{#flag}}x{{/flag}} {{flag}}", { flag: true }, "t")).toThrow("has no text");
  });

  test("a figure of a measurement the run did not make reads n/a, its row flag is off, anything else fails", () => {
    const text =
      "{{#proxy.keepAlive.haproxy}}| row |{{/proxy.keepAlive.haproxy}}{{proxy.keepAlive.haproxy.cpuUs}} µs";
    expect(fillTemplate(text, {}, "t", absentFigure)).toBe("n/a µs");
    expect(() => fillTemplate("{{proxyKeepAlive.cieling}}", {}, "t", absentFigure)).toThrow(
      "which no slot fills",
    );
  });
});
