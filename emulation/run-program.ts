/**
 * Runs a Pulumi program under the emulated engine, the way `pulumi up` / `pulumi preview` would:
 * mocks and config installed first, the program module loaded fresh, every registration awaited,
 * then the stack outputs resolved to plain values and the end-of-run deletes done.
 *
 *   const engine = new EmulatedEngine([new TlsProvider()]);
 *   const run = await runProgram({ engine, project: "mtls-pki", stack: "dev", config: { clients: 2 },
 *     program: () => import("../../index.ts"), freshModules: vi.resetModules });
 *   run.exports.caCertPem; run.isSecret("clientKeys"); engine.ops;
 */
import * as pulumi from "@pulumi/pulumi";
import type { EmulatedEngine, OpRecord, Registration } from "./engine/engine.ts";

/** Stands for a value that is unknown (only in preview). */
export const UNKNOWN: unique symbol = Symbol("unknown");

export interface RunProgramOptions {
  engine: EmulatedEngine;
  project: string;
  stack: string;
  /**
   * Stack config. Keys without a namespace get `<project>:`; values that are not strings are
   * JSON-encoded, as `pulumi config set --path`/the stack file would hand them to the program.
   */
  config?: Record<string, unknown>;
  /** `pulumi preview` instead of `pulumi up`: nothing is created, computed values are unknown. */
  preview?: boolean;
  /** Loads the program; its exports are the stack outputs. Usually `() => import("../../index.ts")`. */
  program: () => Promise<Record<string, unknown>>;
  /**
   * Called just before the program loads. A program that is a module declares its resources at
   * its top level, which runs once per module graph: under vitest pass `vi.resetModules` so a second
   * run in the same file runs it again. Not needed for a program that is a function.
   */
  freshModules?: () => void;
}

export interface ProgramRun {
  /** Stack outputs as plain values (unknown ones, in preview, are `UNKNOWN`). */
  exports: Record<string, unknown>;
  /** Whether the stack output is a secret. Throws for a name the program does not export. */
  isSecret(name: string): boolean;
  /** Whether the stack output is fully known (always true outside preview). */
  isKnown(name: string): boolean;
  ops: readonly OpRecord[];
  registrations: readonly Registration[];
}

export interface OutputState<T> {
  value: T | typeof UNKNOWN;
  known: boolean;
  secret: boolean;
}

interface OutputInternals<T> {
  isKnown: Promise<boolean>;
  isSecret: Promise<boolean>;
  promise(withUnknowns?: boolean): Promise<T>;
}

function replaceUnknowns(v: unknown): unknown {
  if (pulumi.isUnknown(v)) return UNKNOWN;
  if (Array.isArray(v)) return v.map(replaceUnknowns);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, replaceUnknowns(item)]));
  }
  return v;
}

/** Value, knownness and secretness of anything a program exports (Outputs nested anywhere). */
export async function inspectOutput<T>(input: pulumi.Input<T>): Promise<OutputState<T>> {
  const out = pulumi.output(input) as unknown as OutputInternals<T>;
  const [known, secret] = await Promise.all([out.isKnown, out.isSecret]);
  const raw = await out.promise(true);
  return { value: known ? raw : (replaceUnknowns(raw) as T | typeof UNKNOWN), known, secret };
}

/** The plain value of an Output; throws if it is unknown (a preview value). */
export async function outputValue<T>(input: pulumi.Input<T>): Promise<T> {
  const state = await inspectOutput(input);
  if (!state.known) throw new Error("output value is unknown (preview)");
  return state.value as T;
}

export async function isSecretOutput(input: pulumi.Input<unknown>): Promise<boolean> {
  return (await inspectOutput(input)).secret;
}

function qualify(project: string, key: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

function configValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function runFailure(engine: EmulatedEngine): Error {
  return new Error(`pulumi program failed:\n${engine.errors.map((e) => e.message).join("\n")}`, {
    cause: engine.errors[0],
  });
}

/**
 * For the length of a run, an unhandled rejection is the program's failure, as under Pulumi's
 * language host (`@pulumi/pulumi/cmd/run/run.js` owns the process's `unhandledRejection` handler and
 * logs each error once): e.g. an exception thrown inside an `apply` whose Output feeds a resource.
 * Returns the function that restores the previous handlers.
 */
function failOnUnhandledRejections(engine: EmulatedEngine): () => void {
  const previous = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const seen = new Set<unknown>();
  const handler = (reason: unknown) => {
    if (seen.has(reason)) return;
    seen.add(reason);
    engine.reportError(reason);
  };
  process.on("unhandledRejection", handler);
  return () => {
    process.off("unhandledRejection", handler);
    for (const listener of previous) process.on("unhandledRejection", listener);
  };
}

export async function runProgram(options: RunProgramOptions): Promise<ProgramRun> {
  const restore = failOnUnhandledRejections(options.engine);
  try {
    return await runOnce(options);
  } finally {
    restore();
  }
}

async function runOnce(options: RunProgramOptions): Promise<ProgramRun> {
  const { engine, project } = options;
  const config = Object.fromEntries(
    Object.entries(options.config ?? {}).map(([k, v]) => [qualify(project, k), configValue(v)]),
  );
  await engine.startRun({ project, stack: options.stack, preview: options.preview, config });
  pulumi.runtime.setAllConfig(config);
  options.freshModules?.();

  let moduleExports: Record<string, unknown> = {};
  try {
    moduleExports = await options.program();
  } catch (err) {
    engine.reportError(err);
  }
  await engine.settle();
  if (engine.hasErrors) {
    await engine.finishRun();
    throw runFailure(engine);
  }

  const states = new Map<string, OutputState<unknown>>();
  const resolveAll = Promise.all(
    Object.entries(moduleExports).map(async ([name, value]) => {
      states.set(name, await inspectOutput(value as pulumi.Input<unknown>));
    }),
  );
  try {
    await Promise.race([resolveAll, engine.failed]);
  } catch (err) {
    engine.reportError(err);
  }
  await engine.settle();
  await engine.finishRun();
  if (engine.hasErrors) throw runFailure(engine);

  const get = (name: string): OutputState<unknown> => {
    const state = states.get(name);
    if (!state)
      throw new Error(`the program exports no "${name}" (exports: ${[...states.keys()].join(", ")})`);
    return state;
  };
  return {
    exports: Object.fromEntries([...states].map(([k, s]) => [k, s.value])),
    isSecret: (name) => get(name).secret,
    isKnown: (name) => get(name).known,
    ops: engine.ops,
    registrations: engine.registrations,
  };
}
