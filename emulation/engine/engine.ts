/**
 * An emulated Pulumi engine for tests: a `pulumi.runtime.Mocks` implementation that behaves like
 * the real engine towards the program and the providers. It keeps state between runs (keyed by
 * URN), asks the provider's Diff what a changed resource needs, creates / updates / replaces /
 * deletes through the emulated providers, unwraps secret inputs and returns secret outputs as
 * secrets, and records every registration and operation so tests can assert the resource graph.
 *
 * One run = one execution of the program: `startRun` (installs the mocks), the program, `settle`,
 * then `finishRun` (deletes what the program no longer declares). `runProgram` in
 * emulation/run-program.ts does all of that.
 */
import { randomUUID } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  type EmulatedProvider,
  type Inputs,
  type ProviderConfig,
  ResourceInitError,
  type State,
  type Timeouts,
} from "./provider.ts";
import {
  type AliasSpec,
  makeUrn,
  noOptions,
  RegistrationCapture,
  type RegistrationOptions,
  urnName,
  urnType,
} from "./registration.ts";
import { deepEqual, secretWire, unwrapSecrets } from "./values.ts";

export type Op = "create" | "same" | "update" | "replace" | "delete";

/** One resource in the engine's state (what a stack checkpoint would hold). */
export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  /** false for component resources. */
  custom: boolean;
  id?: string;
  /** Inputs with secrets unwrapped. */
  inputs: Inputs;
  /** Provider state (outputs), secrets unwrapped. */
  outputs: State;
  /** Output property names returned as secrets. */
  secretOutputs: string[];
  options: RegistrationOptions;
  /** Creation order, used for reverse-order deletes. */
  seq: number;
  /** Outputs a component registered with `registerOutputs`. */
  componentOutputs?: Record<string, unknown>;
  /** The URN of the explicit provider resource serving it; absent for the default provider. */
  provider?: string;
  /** Why its last create/update did not complete (the plugin's ErrorResourceInitFailed reasons). */
  initErrors?: string[];
}

/** One registration of the current run, with what the engine did about it. */
export type Registration = Omit<
  ResourceState,
  "seq" | "secretOutputs" | "componentOutputs" | "initErrors"
> & {
  op: Exclude<Op, "delete">;
  /** Input property names whose change caused an update / replace. */
  changed: string[];
  /** The URN the resource had in the state, when it was found under an alias. */
  aliasedFrom?: string;
};

export interface OpRecord {
  op: Op;
  urn: string;
  type: string;
  name: string;
  changed?: string[];
}

export interface ProviderCall {
  method: "create" | "update" | "delete";
  type: string;
  name: string;
  id?: string;
  preview: boolean;
}

export interface StartRunOptions {
  project: string;
  stack: string;
  preview?: boolean;
  /** The stack config (`<namespace>:<key>` -> value); a default provider gets its package's keys. */
  config?: Record<string, string>;
}

const NEVER = new Promise<never>(() => {});

/**
 * The SDK's own "wait until every pending registration RPC finished" (used by its `disconnect`);
 * internal, so reached through a cast. Missing in some future SDK, `settle` still polls the engine.
 */
function waitForRPCs(): Promise<void> {
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  return typeof runtime.waitForRPCs === "function" ? runtime.waitForRPCs() : Promise.resolve();
}

/** "tls:index/privateKey:PrivateKey" -> "tls"; "pulumi:providers:tls" is handled separately. */
function packageOf(type: string): string {
  return type.split(":")[0] ?? "";
}

/**
 * The order the real engine deletes in: a resource before every resource it depends on (its
 * recorded dependencies, explicit and through inputs), newest first among the rest. Creation
 * order alone is not enough: a resource updated in place (a service) can depend on one created
 * after it (the replacement of the secret it now uses).
 */
