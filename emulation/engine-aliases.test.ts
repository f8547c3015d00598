/**
 * Aliases in the emulated engine, as the real engine's step generator resolves them: a resource
 * found under an alias (its own, or one inherited from an aliased parent) keeps its state and, with
 * unchanged inputs, is a `same` step; without the alias the same refactor deletes and creates.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { expect, test } from "vitest";
import { EmulatedEngine, runProgram, TlsProvider } from "./index.ts";

class Old extends pulumi.ComponentResource {
  constructor(name: string) {
    super("test:index:Old", name, {});
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ED25519" }, { parent: this });
    new Child(`${name}-child`, key.publicKeyPem, this);
    this.registerOutputs({});
  }
}

class Child extends pulumi.ComponentResource {
  constructor(name: string, pem: pulumi.Input<string>, parent: pulumi.Resource) {
    super("test:index:Child", name, {}, { parent });
    new tls.PrivateKey(`${name}-key`, { algorithm: "ED25519" }, { parent: this });
    void pem;
    this.registerOutputs({});
  }
}

/** The same resources under a component of a new type and name, with or without the alias. */
class Renamed extends pulumi.ComponentResource {
  constructor(name: string, aliased: boolean) {
    super("test:index:New", name, {}, aliased ? { aliases: [{ type: "test:index:Old", name: "pki" }] } : {});
    const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ED25519" }, { parent: this });
    new Child(`${name}-child`, key.publicKeyPem, this);
    this.registerOutputs({});
  }
}

async function upgrade(aliased: boolean, preview = false) {
  const engine = new EmulatedEngine([new TlsProvider()]);
  const run = (program: () => void, asPreview = false) =>
    runProgram({
      engine,
      project: "p",
      stack: "s",
      preview: asPreview,
      program: async () => {
        program();
        return {};
      },
    });
  await run(() => new Old("pki"));
  const before = engine.resources().map((r) => ({ id: r.id, outputs: r.outputs }));
  expect(before).toHaveLength(4);
  const second = await run(() => new Renamed("ca", aliased), preview);
  return { engine, before, second };
}

test("adopts a component found under its alias, and every descendant through the parent's alias, as same", async () => {
  const { engine, before, second } = await upgrade(true);
  expect(second.ops.map((op) => `${op.op} ${op.name}`).sort()).toEqual([
    "same ca",
    "same ca-child",
    "same ca-child-key",
    "same ca-key",
  ]);
  const grandchild = second.registrations.find((r) => r.name === "ca-child-key")!;
  expect(grandchild.aliasedFrom).toBe(
    "urn:pulumi:s::p::test:index:Child$tls:index/privateKey:PrivateKey::pki-child-key",
  );
  expect(grandchild.urn).toBe(
    "urn:pulumi:s::p::test:index:Child$tls:index/privateKey:PrivateKey::ca-child-key",
  );
  // The state moved to the new URNs with the same ids and outputs (the keys were not re-made).
  expect(engine.resources().map((r) => ({ id: r.id, outputs: r.outputs }))).toEqual(before);
  expect(
    engine
      .resources()
      .map((r) => r.urn)
      .sort(),
  ).toEqual([
    "urn:pulumi:s::p::test:index:Child$tls:index/privateKey:PrivateKey::ca-child-key",
    "urn:pulumi:s::p::test:index:New$test:index:Child::ca-child",
    "urn:pulumi:s::p::test:index:New$tls:index/privateKey:PrivateKey::ca-key",
    "urn:pulumi:s::p::test:index:New::ca",
  ]);
});

test("previews an aliased refactor as same without moving the state", async () => {
  const { engine, second } = await upgrade(true, true);
  expect(second.ops.map((op) => op.op)).toEqual(["same", "same", "same", "same"]);
  expect(
    engine
      .resources()
      .map((r) => r.name)
      .sort(),
  ).toEqual(["pki", "pki-child", "pki-child-key", "pki-key"]);
});

test("without the alias the same refactor creates the new resources and deletes the old", async () => {
  const { second } = await upgrade(false);
  const counts = second.ops.reduce<Record<string, number>>((acc, op) => {
    acc[op.op] = (acc[op.op] ?? 0) + 1;
    return acc;
  }, {});
  expect(counts).toEqual({ create: 4, delete: 4 });
});

test("refuses two resources claiming the same old resource", async () => {
  const engine = new EmulatedEngine([new TlsProvider()]);
  const program = (body: () => void) => async () => {
    body();
    return {};
  };
  await runProgram({
    engine,
    project: "p",
    stack: "s",
    program: program(() => new tls.PrivateKey("old", { algorithm: "ED25519" })),
  });
  const attempt = runProgram({
    engine,
    project: "p",
    stack: "s",
    program: program(() => {
      new tls.PrivateKey("a", { algorithm: "ED25519" }, { aliases: [{ name: "old" }] });
      new tls.PrivateKey("b", { algorithm: "ED25519" }, { aliases: [{ name: "old" }] });
    }),
  });
  await expect(attempt).rejects.toThrow(/Duplicate resource alias/);
});
