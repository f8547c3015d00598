/**
 * A Pulumi program run under the project's emulated engine (emulation/), and what that run's
 * resources look like to a policy pack: for Analyze, each resource's inputs as the SDK sent them
 * (secrets nested where they were, unknowns as the sentinel); for AnalyzeStack, each resource's
 * outputs (at preview: the planned state) with its parent, dependencies and property
 * dependencies, plus the root stack resource whose properties are the stack outputs.
 *
 * As the real engine does: an output is secret when the provider marks it (additionalSecretOutputs)
 * or when the input of the same name was secret (the whole property, as the measured state of a
 * delivery container's `uploads` shows). Left out, unlike a real run: default provider resources
 * (pulumi:providers:tls, :docker), which no policy reads, and at preview the computed outputs the
 * emulated providers do not plan, except the secret ones (unknown secrets here, as there).
 */
import * as pulumi from "@pulumi/pulumi";
import { vi } from "vitest";
import {
  createDockerProvider,
  EmulatedEngine,
  type EmulatedProvider,
  type Registration,
  runProgram,
  TlsProvider,
} from "../../../emulation/index.ts";
import type { AnalyzerResource } from "./policy-pack.ts";

const SIG_KEY = pulumi.runtime.specialSigKey;
const SECRET_SIG = pulumi.runtime.specialSecretSig;
/** The sentinel the SDK sends for an unknown value, and the engine passes on to analyzers. */
const UNKNOWN_WIRE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface AnalyzedRun {
  /** Analyze requests, one per registered resource (inputs). */
  resources: AnalyzerResource[];
  /** The AnalyzeStack request's resources (outputs), the root stack resource first. */
  stack: AnalyzerResource[];
}

function isWireSecret(v: unknown): boolean {
  return v !== null && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** A provider's state value in wire form: unknowns as the sentinel (secrets are added by the caller). */
function toWire(v: unknown): unknown {
  if (pulumi.isUnknown(v)) return UNKNOWN_WIRE;
  if (Array.isArray(v)) return v.map(toWire);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, item]) => item !== undefined)
        .map(([k, item]) => [k, toWire(item)]),
    );
  }
  return v;
}

const secretWire = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

function providerOf(providers: EmulatedProvider[], type: string): EmulatedProvider | undefined {
  return providers.find((p) => type.startsWith(`${p.pkg}:`));
}

function outputsOf(
  reg: Registration,
  providers: EmulatedProvider[],
  preview: boolean,
): Record<string, unknown> {
  const sent = reg.options.sentInputs;
  const provider = providerOf(providers, reg.type);
  const secretNames = new Set([
    ...(provider?.secretOutputs(reg.type) ?? []),
    ...reg.options.additionalSecretOutputs,
    ...Object.keys(sent).filter((k) => isWireSecret(sent[k]) || JSON.stringify(sent[k]).includes(SECRET_SIG)),
  ]);
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(reg.outputs)) {
    if (value === undefined) continue;
    outputs[key] = secretNames.has(key) ? secretWire(toWire(value)) : toWire(value);
  }
  if (preview) {
    for (const key of provider?.secretOutputs(reg.type) ?? []) {
      if (!(key in outputs)) outputs[key] = secretWire(UNKNOWN_WIRE);
    }
  }
  return outputs;
}

export function stackUrn(project: string, stack: string): string {
  return `urn:pulumi:${stack}::${project}::pulumi:pulumi:Stack::${project}-${stack}`;
}

export interface EmulatedRunOptions {
  project: string;
  stack: string;
  config: Record<string, string>;
  program: () => Promise<Record<string, unknown>>;
  preview: boolean;
  /** The engine (e.g. with state from an earlier `up`); a fresh one with tls and docker otherwise. */
  engine?: EmulatedEngine;
  providers?: EmulatedProvider[];
}

/** Runs the program once (preview or up) and describes its resources as the engine would to a pack. */
export async function analyzedRun(options: EmulatedRunOptions): Promise<AnalyzedRun> {
  const providers = options.providers ?? [new TlsProvider(), createDockerProvider()];
  const engine = options.engine ?? new EmulatedEngine(providers);
  let exports: Record<string, unknown> = {};
  const run = await runProgram({
    engine,
    project: options.project,
    stack: options.stack,
    config: options.config,
    preview: options.preview,
    program: async () => {
      exports = await options.program();
      return exports;
    },
    freshModules: vi.resetModules,
  });
  const root = stackUrn(options.project, options.stack);
  const resources: AnalyzerResource[] = [];
  const stack: AnalyzerResource[] = [
    {
      type: "pulumi:pulumi:Stack",
      name: `${options.project}-${options.stack}`,
      urn: root,
      // What the SDK sends with the stack's RegisterResourceOutputs: each export, secrets and
      // unknowns in wire form (the mocks installed for the run make it serialise secrets).
      properties: (await pulumi.runtime.serializeProperties("outputs", { ...exports })) as Record<
        string,
        unknown
      >,
    },
  ];
  for (const reg of run.registrations) {
    const common = {
      type: reg.type,
      name: reg.name,
      urn: reg.urn,
      parent: reg.parent ?? root,
      dependencies: reg.options.dependencies,
      propertyDependencies: reg.options.propertyDependencies,
      additionalSecretOutputs: reg.options.additionalSecretOutputs,
    };
    resources.push({ ...common, properties: reg.options.sentInputs });
    stack.push({ ...common, properties: reg.custom ? outputsOf(reg, providers, options.preview) : {} });
  }
  return { resources, stack };
}