function deletionOrder(resources: ResourceState[]): ResourceState[] {
  const left = [...resources].sort((a, b) => b.seq - a.seq);
  const order: ResourceState[] = [];
  while (left.length > 0) {
    // A resource's explicit provider is one of its dependencies: the engine deletes it last.
    const dependedOn = (r: ResourceState) =>
      left.some(
        (other) =>
          other !== r &&
          other.urn !== r.urn &&
          (other.options.dependencies.includes(r.urn) || other.provider === r.urn),
      );
    const index = Math.max(
      0,
      left.findIndex((r) => !dependedOn(r)),
    );
    order.push(...left.splice(index, 1));
  }
  return order;
}

function isProviderResource(type: string): boolean {
  return type.startsWith("pulumi:providers:");
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration ("5m", "1h30m", "90s") in seconds; "" is "not set". */
function durationSeconds(text: string, option: string): number | undefined {
  if (text === "") return undefined;
  if (!/^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/.test(text)) {
    throw new Error(`customTimeouts.${option}: "${text}" is not a duration (e.g. "5m", "90s")`);
  }
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g)) {
    total += Number(n) * (DURATION_UNITS[unit ?? "s"] ?? 1);
  }
  return total;
}

function timeoutsOf(options: RegistrationOptions): Timeouts | undefined {
  const t = options.customTimeouts;
  const timeouts: Timeouts = {
    create: durationSeconds(t.create, "create"),
    update: durationSeconds(t.update, "update"),
    delete: durationSeconds(t.delete, "delete"),
  };
  return Object.values(timeouts).some((v) => v !== undefined) ? timeouts : undefined;
}

export class EmulatedEngine implements pulumi.runtime.Mocks {
  private readonly providers = new Map<string, EmulatedProvider>();
  private readonly state = new Map<string, ResourceState>();
  /** Old versions of resources replaced create-before-delete; deleted at the end of a successful run. */
  private pendingDeletes: ResourceState[] = [];
  private readonly capture = new RegistrationCapture();
  private seq = 0;

  private project = "project";
  private stack = "stack";
  private preview = false;
  private config: Record<string, string> = {};
  /** Provider resources registered this run (in preview too), URN -> inputs. */
  private providerInputs = new Map<string, Inputs>();
  private running = false;
  private registeredThisRun = new Set<string>();
  private inFlight = new Set<Promise<unknown>>();
  private runRegistrations: Registration[] = [];
  private runOps: OpRecord[] = [];
  private runCalls: ProviderCall[] = [];
  private runErrors: Error[] = [];
  /** URN -> the old URN it was found under this run (the step generator's `aliases` map). */
  private adopted = new Map<string, string>();
  /** Old URN -> the URN that claimed it this run (the step generator's `aliased` map). */
  private claimed = new Map<string, string>();
  /** In preview, resources found under an alias (the state itself is not changed in preview). */
  private previewAdopted = new Map<string, ResourceState>();
  /** URNs the next run replaces whatever their diff (`pulumi up --replace URN`). */
  private replaceNextRun = new Set<string>();
  private signalFailure: () => void = () => {};
  private failurePromise: Promise<void> = NEVER;

