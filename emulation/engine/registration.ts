/**
 * Reads the resource options the SDK sends with each registration (parent, dependencies,
 * deleteBeforeReplace, replaceOnChanges, additionalSecretOutputs, aliases, property dependencies and
 * the inputs as sent; ignoreChanges and retainOnDelete only to refuse them)
 * and component outputs (`registerOutputs`). `pulumi.runtime.Mocks.newResource` is not given them,
 * so this wraps the SDK's MockMonitor (installed by `setMocks`), whose `registerResource` calls
 * `mocks.newResource` synchronously: the options are handed over through `current` in that call.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RegistrationOptions {
  /** URN of the parent resource, if any. */
  parent?: string;
  /** URNs of the resources this one depends on (explicit and through inputs). */
  dependencies: string[];
  deleteBeforeReplace: boolean;
  /**
   * Whether the program set `deleteBeforeReplace` at all: the SDK sends `deleteBeforeReplaceDefined`
   * (runtime/resource.js), and the engine then takes the program's value, true or false, over the
   * provider's (pkg/resource/deploy: `if goal.DeleteBeforeReplace != nil`).
   */
  deleteBeforeReplaceDefined: boolean;
  ignoreChanges: string[];
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  retainOnDelete: boolean;
  /** Aliases as the SDK sends them to a monitor that supports alias specs (the mock monitor does). */
  aliases: AliasSpec[];
  /** Per input property, the URNs of the resources its value was computed from. */
  propertyDependencies: Record<string, string[]>;
  /**
   * The inputs exactly as the SDK serialised them: secrets in their wire form where they are
   * nested, unknowns as the unknown sentinel string. What the engine hands a policy pack.
   */
  sentInputs: Record<string, unknown>;
  /** The explicit provider's URN (from the SDK's `<urn>::<id>` reference); absent for the default one. */
  provider?: string;
  /** `customTimeouts` as the SDK sends them (Go durations such as "5m"; "" when not set). */
  customTimeouts: { create: string; update: string; delete: string };
}

/** One alias: a whole URN, or the parts of the old URN that differ (empty = the resource's own). */
export interface AliasSpec {
  urn?: string;
  name?: string;
  type?: string;
  stack?: string;
  project?: string;
  parentUrn?: string;
  noParent?: boolean;
}

interface AliasMessage {
  getUrn(): string;
  getSpec(): AliasSpecMessage | undefined;
}

interface AliasSpecMessage {
  getName(): string;
  getType(): string;
  getStack(): string;
  getProject(): string;
  getParenturn(): string;
  getNoparent(): boolean;
}

function readAlias(alias: AliasMessage): AliasSpec {
  const spec = alias.getSpec();
  if (!spec) return { urn: alias.getUrn() };
  return {
    name: spec.getName() || undefined,
    type: spec.getType() || undefined,
    stack: spec.getStack() || undefined,
    project: spec.getProject() || undefined,
    parentUrn: spec.getParenturn() || undefined,
    noParent: spec.getNoparent() || undefined,
  };
}

/** The subset of the SDK's generated RegisterResourceRequest this file reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getRetainondelete(): boolean;
  getAliasesList(): AliasMessage[];
  getPropertydependenciesMap(): {
    forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getProvider(): string;
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}

interface OutputsRequest {
  getUrn(): string;
  getOutputs(): unknown;
}

type Callback = (err: unknown, response: unknown) => void;

interface MockMonitorLike {
  registerResource(req: RegisterRequest, callback: Callback): unknown;
  registerResourceOutputs(req: OutputsRequest, callback: Callback): unknown;
}

export class RegistrationCapture {
  private current: { type: string; name: string; options: RegistrationOptions } | undefined;

  /** Wraps the monitor that `setMocks` just installed. */
  install(onOutputs: (urn: string, outputs: Record<string, unknown>) => void): void {
    const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike | undefined;
    if (!monitor || typeof monitor.registerResource !== "function") {
      throw new Error("emulated engine: no mock monitor installed (call setMocks first)");
    }
    const register = monitor.registerResource.bind(monitor);
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResource = (req, callback) => {
      this.current = { type: req.getType(), name: req.getName(), options: readOptions(req) };
      try {
        return register(req, callback);
      } finally {
        this.current = undefined;
      }
    };
    monitor.registerResourceOutputs = (req, callback) => {
      try {
        const outputs = pulumi.runtime.deserializeProperties(req.getOutputs() as never) as Record<
          string,
          unknown
        >;
        onOutputs(req.getUrn(), outputs);
      } catch {
        // Recording component outputs is best effort; the registration itself must not fail.
      }
      return registerOutputs(req, callback);
    };
  }

  /** The options of the registration now calling `newResource`, if it is the one named. */
  take(type: string, name: string): RegistrationOptions | undefined {
    const c = this.current;
    return c && c.type === type && c.name === name ? c.options : undefined;
  }
}

function readOptions(req: RegisterRequest): RegistrationOptions {
  return {
    parent: req.getParent() || undefined,
    dependencies: [...req.getDependenciesList()],
    deleteBeforeReplace: req.getDeletebeforereplace(),
    deleteBeforeReplaceDefined: req.getDeletebeforereplacedefined() || req.getDeletebeforereplace(),
    ignoreChanges: [...req.getIgnorechangesList()],
    replaceOnChanges: [...req.getReplaceonchangesList()],
    additionalSecretOutputs: [...req.getAdditionalsecretoutputsList()],
    retainOnDelete: req.getRetainondelete(),
    aliases: req.getAliasesList().map(readAlias),
    propertyDependencies: readPropertyDependencies(req),
    sentInputs: req.getObject()?.toJavaScript() ?? {},
    provider: providerUrn(req.getProvider()),
    customTimeouts: {
      create: req.getCustomtimeouts()?.getCreate() ?? "",
      update: req.getCustomtimeouts()?.getUpdate() ?? "",
      delete: req.getCustomtimeouts()?.getDelete() ?? "",
    },
  };
}

/** `<urn>::<id>` (the SDK's provider reference) -> `<urn>`; "" (the default provider) -> undefined. */
function providerUrn(ref: string): string | undefined {
  if (!ref) return undefined;
  const cut = ref.lastIndexOf("::");
  return cut > 0 ? ref.slice(0, cut) : ref;
}

function readPropertyDependencies(req: RegisterRequest): Record<string, string[]> {
  const deps: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((entry, key) => {
    deps[key] = [...entry.getUrnsList()];
  });
  return deps;
}

export function noOptions(): RegistrationOptions {
  return {
    dependencies: [],
    deleteBeforeReplace: false,
    deleteBeforeReplaceDefined: false,
    ignoreChanges: [],
    replaceOnChanges: [],
    additionalSecretOutputs: [],
    retainOnDelete: false,
    aliases: [],
    propertyDependencies: {},
    sentInputs: {},
    customTimeouts: { create: "", update: "", delete: "" },
  };
}

/** URNs exactly as the SDK's MockMonitor forms them: only the parent's own type is prefixed. */
export function makeUrn(
  stack: string,
  project: string,
  parent: string | undefined,
  type: string,
  name: string,
): string {
  let qualified = type;
  if (parent) {
    const parentType = (parent.split("::")[2] ?? "").split("$").pop();
    qualified = `${parentType}$${type}`;
  }
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

/** The name part of a URN (what follows the last "::"). */
export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** The type part of a URN, as `makeUrn` forms it (`<parent type>$<type>` under a parent). */
export function urnType(urn: string): string {
  return (urn.split("::")[2] ?? "").split("$").pop() ?? "";
}
