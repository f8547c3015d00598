/**
 * The plugin's Check (provider.go `Check`, metadata/naming.go, clients/unstructured.go Normalize)
 * for the modelled kinds, plus the emulation's refusals:
 *
 * - autonaming: without `.metadata.name` the object is named `<logical name>-<8 hex>` and
 *   annotated `pulumi.com/autonamed: "true"`; a later Check adopts the old autoname, so the name
 *   stays until a replacement (which the engine checks afresh, without the old inputs);
 * - `.metadata.generateName` is the plugin's own error in its default Server-Side Apply mode;
 * - the provider's default namespace fills `.metadata.namespace` of namespaced kinds;
 * - a Secret's `stringData` becomes base64 `data` (normalizeSecret), as the object sent;
 * - refused as not modelled: fields the SDK class does not have, `pulumi.com/*` annotations other
 *   than `pulumi.com/timeoutSeconds` and `pulumi.com/skipAwait`, service-account-token Secrets
 *   (the plugin waits for their token), and Deployments with PersistentVolumeClaim volumes (the
 *   plugin waits for the claims to bind).
 */
import { randomBytes } from "node:crypto";
import type { Inputs } from "../engine/provider.ts";
import { containsUnknown, isUnknownValue } from "../engine/values.ts";
import { DEPLOYMENT_TYPE, type KindInfo, kindOf, SECRET_TYPE } from "./kinds.ts";

export const AUTONAMED = "pulumi.com/autonamed";
export const TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds";
export const SKIP_AWAIT = "pulumi.com/skipAwait";
const MODELLED_ANNOTATIONS = [TIMEOUT_SECONDS, SKIP_AWAIT];

type Block = Record<string, unknown>;

function isBlock(v: unknown): v is Block {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !isUnknownValue(v);
}

function refuse(type: string, name: string, what: string): never {
  throw new Error(`kubernetes emulation: ${type} "${name}": ${what} is not emulated`);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** `<logical name>-<8 hex>`: resource.NewUniqueName(seed, name + "-", 0, 0, nil). */
export function autoname(logicalName: string): string {
  return `${logicalName}-${randomBytes(4).toString("hex")}`;
}

export function annotations(obj: Inputs): Block {
  const metadata = obj.metadata;
  return isBlock(metadata) && isBlock(metadata.annotations) ? metadata.annotations : {};
}

export function isAutonamed(obj: Inputs): boolean {
  return annotations(obj)[AUTONAMED] === "true";
}

/** The name, when known (a preview may not know it yet). */
export function nameOf(obj: Inputs): string | undefined {
  const metadata = obj.metadata;
  return isBlock(metadata) && typeof metadata.name === "string" ? metadata.name : undefined;
}

export function namespaceOf(obj: Inputs): string | undefined {
  const metadata = obj.metadata;
  return isBlock(metadata) && typeof metadata.namespace === "string" ? metadata.namespace : undefined;
}

function refuseUnmodelled(type: string, name: string, info: KindInfo, inputs: Inputs): void {
  const extra = Object.keys(inputs).filter((k) => !info.fields.includes(k) && inputs[k] !== undefined);
  if (extra.length > 0) refuse(type, name, `input(s) ${extra.join(", ")}`);
  if (inputs.apiVersion !== info.apiVersion || inputs.kind !== info.kind) {
    refuse(type, name, `apiVersion/kind ${String(inputs.apiVersion)}/${String(inputs.kind)}`);
  }
  for (const key of Object.keys(annotations(inputs))) {
    if (key.startsWith("pulumi.com/") && !MODELLED_ANNOTATIONS.includes(key)) {
      refuse(type, name, `annotation ${key}`);
    }
  }
  if (type === SECRET_TYPE && inputs.type === "kubernetes.io/service-account-token") {
    refuse(type, name, "type kubernetes.io/service-account-token");
  }
  if (type === DEPLOYMENT_TYPE) {
    const template = isBlock(inputs.spec) && isBlock(inputs.spec.template) ? inputs.spec.template : {};
    const volumes = isBlock(template.spec) ? template.spec.volumes : undefined;
    if (Array.isArray(volumes) && volumes.some((v) => isBlock(v) && v.persistentVolumeClaim !== undefined)) {
      refuse(type, name, "a persistentVolumeClaim volume");
    }
  }
}

/** stringData overwrites data, base64-encoded (clients/unstructured.go normalizeSecretStringData). */
function normalizeSecret(obj: Inputs): void {
  const stringData = obj.stringData;
  const data: Block = isBlock(obj.data) ? { ...obj.data } : {};
  if (isBlock(stringData) && Object.keys(stringData).length > 0) {
    for (const [k, v] of Object.entries(stringData))
      data[k] = Buffer.from(String(v), "utf8").toString("base64");
    obj.data = data;
    delete obj.stringData;
    return;
  }
  // normalizeSecretData: the API server re-encodes data, dropping whitespace a value may carry.
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === "string") data[k] = Buffer.from(v, "base64").toString("base64");
  }
  if (isBlock(obj.data)) obj.data = data;
}

export interface CheckOptions {
  type: string;
  /** The logical name (the URN's name), for autonaming and messages. */
  name: string;
  inputs: Inputs;
  /** The old checked inputs (`__inputs` of the state); absent on create and on a replacement. */
  oldInputs?: Inputs;
  /** The provider's default namespace. */
  defaultNamespace: string;
}

/** Check: the object as it will be sent to the API server (and stored as `__inputs`). */
export function checkObject(options: CheckOptions): Inputs {
  const { type, name } = options;
  const info = kindOf(type);
  refuseUnmodelled(type, name, info, options.inputs);
  const obj = clone(options.inputs);
  const metadata: Block = isBlock(obj.metadata) ? obj.metadata : {};
  obj.metadata = metadata;
  if (metadata.generateName !== undefined && metadata.name === undefined) {
    throw new Error("the `.metadata.generateName` field is not supported in Server-Side Apply mode");
  }
  const named = metadata.name !== undefined;
  if (isBlock(metadata.annotations) && metadata.annotations[AUTONAMED] !== undefined) {
    refuse(type, name, `annotation ${AUTONAMED} set by the program (the plugin's internal annotation)`);
  }
  if (!named) {
    const oldName =
      options.oldInputs && isAutonamed(options.oldInputs) ? nameOf(options.oldInputs) : undefined;
    metadata.name = oldName ?? autoname(name);
    metadata.annotations = {
      ...(isBlock(metadata.annotations) ? metadata.annotations : {}),
      [AUTONAMED]: "true",
    };
  }
  if (info.namespaced && metadata.namespace === undefined) metadata.namespace = options.defaultNamespace;
  if (!info.namespaced) delete metadata.namespace;
  if (type === SECRET_TYPE && !containsUnknown(obj)) normalizeSecret(obj);
  return obj;
}
