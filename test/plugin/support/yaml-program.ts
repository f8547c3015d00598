/**
 * Runs a Pulumi YAML program that uses this package (examples/yaml/Pulumi.yaml) inside a test
 * program: each resource of type `mtls-pki:<Component>` is constructed through the package's
 * component provider (construct.ts, as the engine would on the YAML runtime's request), its
 * properties evaluated from the program's expressions, and the program's outputs returned.
 *
 * The smallest evaluator the example needs, and it refuses the rest: `config` (defaults, overridden
 * by the test), `resources` of this package only, `outputs`, and expressions `${name}`,
 * `${name.property}`, `${name.map["key"].field}` (a whole-string reference keeps the value's type;
 * text around references makes a string). No `variables`, `fn::` functions, `options` or other
 * packages. It stands in for the YAML language host (the tests run without the Pulumi CLI); what it checks is that
 * the program's values reach the components as the schema says and deploy.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { MtlsPkiProvider } from "../../../plugin/host.ts";
import { type Constructed, construct } from "./construct.ts";

export interface YamlProgram {
  name: string;
  packages?: Record<string, string>;
  config?: Record<string, { type?: string; default?: unknown }>;
  resources: Record<string, { type: string; properties?: Record<string, unknown>; options?: unknown }>;
  outputs?: Record<string, unknown>;
}

export function readYamlProgram(file: string): YamlProgram {
  return parse(readFileSync(file, "utf8")) as YamlProgram;
}

const REFERENCE = /\$\{([^}]+)\}/g;

/** `pki.identities["api"].chainPem` as [root, ...keys]. */
export function referencePath(expression: string): string[] {
  const [root, ...rest] = expression.split(/(?=[.[])/);
  return [
    root!,
    ...rest.map((part) => {
      const key = /^\.(\w+)$/.exec(part) ?? /^\["([^"]+)"\]$/.exec(part) ?? /^\[(\d+)\]$/.exec(part);
      if (!key) throw new Error(`yaml-program: cannot evaluate \${${expression}} (at ${part})`);
      return key[1]!;
    }),
  ];
}

/** Every `${...}` reference anywhere in a value. */
export function referencesIn(value: unknown): string[] {
  if (typeof value === "string") return [...value.matchAll(REFERENCE)].map((m) => m[1]!);
  if (Array.isArray(value)) return value.flatMap(referencesIn);
  if (value !== null && typeof value === "object") return Object.values(value).flatMap(referencesIn);
  return [];
}

export async function runYamlProgram(
  program: YamlProgram,
  provider: MtlsPkiProvider,
  config: Record<string, unknown> = {},
): Promise<{ resources: Map<string, Constructed>; outputs: Record<string, unknown> }> {
  for (const [name, resource] of Object.entries(program.resources)) {
    if (!resource.type.startsWith("mtls-pki:")) throw new Error(`yaml-program: ${name}: only mtls-pki types`);
    if (resource.options !== undefined) throw new Error(`yaml-program: ${name}: options are not evaluated`);
  }
  const values: Record<string, unknown> = Object.fromEntries(
    Object.entries(program.config ?? {}).map(([key, spec]) => [
      key,
      key in config ? config[key] : spec.default,
    ]),
  );
  const constructed = new Map<string, Promise<Constructed>>();

  const resource = (name: string): Promise<Constructed> => {
    let pending = constructed.get(name);
    if (!pending) {
      const declaration = program.resources[name];
      if (!declaration) throw new Error(`yaml-program: no resource or config "${name}"`);
      const component = declaration.type.split(":").at(-1)!;
      pending = evaluate(declaration.properties ?? {}).then((properties) =>
        construct(provider, component, name, properties as Record<string, unknown>),
      );
      constructed.set(name, pending);
    }
    return pending;
  };

  const reference = async (expression: string): Promise<unknown> => {
    const [root, ...keys] = referencePath(expression);
    if (root! in values && !(root! in program.resources)) {
      return keys.reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], values[root!]);
    }
    const [property, ...rest] = keys;
    if (property === undefined)
      throw new Error(`yaml-program: \${${expression}}: a whole resource is not evaluated`);
    const output = (await resource(root!)).outputs[property];
    if (output === undefined)
      throw new Error(`yaml-program: \${${expression}}: ${root} has no output ${property}`);
    return rest.length === 0
      ? output
      : output.apply((value) =>
          rest.reduce<unknown>((inner, key) => {
            if (inner === null || typeof inner !== "object" || !(key in inner)) {
              throw new Error(`yaml-program: \${${expression}}: no ${key}`);
            }
            return (inner as Record<string, unknown>)[key];
          }, value),
        );
  };

  const evaluate = async (value: unknown): Promise<unknown> => {
    if (typeof value === "string") {
      const whole = /^\$\{([^}]+)\}$/.exec(value);
      if (whole) return reference(whole[1]!);
      const parts = value.split(REFERENCE);
      if (parts.length === 1) return value;
      // Odd indexes are the references' expressions.
      const pieces = await Promise.all(parts.map((part, i) => (i % 2 === 1 ? reference(part) : part)));
      return pulumi.all(pieces).apply((resolved) => resolved.join(""));
    }
    if (Array.isArray(value)) return Promise.all(value.map(evaluate));
    if (value !== null && typeof value === "object") {
      const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await evaluate(v)]));
      return Object.fromEntries(entries);
    }
    return value;
  };

  // Every resource, whether or not anything refers to it, as the YAML runtime declares them all.
  const resources = new Map<string, Constructed>();
  for (const name of Object.keys(program.resources)) resources.set(name, await resource(name));
  const outputs = (await evaluate(program.outputs ?? {})) as Record<string, unknown>;
  return { resources, outputs };
}
