/**
 * The emulated engine behaves like Pulumi's towards programs and providers: it dispatches by
 * package, unwraps secret inputs and returns secret outputs, records the resource graph, keeps
 * state between runs (no-op, update, replace, delete), previews without changing anything, and
 * reports a failed resource instead of hanging.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { EmulatedEngine } from "./engine/engine.ts";
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  EmulatedProvider,
  UpdateRequest,
} from "./engine/provider.ts";
import { changedKeys } from "./engine/values.ts";
import { inspectOutput, isSecretOutput, outputValue, runProgram, UNKNOWN } from "./run-program.ts";
import { TlsProvider } from "./tls/provider.ts";

/**
 * A test provider for package "fake": `size` changes replace (delete-before-replace when
 * `dbr` is set), `label` changes update in place, `token` is a computed secret output.
 */
class FakeProvider implements EmulatedProvider {
  readonly pkg = "fake";
  readonly log: string[] = [];
  readonly seenInputs: Record<string, unknown>[] = [];
  private next = 0;

  secretOutputs(): readonly string[] {
    return ["token"];
  }

  diff(req: DiffRequest): DiffResult {
    const changed = changedKeys(req.oldInputs, req.newInputs);
    if (changed.includes("size"))
      return { kind: "replace", changed, deleteBeforeReplace: req.newInputs.dbr === true };
    return changed.length > 0 ? { kind: "update", changed } : { kind: "none" };
  }

  async create(req: CreateRequest): Promise<CreateResult> {
    this.seenInputs.push(req.inputs);
    if (req.inputs.fail === true) throw new Error(`cannot create ${req.name}: asked to fail`);
    if (req.preview) return { id: "", state: { ...req.inputs } };
    const id = `${req.name}-${++this.next}`;
    this.log.push(`create ${id}`);
    return { id, state: { ...req.inputs, token: `token-of-${id}` } };
  }

  async update(req: UpdateRequest): Promise<CreateResult> {
    if (!req.preview) this.log.push(`update ${req.id}`);
    return { id: req.id, state: { ...req.oldState, ...req.inputs } };
  }

  async delete(req: DeleteRequest): Promise<void> {
    this.log.push(`delete ${req.id}`);
  }
}

interface ThingArgs {
  size: pulumi.Input<number>;
  label?: pulumi.Input<string>;
  note?: pulumi.Input<string>;
  dbr?: boolean;
  fail?: boolean;
}

class Thing extends pulumi.CustomResource {
  declare readonly size: pulumi.Output<number>;
  declare readonly label: pulumi.Output<string | undefined>;
  declare readonly note: pulumi.Output<string | undefined>;
  declare readonly token: pulumi.Output<string>;
  constructor(name: string, args: ThingArgs, opts?: pulumi.CustomResourceOptions) {
    super("fake:index/thing:Thing", name, { ...args, token: undefined }, opts);
  }
}

class Group extends pulumi.ComponentResource {
  readonly first: Thing;
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Group", name, {}, opts);
    this.first = new Thing(`${name}-first`, { size: 1 }, { parent: this });
    this.registerOutputs({ firstId: this.first.id });
  }
}

let fake: FakeProvider;
let engine: EmulatedEngine;
let now: Date;

beforeEach(() => {
  fake = new FakeProvider();
  now = new Date();
  engine = new EmulatedEngine([fake, new TlsProvider({ now: () => now })]);
});

afterEach(async () => {
  await engine.destroyAll();
});

type Program = () => Record<string, unknown>;

function up(program: Program, config?: Record<string, unknown>) {
  return runProgram({ engine, project: "proj", stack: "dev", config, program: async () => program() });
}

function preview(program: Program) {
  return runProgram({ engine, project: "proj", stack: "dev", preview: true, program: async () => program() });
}

