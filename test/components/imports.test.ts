/**
 * The layout of components/: the library's modules import each other without a cycle, none of them
 * imports the stack-config reader (only the program's entry points do), and none reaches into
 * test/ or bench/.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMPONENTS = path.join(ROOT, "components");

/** Relative imports of a module, as paths from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(ROOT, file), "utf8");
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+["']([^"']+)["']/gm)].map(
    (m) => m[1]!,
  );
  return specifiers
    .filter((s) => s.startsWith("."))
    .map((s) => path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), s)));
}

// Every module, those of the runtimes' folders (components/kubernetes/) included.
const modules = readdirSync(COMPONENTS, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts"))
  .map((f) => `components/${f}`);
const graph = new Map(modules.map((m) => [m, importsOf(m)]));

it("reads the import graph of components/ (a sanity check of the parser)", () => {
  expect(modules).toContain("components/index.ts");
  expect(graph.get("components/index.ts")).toContain("components/mtls-pki.ts");
  expect(graph.get("components/index.ts")).toContain("components/kubernetes/mtls-kubernetes-service.ts");
  expect(importsOf("index.ts")).toEqual([
    "components/config.ts",
    "components/index.ts",
    "program/cluster-reachable.ts",
    "program/containers.ts",
    "program/kubernetes.ts",
  ]);
});

it("has no import cycle in components/", () => {
  const cycles: string[] = [];
  const visit = (module: string, stack: string[]) => {
    if (stack.includes(module)) {
      cycles.push([...stack.slice(stack.indexOf(module)), module].join(" -> "));
      return;
    }
    for (const next of graph.get(module) ?? []) if (graph.has(next)) visit(next, [...stack, module]);
  };
  for (const module of modules) visit(module, []);
  expect(cycles).toEqual([]);
});

it("lets no library module import the stack-config reader, test/ or bench/", () => {
  const offenders = [...graph].flatMap(([module, imports]) =>
    imports
      .filter((i) => i === "components/config.ts" || i.startsWith("test/") || i.startsWith("bench/"))
      .map((i) => `${module} -> ${i}`),
  );
  expect(offenders).toEqual([]);
});
