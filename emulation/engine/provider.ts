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

export interface CreateRequest {
  type: string;
  /** The logical (Pulumi) name of the resource. */
  name: string;
  inputs: Inputs;
  /** true under `pulumi preview`: make nothing real, return what the plugin would know. */
  preview: boolean;
}

export interface UpdateRequest extends CreateRequest {
  id: string;
  oldInputs: Inputs;
  oldState: State;
}

export interface DeleteRequest {
  type: string;
  name: string;
  id: string;
  state: State;
}

export interface DiffRequest {
  type: string;
  name: string;
  oldInputs: Inputs;
  newInputs: Inputs;
  oldState: State;
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
}
