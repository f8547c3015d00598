/**
 * The plugin's Diff (provider.go `Diff`, `convertPatchToDiff`, diff.go `forceNewProperties`):
 * changed fields property by property, a replacement when one of them is a force-new path of the
 * kind, and a delete-first replacement when the object keeps its name (named by the program, not
 * autonamed, same name and namespace), since two objects cannot share one.
 *
 * The plugin compares the live object of the state, pruned to the shape of the old inputs, with
 * the new inputs; with no refresh in between, that pruned object is the old inputs as the API
 * server stored them, so the emulation compares the old checked inputs (`__inputs`) with the new
 * ones. The one difference: a value the server rewrites into another form (a quantity written
 * "0.5", stored "500m") shows as a change here and not there.
 */
import type { DiffResult, Inputs } from "../engine/provider.ts";
import { deepEqual, isUnknownValue } from "../engine/values.ts";
import { isAutonamed, nameOf, namespaceOf } from "./check.ts";
import { CONFIGMAP_TYPE, kindOf, SECRET_TYPE } from "./kinds.ts";

type Path = (string | number)[];

export interface MutableOptions {
  enableSecretMutable: boolean;
  enableConfigMapMutable: boolean;
}

/** forceNewProperties: metadata identity, the kind's own, and Secret/ConfigMap contents unless mutable. */
export function forceNewPaths(type: string, obj: Inputs, mutable: MutableOptions): string[] {
  const paths = [".metadata.name", ".metadata.namespace", ...kindOf(type).forceNew];
  const immutable = obj.immutable === true;
  if (type === SECRET_TYPE && (!mutable.enableSecretMutable || immutable)) paths.push(".stringData", ".data");
  if (type === CONFIGMAP_TYPE && (!mutable.enableConfigMapMutable || immutable)) {
    paths.push(".binaryData", ".data");
  }
  return paths;
}

interface Change {
  path: Path;
  /** The new value (undefined when the field was removed). */
  value: unknown;
  old: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !isUnknownValue(v);
}

/** Leaf-level differences: maps key by key, arrays element by element (as addPatchValueToDiff). */
function changes(path: Path, old: unknown, value: unknown, out: Change[]): void {
  if (isUnknownValue(value)) {
    out.push({ path, value, old });
    return;
  }
  if (deepEqual(old, value)) return;
  if (isObject(old) && isObject(value)) {
    for (const key of new Set([...Object.keys(old), ...Object.keys(value)])) {
      changes([...path, key], old[key], value[key], out);
    }
    return;
  }
  if (Array.isArray(old) && Array.isArray(value)) {
    for (let i = 0; i < Math.max(old.length, value.length); i++) changes([...path, i], old[i], value[i], out);
    return;
  }
  out.push({ path, value, old });
}

/** The dotted path of a change, array indexes left out (how the force-new list names fields). */
function dotted(path: Path): string[] {
  return path.filter((p): p is string => typeof p === "string");
}

/** Whether `value` (reached at `path`) contains the rest of `target`. */
function reaches(value: unknown, rest: string[]): boolean {
  if (rest.length === 0) return true;
  if (Array.isArray(value)) return value.some((item) => reaches(item, rest));
  if (!isObject(value)) return false;
  const [head, ...tail] = rest;
  return head !== undefined && head in value && reaches(value[head], tail);
}

/**
 * A change replaces when a force-new path is at or above it, or below it and present in the
 * changed value (PatchPropertiesChanged evaluates each path against the patch slice).
 */
function replaces(change: Change, forceNew: string[]): boolean {
  const at = dotted(change.path);
  if (at.length === 1 && at[0] === "metadata" && change.value === undefined) return true;
  return forceNew.some((f) => {
    const target = f.split(".").filter(Boolean);
    const prefix = Math.min(at.length, target.length);
    for (let i = 0; i < prefix; i++) if (at[i] !== target[i]) return false;
    if (target.length <= at.length) return true;
    return reaches(change.value === undefined ? change.old : change.value, target.slice(at.length));
  });
}

export function diffObject(
  type: string,
  oldInputs: Inputs,
  newInputs: Inputs,
  mutable: MutableOptions,
): DiffResult {
  const found: Change[] = [];
  changes([], oldInputs, newInputs, found);
  if (found.length === 0) return { kind: "none" };
  const changed = [...new Set(found.map((c) => String(c.path[0])))].sort();
  const forceNew = forceNewPaths(type, newInputs, mutable);
  if (!found.some((c) => replaces(c, forceNew))) return { kind: "update", changed };
  const newName = nameOf(newInputs);
  const deleteBeforeReplace =
    newName !== undefined &&
    !isAutonamed(newInputs) &&
    newName === nameOf(oldInputs) &&
    (namespaceOf(newInputs) ?? "") === (namespaceOf(oldInputs) ?? "");
  return { kind: "replace", changed, deleteBeforeReplace };
}
