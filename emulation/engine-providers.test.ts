/**
 * The engine's explicit provider resources (`pulumi:providers:<pkg>`) and resources that were made
 * but did not become ready (the plugin's ErrorResourceInitFailed), with a fake provider:
 * a resource is served with its provider's inputs (the default provider with its package's stack
 * config), a provider outlives what it serves, a changed provider is updated or (replace) refused,
 * and an init failure stays in the state and is updated on the next run.
 */
import * as pulumi from "@pulumi/pulumi";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { EmulatedEngine } from "./engine/engine.ts";
import {
  type ConfigDiffRequest,
  type CreateRequest,
  type CreateResult,
  type DeleteRequest,
  type DiffRequest,
  type DiffResult,
  type EmulatedProvider,
  type Inputs,
  ResourceInitError,
  type UpdateRequest,
} from "./engine/provider.ts";
import { changedKeys } from "./engine/values.ts";
import { runProgram } from "./run-program.ts";

/** Package "fake": records which provider config served each call; `partial` makes a create half-fail. */
class FakeProvider implements EmulatedProvider {
  readonly pkg = "fake";
  readonly log: string[] = [];
  secretOutputs(): readonly string[] {
    return [];
  }
  checkConfig(name: string, inputs: Inputs): void {
    if (inputs.bad !== undefined) throw new Error(`provider "${name}": bad is not allowed`);
  }
  diffConfig(req: ConfigDiffRequest): DiffResult {
    const changed = changedKeys(req.oldInputs, req.newInputs);
    if (changed.length === 0) return { kind: "none" };
    return changed.includes("region")
      ? { kind: "replace", changed, deleteBeforeReplace: false }
      : { kind: "update", changed };
  }
  diff(req: DiffRequest): DiffResult {
    const changed = changedKeys(req.oldInputs, req.newInputs);
    return changed.length > 0 ? { kind: "update", changed } : { kind: "none" };
  }
  async create(req: CreateRequest): Promise<CreateResult> {
    const served = `${req.name} via ${String(req.provider?.inputs.region)}`;
    if (!req.preview) this.log.push(`create ${served}`);
    if (req.inputs.partial === true && !req.preview) {
      throw new ResourceInitError(`${req.name} did not become ready`, `${req.name}-id`, {
        ...req.inputs,
        ready: false,
      });
    }
    return { id: req.preview ? "" : `${req.name}-id`, state: { ...req.inputs, ready: true } };
  }
  async update(req: UpdateRequest): Promise<CreateResult> {
    if (!req.preview) this.log.push(`update ${req.name} via ${String(req.provider?.inputs.region)}`);
    return { id: req.id, state: { ...req.inputs, ready: true } };
  }
  async delete(req: DeleteRequest): Promise<void> {
    this.log.push(`delete ${req.name} via ${String(req.provider?.inputs.region)}`);
  }
}

class FakeProviderResource extends pulumi.ProviderResource {
  constructor(name: string, args: { region?: string; zone?: string; bad?: string }) {
    super("fake", name, args);
  }
}

class Thing extends pulumi.CustomResource {
  declare readonly ready: pulumi.Output<boolean>;
  constructor(name: string, args: { size: number; partial?: boolean }, opts?: pulumi.CustomResourceOptions) {
    super("fake:index/thing:Thing", name, { ...args, ready: undefined }, opts);
  }
}

let fake: FakeProvider;
let engine: EmulatedEngine;

beforeEach(() => {
  fake = new FakeProvider();
  engine = new EmulatedEngine([fake]);
});

afterEach(async () => {
  await engine.destroyAll();
});

const up = (program: () => Record<string, unknown>, config?: Record<string, unknown>) =>
  runProgram({ engine, project: "proj", stack: "dev", config, program: async () => program() });