  constructor(providers: readonly EmulatedProvider[]) {
    for (const p of providers) {
      if (this.providers.has(p.pkg)) throw new Error(`emulated engine: two providers for package "${p.pkg}"`);
      this.providers.set(p.pkg, p);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Run lifecycle

  /** Installs this engine as the SDK's mocks for one run of the program and resets per-run records. */
  async startRun(options: StartRunOptions): Promise<void> {
    this.project = options.project;
    this.stack = options.stack;
    this.preview = options.preview ?? false;
    this.config = options.config ?? {};
    this.providerInputs = new Map();
    this.running = true;
    this.registeredThisRun = new Set();
    this.inFlight = new Set();
    this.runRegistrations = [];
    this.runOps = [];
    this.runCalls = [];
    this.runErrors = [];
    this.adopted = new Map();
    this.claimed = new Map();
    this.previewAdopted = new Map();
    this.failurePromise = new Promise<void>((resolve) => {
      this.signalFailure = resolve;
    });
    await pulumi.runtime.setMocks(this, this.project, this.stack, this.preview);
    this.capture.install((urn, outputs) => {
      const reg = this.state.get(urn);
      if (reg) reg.componentOutputs = outputs;
    });
  }

  /** Resolves once a registration failed in this run (never otherwise). */
  get failed(): Promise<void> {
    return this.failurePromise;
  }

  get hasErrors(): boolean {
    return this.runErrors.length > 0;
  }

  /**
   * Marks the run failed for a reason outside the engine (the program threw, an output could not
   * be resolved): like `pulumi up` after a program error, `finishRun` will then delete nothing.
   */
  reportError(error: unknown): void {
    this.runErrors.push(error instanceof Error ? error : new Error(String(error)));
    this.signalFailure();
  }

  /**
   * Waits until the program has no registration in progress: the SDK's RPC queue is drained, no
   * provider operation is running, and nothing new was registered for a full macrotask turn.
   * Returns early (after running operations finished) once a registration failed, because the
   * failed resource's dependents will never be registered.
   */
  async settle(): Promise<void> {
    for (;;) {
      const before = this.runRegistrations.length + this.runErrors.length;
      await Promise.race([waitForRPCs(), this.failurePromise]);
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      await new Promise((resolve) => setImmediate(resolve));
      if (this.hasErrors) return;
      const after = this.runRegistrations.length + this.runErrors.length;
      if (before === after && this.inFlight.size === 0) return;
    }
  }

  /**
   * Ends a run: after a successful run, deletes what the program did not declare this time and
   * the old versions of resources replaced create-before-delete, newest first. In preview only
   * records the planned deletes. After a failed run nothing is deleted (as the real engine stops).
   */
  async finishRun(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.running = false;
    if (this.hasErrors) return;
    const removed = [...this.state.values()].filter((r) => !this.registeredThisRun.has(r.urn));
    if (this.preview) {
      for (const r of removed.sort((a, b) => b.seq - a.seq)) this.recordOp("delete", r);
      return;
    }
    const replacedOnes = new Set(this.pendingDeletes);
    const doomed = deletionOrder([...this.pendingDeletes, ...removed]).map((r) => ({
      r,
      replaced: replacedOnes.has(r),
    }));
    for (const { r, replaced } of doomed) {
      await this.deleteResource(r);
      if (replaced) this.pendingDeletes = this.pendingDeletes.filter((p) => p !== r);
      else {
        this.state.delete(r.urn);
        this.recordOp("delete", r);
      }
    }
  }

  /** Deletes every resource the engine knows (newest first), as `pulumi destroy`; use in afterAll. */
  async destroyAll(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    const all = deletionOrder([...this.pendingDeletes, ...this.state.values()]);
    const errors: Error[] = [];
    for (const r of all) {
      try {
        await this.deleteResource(r);
      } catch (err) {
        errors.push(err as Error);
      }
    }
    this.pendingDeletes = [];
    this.state.clear();
    if (errors.length > 0) {
      throw new AggregateError(
        errors,
        `destroy failed for ${errors.length} resource(s): ${errors.map((e) => e.message).join("; ")}`,
      );
    }
  }

  /** `pulumi up --replace URN` / `--target-replace URN`: the next run replaces that resource. */
  replaceOnNextRun(urn: string): void {
    this.replaceNextRun.add(urn);
  }

  /**
   * What a refresh does with a resource its provider no longer finds (the provider's Read returns
   * nothing): the engine drops it from the state, and the next `up` creates it again.
   */
  forget(urn: string): void {
    if (!this.state.delete(urn)) throw new Error(`emulated engine: no resource ${urn} in the state`);
  }

  // ---------------------------------------------------------------------------------------------
  // Inspection

  /** The live resources (state), in creation order. */
  resources(): ResourceState[] {
    return [...this.state.values()].sort((a, b) => a.seq - b.seq);
  }

  /** The live resource of that type and name (names are unique per type in our programs). */
  resource(type: string, name: string): ResourceState | undefined {
    return this.resources().find((r) => r.type === type && r.name === name);
  }

  /** Registrations of the current (or last) run, in registration order. */
  get registrations(): readonly Registration[] {
    return this.runRegistrations;
  }

  /** Operations of the current (or last) run; deletes are appended by `finishRun`. */
  get ops(): readonly OpRecord[] {
    return this.runOps;
  }

  /** Provider create / update / delete calls of the current (or last) run. */
  get calls(): readonly ProviderCall[] {
    return this.runCalls;
  }

  /** Registration failures of the current (or last) run. */
  get errors(): readonly Error[] {
    return this.runErrors;
  }

  // ---------------------------------------------------------------------------------------------
  // pulumi.runtime.Mocks

  newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
    // Read the request's options now: the capture only holds them during this synchronous call.
    const options = this.capture.take(args.type, args.name) ?? noOptions();
    const urn = makeUrn(this.stack, this.project, options.parent, args.type, args.name);
    // After a failed step the real engine starts no new steps; neither does this one.
    if (this.hasErrors) return NEVER;
    const work = this.register(args, urn, options);
    // Track the work itself: the promise handed to the SDK never settles after a failure.
    const tracked = work.then(
      () => {},
      () => {},
    );
    this.inFlight.add(tracked);
    void tracked.then(() => this.inFlight.delete(tracked));
    return work.catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      this.runErrors.push(new Error(`${args.type} '${args.name}': ${error.message}`, { cause: error }));
      this.signalFailure();
      // Like the real engine after a failed step: this resource never completes, so nothing that
      // depends on it is registered. The harness reports the error instead of waiting.
      return NEVER;
    });
  }

  /**
   * Invokes (data sources, functions): the program uses none, so none is emulated. The run fails
   * with this message; the invoke never answers (the SDK would drop the message).
   */
  call(args: pulumi.runtime.MockCallArgs): Promise<pulumi.runtime.MockCallResult> {
    this.reportError(new Error(`emulated engine: invoke ${args.token} is not emulated`));
    return NEVER;
  }

  // ---------------------------------------------------------------------------------------------
  // Steps

  private async register(
    args: pulumi.runtime.MockResourceArgs,
    urn: string,
    options: RegistrationOptions,
  ): Promise<pulumi.runtime.MockResourceResult> {
    if (!this.running)
      throw new Error("emulated engine: resource registered outside a run (call startRun first)");
    if (this.registeredThisRun.has(urn)) {
      throw new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`);
    }
    this.registeredThisRun.add(urn);
    this.adoptAlias(urn, args.type, args.name, options);
    if (args.id) throw new Error(`reading or importing existing resources (id "${args.id}") is not emulated`);
    const unwrapped = unwrapSecrets(args.inputs ?? {});
    const inputs = unwrapped.value as Inputs;
    const secretInputs = Object.keys(inputs).filter((k) => unwrapSecrets((args.inputs as Inputs)[k]).secret);
    const custom = args.custom !== false;

    const unemulated = [
      ...(options.ignoreChanges.length > 0 ? ["ignoreChanges"] : []),
      ...(options.retainOnDelete ? ["retainOnDelete"] : []),
    ];
    if (unemulated.length > 0) throw new Error(`resource option(s) not emulated: ${unemulated.join(", ")}`);
    if (!custom) return this.registerComponent(args, urn, options, inputs);
    if (isProviderResource(args.type)) {
      return this.registerProviderResource(args, urn, options, inputs, secretInputs);
    }
    const provider = this.providers.get(packageOf(args.type));
    if (!provider) {
      throw new Error(
        `no emulated provider for package "${packageOf(args.type)}" (resource type ${args.type}, name ${args.name})`,
      );
    }
    const secretOutputs = [
      ...new Set([...provider.secretOutputs(args.type), ...options.additionalSecretOutputs, ...secretInputs]),
    ];
    const old = this.oldState(urn);
    const base = {
      urn,
      type: args.type,
      name: args.name,
      parent: options.parent,
      custom,
      options,
      provider: options.provider,
    };
    const providerConfig = this.providerConfig(packageOf(args.type), options.provider);
    const timeouts = timeoutsOf(options);
    const call = { urn, provider: providerConfig, timeouts };

    if (!old) {
      const created = await this.providerCreate(provider, args.type, args.name, inputs, call, (failed) =>
        this.commit(
          {
            ...base,
            id: failed.id,
            inputs,
            outputs: failed.state,
            secretOutputs,
            seq: 0,
            initErrors: [failed.message],
          },
          true,
        ),
      );
      const record = this.commit(
        { ...base, id: created.id, inputs, outputs: created.state, secretOutputs, seq: 0 },
        true,
      );
      return this.result("create", [], record, secretOutputs);
    }
    if (old.provider !== options.provider) {
      throw new Error(
        `moving a resource to another provider (from ${old.provider ?? "the default provider"} to ${options.provider ?? "the default provider"}) is not emulated`,
      );
    }

    const newInputs = inputs;
    let diff = provider.diff({
      type: args.type,
      name: args.name,
      oldInputs: old.inputs,
      newInputs,
      oldState: old.outputs,
      provider: providerConfig,
    });
    // An unchanged resource whose last create/update did not complete is updated again, so the
    // plugin resumes waiting for it (step_generator.go: "generate an empty update step").
    if (diff.kind === "none" && (old.initErrors?.length ?? 0) > 0) diff = { kind: "update", changed: [] };
    if (diff.kind === "update" && this.forcesReplace(diff.changed, options.replaceOnChanges)) {
      diff = { kind: "replace", changed: diff.changed, deleteBeforeReplace: false };
    }
    if (this.replaceNextRun.delete(urn) && diff.kind !== "replace") {
      const deleteBeforeReplace = provider.deletesBeforeReplace?.(args.type) === true;
      diff = { kind: "replace", changed: diff.kind === "update" ? diff.changed : [], deleteBeforeReplace };
    }
    switch (diff.kind) {
      case "none":
        // A "same" step still records the new inputs (e.g. an explicit value equal to a default).
        if (!this.preview) Object.assign(old, { inputs: newInputs, options, secretOutputs });
        return this.result("same", [], { ...old, inputs: newInputs, options }, secretOutputs);
      case "update": {
        this.runCalls.push({
          method: "update",
          type: args.type,
          name: args.name,
          id: old.id,
          preview: this.preview,
        });
        let updated: Awaited<ReturnType<EmulatedProvider["update"]>>;
        try {
          updated = await provider.update({
            type: args.type,
            name: args.name,
            inputs: newInputs,
            preview: this.preview,
            id: old.id ?? "",
            oldInputs: old.inputs,
            oldState: old.outputs,
            ...call,
          });
        } catch (err) {
          if (err instanceof ResourceInitError && !this.preview) {
            Object.assign(old, {
              inputs: newInputs,
              outputs: err.state,
              secretOutputs,
              options,
              initErrors: [err.message],
            });
          }
          throw err;
        }
        const record = this.preview
          ? { ...old, inputs: newInputs, outputs: updated.state, secretOutputs, options }
          : Object.assign(old, {
              inputs: newInputs,
              outputs: updated.state,
              secretOutputs,
              options,
              initErrors: undefined,
            });
        return this.result("update", diff.changed, record, secretOutputs);
      }
      case "replace": {
        // The provider decides, unless the program set the option (true or false): the engine's
        // step generator takes the program's value over the provider's.
        const deleteFirst = options.deleteBeforeReplaceDefined
          ? options.deleteBeforeReplace
          : diff.deleteBeforeReplace;
        if (deleteFirst && !this.preview) {
          await this.deleteResource(old);
          this.state.delete(urn);
        }
        // A replacement that was made but did not become ready still takes the URN, and the old
        // one waits for its delete as after a complete replacement.
        const keepOld = () => {
          if (!deleteFirst && !this.preview) this.pendingDeletes.push(old);
        };
        const created = await this.providerCreate(
          provider,
          args.type,
          args.name,
          newInputs,
          call,
          (failed) => {
            keepOld();
            return this.commit(
              {
                ...base,
                id: failed.id,
                inputs: newInputs,
                outputs: failed.state,
                secretOutputs,
                seq: 0,
                initErrors: [failed.message],
              },
              true,
            );
          },
        );
        keepOld();
        const record = this.commit(
          { ...base, id: created.id, inputs: newInputs, outputs: created.state, secretOutputs, seq: 0 },
          true,
        );
        return this.result("replace", diff.changed, record, secretOutputs);
      }
    }
  }

  /** Components: recorded, with no provider behind them. */
  private registerComponent(
    args: pulumi.runtime.MockResourceArgs,
    urn: string,
    options: RegistrationOptions,
    inputs: Inputs,
  ): pulumi.runtime.MockResourceResult {
    const old = this.oldState(urn);
    const op: Exclude<Op, "delete"> = !old ? "create" : deepEqual(old.inputs, inputs) ? "same" : "update";
    const record: ResourceState = old
      ? { ...old, inputs, options }
      : {
          urn,
          type: args.type,
          name: args.name,
          parent: options.parent,
          custom: false,
          inputs,
          outputs: {},
          secretOutputs: [],
          options,
          seq: 0,
        };
    this.commit(record, !old);
    this.record(op, op === "update" ? Object.keys(inputs) : [], record);
    return { id: undefined, state: {} };
  }

  /** The state of a resource at its URN (in preview also one found under an alias this run). */
  private oldState(urn: string): ResourceState | undefined {
    return this.state.get(urn) ?? this.previewAdopted.get(urn);
  }

  /**
   * Looks the resource up by URN, then by each alias; one found under an alias is moved to its new
   * URN (in preview only for this run), and its old URN counts as registered so it is not deleted.
   */
  private adoptAlias(urn: string, type: string, name: string, options: RegistrationOptions): void {
    if (this.state.has(urn)) return;
    for (const alias of this.generateAliases(urn, type, name, options)) {
      // Claimed earlier in this run: it was in the old state (which the real engine keeps for the
      // whole run), even if it has been moved to its claimant's URN since.
      const earlier = this.claimed.get(alias);
      if (earlier) {
        throw new Error(
          `Duplicate resource alias '${alias}' applied to resource with URN '${urn}'; already claimed by '${earlier}'`,
        );
      }
      const old = this.state.get(alias);
      if (!old) continue;
      if (this.registeredThisRun.has(alias)) {
        throw new Error(`Duplicate resource alias '${alias}' applied to resource with URN '${urn}'`);
      }
      this.claimed.set(alias, urn);
      this.adopted.set(urn, alias);
      this.registeredThisRun.add(alias);
      const renamed = { urn, type, name, parent: options.parent };
      if (this.preview) {
        this.previewAdopted.set(urn, { ...old, ...renamed });
      } else {
        this.state.delete(alias);
        this.state.set(urn, Object.assign(old, renamed));
      }
      return;
    }
  }

  /** The step generator's `generateAliases`: the resource's own aliases, then its parent's, multiplied out. */
  private generateAliases(urn: string, type: string, name: string, options: RegistrationOptions): string[] {
    const result: string[] = [];
    const add = (alias: string) => {
      if (alias !== urn && !result.includes(alias)) result.push(alias);
    };
    const own = options.aliases.map((alias) => this.collapseAlias(type, name, options.parent, alias));
    for (const alias of own) add(alias);
    const parentAlias = options.parent ? this.adopted.get(options.parent) : undefined;
    if (options.parent && parentAlias) {
      const parentName = urnName(options.parent);
      add(this.inheritedChildAlias(type, name, parentName, parentAlias));
      for (const alias of own) {
        add(this.inheritedChildAlias(urnType(alias), urnName(alias), parentName, parentAlias));
      }
    }
    return result;
  }

  private collapseAlias(type: string, name: string, parent: string | undefined, alias: AliasSpec): string {
    if (alias.urn) return alias.urn;
    let aliasParent = alias.parentUrn ?? parent;
    // The parent used an alias itself: its old URN is the one this resource's old URN hangs under.
    if (alias.parentUrn && this.adopted.has(alias.parentUrn)) aliasParent = this.adopted.get(alias.parentUrn);
    if (alias.noParent || (aliasParent && urnType(aliasParent) === "pulumi:pulumi:Stack")) {
      aliasParent = undefined;
    }
    return makeUrn(
      alias.stack ?? this.stack,
      alias.project ?? this.project,
      aliasParent,
      alias.type ?? type,
      alias.name ?? name,
    );
  }

  /** A child named `<parent>-x` under an aliased parent was `<old parent name>-x` under the old URN. */
  private inheritedChildAlias(type: string, name: string, parentName: string, parentAlias: string): string {
    const aliasName = name.startsWith(parentName)
      ? urnName(parentAlias) + name.slice(parentName.length)
      : name;
    return makeUrn(this.stack, this.project, parentAlias, type, aliasName);
  }

  private forcesReplace(changed: readonly string[], replaceOnChanges: readonly string[]): boolean {
    const tops = replaceOnChanges.map((p) => p.split(/[.[]/)[0]);
    return tops.includes("*") || changed.some((k) => tops.includes(k));
  }

  /**
   * A create; one the plugin made but could not see become ready (ResourceInitError) is kept in
   * the state by `keepPartial` (not in preview) before the run fails with its message.
   */
  private async providerCreate(
    provider: EmulatedProvider,
    type: string,
    name: string,
    inputs: Inputs,
    call: { urn: string; provider: ProviderConfig; timeouts?: Timeouts },
    keepPartial: (failed: ResourceInitError) => void,
  ) {
    this.runCalls.push({ method: "create", type, name, preview: this.preview });
    try {
      return await provider.create({ type, name, inputs, preview: this.preview, ...call });
    } catch (err) {
      if (err instanceof ResourceInitError && !this.preview) keepPartial(err);
      throw err;
    }
  }

  private async deleteResource(r: ResourceState): Promise<void> {
    if (!r.custom) return;
    // A provider resource has nothing to delete: the plugin instance just goes away.
    if (isProviderResource(r.type)) return;
    const provider = this.providers.get(packageOf(r.type));
    if (!provider)
      throw new Error(`no emulated provider for package "${packageOf(r.type)}" to delete ${r.urn}`);
    this.runCalls.push({ method: "delete", type: r.type, name: r.name, id: r.id, preview: false });
    await provider.delete({
      type: r.type,
      name: r.name,
      urn: r.urn,
      id: r.id ?? "",
      state: r.outputs,
      provider: this.providerConfig(packageOf(r.type), r.provider),
      timeouts: timeoutsOf(r.options),
    });
  }

  /**
   * The configuration of the plugin serving a resource: its explicit provider resource's inputs
   * (registered this run, else as last recorded in the state), or for the default provider the
   * stack config of the package (`kubernetes:namespace` -> `{ namespace }`).
   */
  private providerConfig(pkg: string, providerUrn: string | undefined): ProviderConfig {
    if (providerUrn) {
      const inputs = this.providerInputs.get(providerUrn) ?? this.state.get(providerUrn)?.inputs;
      if (!inputs) throw new Error(`emulated engine: provider ${providerUrn} is not registered`);
      return { urn: providerUrn, inputs };
    }
    const prefix = `${pkg}:`;
    const inputs: Inputs = {};
    for (const [key, value] of Object.entries(this.config)) {
      if (key.startsWith(prefix)) inputs[key.slice(prefix.length)] = value;
    }
    return { inputs };
  }

  /**
   * An explicit provider resource (`pulumi:providers:<pkg>`): the package's plugin checks and diffs
   * its inputs (CheckConfig, DiffConfig); its id is a fresh UUID, as the engine gives providers.
   * A change the plugin answers with a replacement would replace every resource it serves, which
   * is not emulated.
   */
  private registerProviderResource(
    args: pulumi.runtime.MockResourceArgs,
    urn: string,
    options: RegistrationOptions,
    inputs: Inputs,
    secretInputs: string[],
  ): pulumi.runtime.MockResourceResult {
    const pkg = args.type.slice("pulumi:providers:".length);
    const provider = this.providers.get(pkg);
    if (!provider?.diffConfig || !provider.checkConfig) {
      throw new Error(`explicit provider resources of package "${pkg}" are not emulated`);
    }
    // The plugin's version and download URL, when the SDK sends them, select the plugin; they are
    // not its configuration.
    const { version: _version, pluginDownloadURL: _url, ...config } = inputs;
    provider.checkConfig(args.name, config);
    const old = this.oldState(urn);
    const base = { urn, type: args.type, name: args.name, parent: options.parent, custom: true, options };
    if (!old) {
      this.providerInputs.set(urn, config);
      const id = this.preview ? "" : randomUUID();
      const record = this.commit(
        { ...base, id, inputs: config, outputs: config, secretOutputs: secretInputs, seq: 0 },
        true,
      );
      return this.result("create", [], record, secretInputs);
    }
    const diff = provider.diffConfig({ name: args.name, oldInputs: old.inputs, newInputs: config });
    if (diff.kind === "replace") {
      throw new Error(
        `replacing provider ${urn} (changed: ${diff.changed.join(", ")}) would replace every resource it serves; that is not emulated`,
      );
    }
    this.providerInputs.set(urn, config);
    const op = diff.kind === "none" ? "same" : "update";
    const next = { inputs: config, outputs: config, options, secretOutputs: secretInputs };
    const record = this.preview ? { ...old, ...next } : Object.assign(old, next);
    return this.result(op, diff.kind === "update" ? diff.changed : [], record, secretInputs);
  }

  /** Stores a resource (not in preview); a created or replaced one gets the next creation number. */
  private commit(record: ResourceState, created: boolean): ResourceState {
    if (this.preview) return record;
    if (created) record.seq = ++this.seq;
    this.state.set(record.urn, record);
    return record;
  }

  private record(op: Exclude<Op, "delete">, changed: string[], r: ResourceState): void {
    const {
      seq: _seq,
      secretOutputs: _secrets,
      componentOutputs: _outputs,
      initErrors: _initErrors,
      ...registered
    } = r;
    const aliasedFrom = this.adopted.get(r.urn);
    this.runRegistrations.push({ ...registered, op, changed, ...(aliasedFrom ? { aliasedFrom } : {}) });
    this.recordOp(op, r, changed);
  }

  private recordOp(op: Op, r: ResourceState, changed?: string[]): void {
    this.runOps.push({
      op,
      urn: r.urn,
      type: r.type,
      name: r.name,
      ...(changed && changed.length > 0 ? { changed } : {}),
    });
  }

  /** Records the step and builds the SDK response: secret outputs wrapped; in preview an unknown id. */
  private result(
    op: Exclude<Op, "delete">,
    changed: string[],
    r: ResourceState,
    secretOutputs: readonly string[],
  ): pulumi.runtime.MockResourceResult {
    this.record(op, changed, r);
    const state: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.outputs)) {
      state[k] = secretOutputs.includes(k) && v !== undefined && v !== null ? secretWire(v) : v;
    }
    // At preview the engine knows which outputs it will mark secret even before their values
    // exist: a planned secret output reaches the program as an unknown secret, not a plain unknown.
    if (this.preview) {
      for (const k of secretOutputs) if (!(k in state)) state[k] = secretWire(pulumi.unknown);
    }
    return { id: r.id ? r.id : undefined, state };
  }
}