/** A CA and one leaf; `leafHours`/`early` vary between runs. */
function pki(leafHours = 24, early?: number): Program {
  return () => {
    const caKey = new tls.PrivateKey("ca", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const ca = new tls.SelfSignedCert("ca", {
      privateKeyPem: caKey.privateKeyPem,
      isCaCertificate: true,
      validityPeriodHours: 48,
      allowedUses: ["cert_signing"],
      subject: { commonName: "CA" },
    });
    const key = new tls.PrivateKey("leaf", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const csr = new tls.CertRequest("leaf", {
      privateKeyPem: key.privateKeyPem,
      subject: { commonName: "leaf" },
    });
    const leaf = new tls.LocallySignedCert("leaf", {
      certRequestPem: csr.certRequestPem,
      caCertPem: ca.certPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      validityPeriodHours: leafHours,
      earlyRenewalHours: early,
      allowedUses: ["client_auth"],
    });
    return { caSerial: ca.id, leafSerial: leaf.id, keyId: key.id, leafPem: leaf.certPem };
  };
}

const opsOf = (ops: readonly { op: string; name: string; type: string }[]) =>
  ops.map((o) => `${o.op} ${o.type.split(":").pop()}/${o.name}`).sort();

describe("one run", () => {
  test("records every registration with its type, parent, inputs and outputs", async () => {
    await up(() => {
      const group = new Group("g");
      return { id: group.first.id };
    });
    expect(
      engine.registrations.map((r) => ({
        type: r.type,
        name: r.name,
        parent: r.parent,
        custom: r.custom,
        op: r.op,
      })),
    ).toEqual([
      { type: "test:index:Group", name: "g", parent: undefined, custom: false, op: "create" },
      {
        type: "fake:index/thing:Thing",
        name: "g-first",
        parent: "urn:pulumi:dev::proj::test:index:Group::g",
        custom: true,
        op: "create",
      },
    ]);
    const thing = engine.resource("fake:index/thing:Thing", "g-first");
    expect(thing?.urn).toBe("urn:pulumi:dev::proj::test:index:Group$fake:index/thing:Thing::g-first");
    expect(thing?.inputs).toEqual({ size: 1 });
    expect(thing?.outputs).toMatchObject({ size: 1, token: "token-of-g-first-1" });
    expect(engine.resource("test:index:Group", "g")?.componentOutputs).toEqual({ firstId: "g-first-1" });
  });

  test("a resource of a package without an emulated provider fails, naming the type", async () => {
    class Bucket extends pulumi.CustomResource {
      constructor(name: string) {
        super("aws:s3/bucket:Bucket", name, {});
      }
    }
    await expect(up(() => ({ id: new Bucket("b").id }))).rejects.toThrow(
      'no emulated provider for package "aws" (resource type aws:s3/bucket:Bucket, name b)',
    );
  });

  test("explicit provider resources of a package whose provider does not model them are refused", async () => {
    const run = up(() => {
      class FakeProviderResource extends pulumi.ProviderResource {
        constructor(name: string) {
          super("fake", name, {});
        }
      }
      return { id: new Thing("t", { size: 1 }, { provider: new FakeProviderResource("explicit") }).id };
    });
    await expect(run).rejects.toThrow(
      `pulumi:providers:fake 'explicit': explicit provider resources of package "fake" are not emulated`,
    );
  });

  test("secret inputs reach the provider unwrapped and come back secret", async () => {
    const run = await up(() => {
      const t = new Thing("t", { size: 1, label: pulumi.secret("s3cret"), note: "plain" });
      return { label: t.label, note: t.note, token: t.token, size: t.size };
    });
    expect(fake.seenInputs[0]).toEqual({ size: 1, label: "s3cret", note: "plain" });
    expect(run.exports).toEqual({ label: "s3cret", note: "plain", token: "token-of-t-1", size: 1 });
    expect(run.isSecret("label")).toBe(true);
    expect(run.isSecret("token")).toBe(true);
    expect(run.isSecret("note")).toBe(false);
    expect(run.isSecret("size")).toBe(false);
  });

  test("additionalSecretOutputs make those outputs secret", async () => {
    const run = await up(() => {
      const t = new Thing("t", { size: 1, note: "n" }, { additionalSecretOutputs: ["note"] });
      return { note: t.note };
    });
    expect(run.isSecret("note")).toBe(true);
  });

  test("a failing resource rejects the run with the provider's message, and its dependents never run", async () => {
    const failing = up(() => {
      const bad = new Thing("bad", { size: 1, fail: true });
      const dependent = new Thing("dependent", { size: bad.size });
      return { id: dependent.id };
    });
    await expect(failing).rejects.toThrow("fake:index/thing:Thing 'bad': cannot create bad: asked to fail");
    expect(fake.seenInputs.map((i) => i.size)).toEqual([1]);
    expect(engine.resources()).toEqual([]);
  });

  test("an invoke (data source) is refused, naming its token: the program uses none", async () => {
    const run = up(() => ({
      answer: pulumi.output(pulumi.runtime.invoke("fake:index/lookup:lookup", { query: "x" })),
    }));
    await expect(run).rejects.toThrow("invoke fake:index/lookup:lookup is not emulated");
  });

  test("a program that throws rejects the run with its error", async () => {
    await expect(
      up(() => {
        throw new Error("config key 'clients' must be at least 1");
      }),
    ).rejects.toThrow("config key 'clients' must be at least 1");
  });

  test("two resources with one URN are refused", async () => {
    await expect(
      up(() => {
        new Thing("twin", { size: 1 });
        return { id: new Thing("twin", { size: 2 }).id };
      }),
    ).rejects.toThrow("Duplicate resource URN 'urn:pulumi:dev::proj::fake:index/thing:Thing::twin'");
  });

  test("config reaches the program under the project namespace; secret keys stay secret", async () => {
    const run = await up(
      () => {
        const config = new pulumi.Config();
        return {
          clients: config.requireNumber("clients"),
          names: config.requireObject("names"),
          token: config.requireSecret("token"),
        };
      },
      { clients: 3, names: ["a", "b"], token: "t0k" },
    );
    expect(run.exports).toEqual({ clients: 3, names: ["a", "b"], token: "t0k" });
    expect(run.isSecret("token")).toBe(true);
  });
});

describe("state between runs", () => {
  test("an unchanged program is a no-op: same serials, no provider calls", async () => {
    const first = await up(pki());
    const second = await up(pki());
    expect(second.exports).toEqual(first.exports);
    expect(engine.ops.every((o) => o.op === "same")).toBe(true);
    expect(engine.ops).toHaveLength(5);
    expect(engine.calls).toEqual([]);
  });

  test("a changed input that requires replacement re-issues with a new serial", async () => {
    const first = await up(pki(24));
    const second = await up(pki(12));
    expect(second.exports.caSerial).toBe(first.exports.caSerial);
    expect(second.exports.leafSerial).not.toBe(first.exports.leafSerial);
    expect(engine.ops.find((o) => o.name === "leaf" && o.type.endsWith("LocallySignedCert"))).toMatchObject({
      op: "replace",
      changed: ["validityPeriodHours"],
    });
    // create-before-delete: the new certificate exists before the old one is deleted.
    expect(engine.calls.filter((c) => c.type.endsWith("LocallySignedCert")).map((c) => c.method)).toEqual([
      "create",
      "delete",
    ]);
  });

  test("an earlyRenewalHours change is an in-place update that keeps the serial", async () => {
    const first = await up(pki(24, 1));
    const second = await up(pki(24, 2));
    expect(second.exports.leafSerial).toBe(first.exports.leafSerial);
    expect(engine.ops.find((o) => o.name === "leaf" && o.type.endsWith("LocallySignedCert"))).toMatchObject({
      op: "update",
      changed: ["earlyRenewalHours"],
    });
    expect(
      engine.resource("tls:index/locallySignedCert:LocallySignedCert", "leaf")?.outputs.earlyRenewalHours,
    ).toBe(2);
  });

  test("inside the early renewal window the certificate is replaced without any input change", async () => {
    const first = await up(pki(24, 2));
    now = new Date(now.getTime() + 22 * 3_600_000 + 1000);
    const second = await up(pki(24, 2));
    expect(second.exports.leafSerial).not.toBe(first.exports.leafSerial);
    expect(engine.ops.find((o) => o.name === "leaf" && o.type.endsWith("LocallySignedCert"))).toMatchObject({
      op: "replace",
      changed: ["readyForRenewal"],
    });
    expect(second.exports.caSerial).toBe(first.exports.caSerial);
  });

  test("resources the program no longer declares are deleted, newest first", async () => {
    await up(() => {
      const a = new Thing("a", { size: 1 });
      const b = new Thing("b", { size: a.size });
      return { id: new Thing("c", { size: b.size }).id };
    });
    fake.log.length = 0;
    await up(() => ({ id: new Thing("a", { size: 1 }).id }));
    expect(fake.log).toEqual(["delete c-3", "delete b-2"]);
    expect(opsOf(engine.ops)).toEqual(["delete Thing/b", "delete Thing/c", "same Thing/a"]);
    expect(engine.resources().map((r) => r.name)).toEqual(["a"]);
  });

  test.each([
    ["the provider's diff", { dbr: true }, {}],
    ["the deleteBeforeReplace option", {}, { deleteBeforeReplace: true }],
  ])("deleteBeforeReplace from %s deletes the old resource first", async (_, args, opts) => {
    await up(() => ({ id: new Thing("t", { size: 1, ...args }, opts).id }));
    await up(() => ({ id: new Thing("t", { size: 2, ...args }, opts).id }));
    expect(fake.log).toEqual(["create t-1", "delete t-1", "create t-2"]);
  });

  test("deleteBeforeReplace: false overrides a provider that deletes first: the new one is created, the old deleted at the end", async () => {
    await up(() => ({ id: new Thing("t", { size: 1, dbr: true }, { deleteBeforeReplace: false }).id }));
    await up(() => ({ id: new Thing("t", { size: 2, dbr: true }, { deleteBeforeReplace: false }).id }));
    expect(fake.log).toEqual(["create t-1", "create t-2", "delete t-1"]);
  });

  test("replaceOnChanges turns an update into a replace; ignoreChanges and retainOnDelete are refused", async () => {
    await up(() => ({
      id: new Thing("forced", { size: 1, label: "a" }, { replaceOnChanges: ["label"] }).id,
    }));
    await up(() => ({
      id: new Thing("forced", { size: 1, label: "b" }, { replaceOnChanges: ["label"] }).id,
    }));
    expect(opsOf(engine.ops)).toEqual(["replace Thing/forced"]);
    const options = { ignoreChanges: ["label"], retainOnDelete: true };
    await expect(up(() => ({ id: new Thing("other", { size: 1 }, options).id }))).rejects.toThrow(
      "resource option(s) not emulated: ignoreChanges, retainOnDelete",
    );
  });

  test("a run whose program fails deletes nothing, even what it did not get to declare", async () => {
    await up(() => {
      new Thing("kept", { size: 1 });
      return { id: new Thing("also-kept", { size: 1 }).id };
    });
    await expect(
      up(() => {
        new Thing("kept", { size: 1 });
        throw new Error("program bug");
      }),
    ).rejects.toThrow("program bug");
    expect(fake.log).toEqual(["create kept-1", "create also-kept-2"]);
    expect(engine.resources().map((r) => r.name)).toEqual(["kept", "also-kept"]);
  });

  test("destroyAll deletes everything, newest first", async () => {
    await up(() => {
      const a = new Thing("a", { size: 1 });
      return { id: new Thing("b", { size: a.size }).id };
    });
    await engine.destroyAll();
    expect(fake.log.slice(-2)).toEqual(["delete b-2", "delete a-1"]);
    expect(engine.resources()).toEqual([]);
  });
});

describe("output helpers", () => {
  test("outputValue, isSecretOutput and inspectOutput read any Output a test holds", async () => {
    let thing: Thing | undefined;
    await up(() => {
      thing = new Thing("t", { size: 3 });
      return {};
    });
    if (!thing) throw new Error("program did not run");
    expect(await outputValue(thing.size)).toBe(3);
    expect(await isSecretOutput(thing.token)).toBe(true);
    expect(await inspectOutput(pulumi.output({ nested: thing.size }))).toEqual({
      value: { nested: 3 },
      known: true,
      secret: false,
    });
  });

  test("outputValue refuses an unknown (preview) value", async () => {
    let thing: Thing | undefined;
    await preview(() => {
      thing = new Thing("t", { size: 3 });
      return {};
    });
    if (!thing) throw new Error("program did not run");
    await expect(outputValue(thing.token)).rejects.toThrow("output value is unknown (preview)");
    expect((await inspectOutput(thing.size)).value).toBe(3);
  });
});

describe("preview", () => {
  test("plans creates without creating anything; computed outputs are unknown", async () => {
    const run = await preview(pki());
    expect(opsOf(engine.ops)).toEqual([
      "create CertRequest/leaf",
      "create LocallySignedCert/leaf",
      "create PrivateKey/ca",
      "create PrivateKey/leaf",
      "create SelfSignedCert/ca",
    ]);
    expect(run.exports).toEqual({ caSerial: UNKNOWN, leafSerial: UNKNOWN, keyId: UNKNOWN, leafPem: UNKNOWN });
    expect(run.isKnown("leafPem")).toBe(false);
    expect(engine.calls.every((c) => c.preview && c.method === "create")).toBe(true);
    expect(engine.resources()).toEqual([]);
  });

  test("after an up, a preview shows the planned replace and changes nothing", async () => {
    const first = await up(pki(24));
    const planned = await preview(pki(12));
    expect(engine.ops.find((o) => o.name === "leaf" && o.type.endsWith("LocallySignedCert"))?.op).toBe(
      "replace",
    );
    expect(planned.exports.caSerial).toBe(first.exports.caSerial);
    expect(planned.exports.leafSerial).toBe(UNKNOWN);
    const again = await up(pki(24));
    expect(again.exports).toEqual(first.exports);
    expect(engine.calls).toEqual([]);
  });

  test("a removed resource is a planned delete, not a delete", async () => {
    await up(() => ({ id: new Thing("gone", { size: 1 }).id }));
    await preview(() => ({}));
    expect(opsOf(engine.ops)).toEqual(["delete Thing/gone"]);
    expect(fake.log).toEqual(["create gone-1"]);
    expect(engine.resources().map((r) => r.name)).toEqual(["gone"]);
  });
});

describe("targeted operations (for the stand-in CLI of npm run verify)", () => {
  const things: Program = () => {
    const a = new Thing("a", { size: 1 });
    const b = new Thing("b", { size: 1 });
    return { a: a.id, b: b.id };
  };

  test("replaceOnNextRun replaces that resource once, create first, and nothing else", async () => {
    const first = await up(things);
    const urn = engine.resource("fake:index/thing:Thing", "a")!.urn;
    engine.replaceOnNextRun(urn);
    const second = await up(things);
    expect(opsOf(engine.ops)).toEqual(["replace Thing/a", "same Thing/b"]);
    expect(second.exports.a).not.toBe(first.exports.a);
    expect(second.exports.b).toBe(first.exports.b);
    expect(fake.log.slice(-2)).toEqual([`create ${second.exports.a}`, `delete ${first.exports.a}`]);
    await up(things);
    expect(opsOf(engine.ops)).toEqual(["same Thing/a", "same Thing/b"]);
  });

  test("replaceOnNextRun deletes first where the provider always does (a plugin-level DeleteBeforeReplace)", async () => {
    Object.assign(fake, { deletesBeforeReplace: () => true });
    const first = await up(things);
    engine.replaceOnNextRun(engine.resource("fake:index/thing:Thing", "a")!.urn);
    const second = await up(things);
    expect(fake.log.slice(-2)).toEqual([`delete ${first.exports.a}`, `create ${second.exports.a}`]);
  });

  test("forget drops a resource from the state, as a refresh does for a vanished one, and the next run creates it", async () => {
    await up(things);
    engine.forget(engine.resource("fake:index/thing:Thing", "b")!.urn);
    expect(engine.resource("fake:index/thing:Thing", "b")).toBeUndefined();
    await up(things);
    expect(opsOf(engine.ops)).toEqual(["create Thing/b", "same Thing/a"]);
    expect(() => engine.forget("urn:pulumi:dev::proj::fake:index/thing:Thing::nope")).toThrow(/no resource/);
  });
});