describe("explicit provider resources", () => {
  test("a resource is served with its explicit provider's inputs, the default provider with the package's stack config", async () => {
    await up(
      () => {
        const eu = new FakeProviderResource("eu", { region: "eu-1" });
        new Thing("mine", { size: 1 }, { provider: eu });
        new Thing("default", { size: 1 });
        return {};
      },
      { "fake:region": "from-config" },
    );
    expect(fake.log.sort()).toEqual(["create default via from-config", "create mine via eu-1"]);
  });

  test("destroy deletes what a provider serves before the provider, with the provider's inputs", async () => {
    await up(() => {
      const eu = new FakeProviderResource("eu", { region: "eu-1" });
      new Thing("mine", { size: 1 }, { provider: eu });
      return {};
    });
    await engine.destroyAll();
    expect(fake.log).toEqual(["create mine via eu-1", "delete mine via eu-1"]);
    expect(engine.resources()).toEqual([]);
  });

  test("a provider whose inputs change in place is updated and serves the next operations with them", async () => {
    const program = (zone: string, size: number) => () => {
      const eu = new FakeProviderResource("eu", { region: "eu-1", zone });
      new Thing("mine", { size }, { provider: eu });
      return {};
    };
    await up(program("a", 1));
    const run = await up(program("b", 2));
    expect(run.ops.find((o) => o.type === "pulumi:providers:fake")).toMatchObject({
      op: "update",
      changed: ["zone"],
    });
    const provider = engine.resources().find((r) => r.type === "pulumi:providers:fake");
    expect(provider?.inputs).toEqual({ region: "eu-1", zone: "b" });
  });

  test("a provider change its plugin answers with a replacement is refused, naming the provider", async () => {
    const program = (region: string) => () => {
      const eu = new FakeProviderResource("eu", { region });
      new Thing("mine", { size: 1 }, { provider: eu });
      return {};
    };
    await up(program("eu-1"));
    await expect(up(program("eu-2"))).rejects.toThrow(
      /replacing provider urn:.*pulumi:providers:fake::eu \(changed: region\).*not emulated/,
    );
  });

  test("the plugin's CheckConfig refuses bad provider inputs with its message", async () => {
    await expect(up(() => ({ p: new FakeProviderResource("eu", { bad: "x" }).urn }))).rejects.toThrow(
      /provider "eu": bad is not allowed/,
    );
  });

  test("a package without provider-resource support refuses explicit providers", async () => {
    const engineWithout = new EmulatedEngine([]);
    const run = runProgram({
      engine: engineWithout,
      project: "proj",
      stack: "dev",
      program: async () => ({ p: new FakeProviderResource("eu", { region: "x" }).urn }),
    });
    await expect(run).rejects.toThrow(/explicit provider resources of package "fake" are not emulated/);
  });
});

describe("a resource made but not ready (init error)", () => {
  test("fails the run with the plugin's message and stays in the state with its id", async () => {
    await expect(up(() => ({ id: new Thing("half", { size: 1, partial: true }).id }))).rejects.toThrow(
      /half did not become ready/,
    );
    const kept = engine.resource("fake:index/thing:Thing", "half");
    expect(kept).toMatchObject({
      id: "half-id",
      outputs: { ready: false },
      initErrors: ["half did not become ready"],
    });
  });

  test("the next run updates it although nothing changed, and the update clears the error", async () => {
    await expect(up(() => ({ id: new Thing("half", { size: 1, partial: true }).id }))).rejects.toThrow();
    const run = await up(() => ({ id: new Thing("half", { size: 1, partial: true }).id }));
    expect(run.ops).toMatchObject([{ op: "update", name: "half" }]);
    expect(fake.log).toEqual(["create half via undefined", "update half via undefined"]);
    expect(engine.resource("fake:index/thing:Thing", "half")?.initErrors).toBeUndefined();
    const again = await up(() => ({ id: new Thing("half", { size: 1, partial: true }).id }));
    expect(again.ops).toMatchObject([{ op: "same" }]);
  });

  test("destroy deletes it", async () => {
    await expect(up(() => ({ id: new Thing("half", { size: 1, partial: true }).id }))).rejects.toThrow();
    await engine.destroyAll();
    expect(fake.log).toContain("delete half via undefined");
  });
});
