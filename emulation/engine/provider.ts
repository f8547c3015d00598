/**
 * The seam between the emulated Pulumi engine (emulation/engine/) and each emulated provider
 * (emulation/tls/, emulation/docker/). The engine keeps state between runs of the program,
 * decides create / no-op / update / replace from the provider's diff, unwraps secret inputs before
 * a provider sees them and marks the provider's secret outputs secret again. A provider only does
 * what the real plugin does: Check (defaults + validation, errors with the plugin's message),
 * Create, Update, Delete, and Diff.
 */

/** Plain JSON-like values: secrets already unwrapped, unknowns only in preview. */
export type Inputs = Record<string, unknown>;
export type State = Record<string, unknown>;

/**
 * The configuration the plugin instance serving a resource was configured with: an explicit
 * provider resource's inputs (`new k8s.Provider(name, { kubeconfig })`), or for the default
 * provider the stack config of its package (`kubernetes:namespace` as `{ namespace }`), as the
 * engine hands a default provider its package's config.
 */
export interface ProviderConfig {
  /** The provider resource's URN; absent for the default provider. */
  urn?: string;
  inputs: Inputs;
}

/** Custom timeouts (`customTimeouts` resource option) in seconds; absent when not set. */
export interface Timeouts {
  create?: number;
  update?: number;
  delete?: number;
}

export interface CreateRequest {
  type: string;
  /** The logical (Pulumi) name of the resource. */
  name: string;
  /** The resource's URN (some plugins quote it in their messages). */
  urn?: string;
  inputs: Inputs;
  /** true under `pulumi preview`: make nothing real, return what the plugin would know. */
  preview: boolean;
  provider?: ProviderConfig;
  timeouts?: Timeouts;
}

export interface UpdateRequest extends CreateRequest {
  id: string;
  oldInputs: Inputs;
  oldState: State;
}

export interface DeleteRequest {
  type: string;
  name: string;
  urn?: string;
  id: string;
  state: State;
  provider?: ProviderConfig;
  timeouts?: Timeouts;
}

export interface DiffRequest {
  type: string;
  name: string;
  oldInputs: Inputs;
  newInputs: Inputs;
  oldState: State;
  provider?: ProviderConfig;
}

/** A provider resource (`pulumi:providers:<pkg>`): its old and new inputs, for CheckConfig/DiffConfig. */
export interface ConfigDiffRequest {
  name: string;
  oldInputs: Inputs;
  newInputs: Inputs;
}

/** What the plugin's Diff would tell the engine. */
export type DiffResult =
  | { kind: "none" }
  | { kind: "update"; changed: string[] }
  | { kind: "replace"; changed: string[]; deleteBeforeReplace: boolean };

export interface CreateResult {
  /** The resource id; in preview return "" (the engine hands the program an unknown id). */
  id: string;
  /** Outputs. In preview, omit what the plugin cannot know at plan time: it becomes unknown. */
  state: State;
}

/**
 * A create or update that made the object but could not see it become ready (the plugin's
 * `ErrorResourceInitFailed`, e.g. a Deployment whose rollout timed out): the engine keeps the
 * resource in its state with this id and outputs, fails the run with the message, and on the next
 * run updates the resource even when nothing changed (pkg/resource/deploy/step_generator.go:
 * "If resource was unchanged, but there were initialization errors, generate an empty update").
 */
export class ResourceInitError extends Error {
  readonly id: string;
  readonly state: State;
  constructor(message: string, id: string, state: State) {
    super(message);
    this.name = "ResourceInitError";
    this.id = id;
    this.state = state;
  }
}

export interface EmulatedProvider {
  /** The package this provider serves: "tls" or "docker" (type tokens start with it). */
  readonly pkg: string;
  /** Output property names the plugin marks secret for this type (additionalSecretOutputs). */
  secretOutputs(type: string): readonly string[];
  diff(req: DiffRequest): DiffResult;
  create(req: CreateRequest): Promise<CreateResult>;
  update(req: UpdateRequest): Promise<CreateResult>;
  delete(req: DeleteRequest): Promise<void>;
  /**
   * Optional: whether a replacement of this type deletes first whatever the diff (a plugin-level
   * DeleteBeforeReplace, e.g. pulumi-docker's for containers); used for `--replace` of a resource.
   */
  deletesBeforeReplace?(type: string): boolean;
  /**
   * Optional: explicit provider resources of this package (`pulumi:providers:<pkg>`), the
   * plugin's CheckConfig + DiffConfig. Without it the engine refuses such a resource.
   */
  diffConfig?(req: ConfigDiffRequest): DiffResult;
  /** With `diffConfig`: the plugin's CheckConfig of a provider resource's inputs (throws on bad input). */
  checkConfig?(name: string, inputs: Inputs): void;
}
