/**
 * Create, update and delete of one object as the plugin does them (provider.go Create / Update /
 * Delete, await/await.go Creation / Update / Deletion), against the real API server:
 *
 *   create  → POST (field manager `pulumi-kubernetes`; retried while the API answers NotFound, e.g.
 *             a namespace not there yet) → the kind's await → state: the live object plus
 *             `__inputs`, `__initialApiVersion` and `__fieldManager` (a fresh
 *             `pulumi-kubernetes-<8 hex>`: the Server-Side Apply manager of later updates);
 *   update  → GET; fields owned by the create's `pulumi-kubernetes` (Update) entry handed to the
 *             apply manager (fixCSAFieldManagers); server-side apply without force; the await;
 *   delete  → DELETE with foreground propagation, then wait until the object is gone (a
 *             Namespace: until everything in it is gone).
 *
 * A create or update whose await fails leaves the object in place and throws ResourceInitError
 * with the plugin's message; the engine keeps the object in its state. Preview contacts no
 * cluster: the checked inputs come back as the outputs, as the plugin answers when it cannot dry-run.
 *
 * The emulation adds one label, `mtls-pki.test-run=<run id>`, to every object it sends (kept out
 * of the outputs), so that `cleanupKubernetesRun` finds whatever a crashed test left.
 */
import { randomBytes } from "node:crypto";
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  Inputs,
  State,
  Timeouts,
  UpdateRequest,
} from "../engine/provider.ts";
import { ResourceInitError } from "../engine/provider.ts";
import { type KubeApi, KubeApiError, type KubeObject } from "./api.ts";
import { awaitDeployment } from "./await-deployment.ts";
import type { AwaitFailure } from "./await-pods.ts";
import { awaitService } from "./await-service.ts";
import { annotations, checkObject, nameOf, namespaceOf, SKIP_AWAIT, TIMEOUT_SECONDS } from "./check.ts";
import { DEPLOYMENT_TYPE, kindOf, objectId, objectPath, SERVICE_TYPE } from "./kinds.ts";
import { fieldSelectorName, waitForEvents } from "./watch.ts";

export const RUN_LABEL = "mtls-pki.test-run";
const CREATE_MANAGER = "pulumi-kubernetes";
const DEFAULT_TIMEOUT_S = 600;

/** What an operation needs from the provider instance serving the resource. */
export interface ObjectContext {
  api(): Promise<KubeApi>;
  defaultNamespace: string;
  runId: string;
}

type Block = Record<string, unknown>;

function labelled(obj: Inputs, runId: string): Inputs {
  const copy = structuredClone(obj) as Block;
  const metadata = (copy.metadata ?? {}) as Block;
  metadata.labels = { ...((metadata.labels ?? {}) as Block), [RUN_LABEL]: runId };
  copy.metadata = metadata;
  return copy;
}

/** The live object without the emulation's label (an empty label map goes with it). */
function unlabelled(live: KubeObject): KubeObject {
  const copy = structuredClone(live);
  const metadata = (copy.metadata ?? {}) as Block;
  const labels = { ...((metadata.labels ?? {}) as Block) };
  delete labels[RUN_LABEL];
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  else delete metadata.labels;
  return copy;
}

function checkpoint(
  checked: Inputs,
  live: KubeObject,
  initialApiVersion: string,
  fieldManager: string,
): State {
  return {
    // A list's items carry no apiVersion/kind; the object sent names them.
    apiVersion: checked.apiVersion,
    kind: checked.kind,
    ...unlabelled(live),
    __inputs: checked,
    __initialApiVersion: initialApiVersion,
    __fieldManager: fieldManager,
  };
}

/** metadata.TimeoutDuration: the customTimeouts option, else `pulumi.com/timeoutSeconds`, else 10 min. */
function timeoutMs(timeouts: Timeouts | undefined, op: keyof Timeouts, obj: Inputs): number {
  const fromOption = timeouts?.[op];
  if (fromOption) return fromOption * 1000;
  const annotated = Number.parseInt(String(annotations(obj)[TIMEOUT_SECONDS] ?? ""), 10);
  return (Number.isFinite(annotated) ? annotated : DEFAULT_TIMEOUT_S) * 1000;
}

/** How the engine shows an init failure's reasons (the error, then the awaiter's sub-errors). */
function initFailureMessage(message: string, failure: AwaitFailure): string {
  const reasons = [`${message}: ${failure.message}`, ...failure.subErrors];
  return `${reasons.length} error${reasons.length === 1 ? "" : "s"} occurred:\n${reasons.map((r) => `\t* ${r}`).join("\n")}`;
}

async function awaitReady(
  api: KubeApi,
  type: string,
  live: KubeObject,
  last: KubeObject | undefined,
  checked: Inputs,
  ms: number,
): Promise<{ live: KubeObject; failure?: AwaitFailure }> {
  if (annotations(checked)[SKIP_AWAIT] === "true") return { live };
  const namespace = encodeURIComponent(live.metadata?.namespace ?? "default");
  if (type === DEPLOYMENT_TYPE) return awaitDeployment(api, namespace, live, last, ms);
  if (type === SERVICE_TYPE) return awaitService(api, namespace, live, ms);
  return { live };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const ALREADY_EXISTS_HELP = `

The resource already exists in the cluster. This can happen when:

  - Renaming a Pulumi resource: use an alias to preserve the identity,
    or use deleteBeforeReplace if the resource needs replacement.
  - Managing an existing resource: use a Patch resource (e.g. NamespacePatch)
    to manage specific fields without owning the resource lifecycle.
  - Adopting a resource into Pulumi: use \`pulumi import\`. Note that
    protected resources (e.g. kube-system) cannot be deleted on destroy.
  - Intentional upsert: set upsertExistingObjects on the provider to allow
    server-side apply to update existing objects on create.`;

/** await.Creation's retrier: 5 retries, backoff factor 2, on NotFound (e.g. the namespace is not there yet). */
async function postWithRetry(api: KubeApi, path: string, body: Inputs): Promise<KubeObject> {
  let delayMs = 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.request("POST", path, {
        query: { fieldManager: CREATE_MANAGER, fieldValidation: "Strict" },
        body,
      });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.code === 404) || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs *= 2;
    }
  }
}

export async function createObject(req: CreateRequest, ctx: ObjectContext): Promise<CreateResult> {
  const info = kindOf(req.type);
  const checked = checkObject({
    type: req.type,
    name: req.name,
    inputs: req.inputs,
    defaultNamespace: ctx.defaultNamespace,
  });
  if (req.preview) return { id: "", state: checked };
  const api = await ctx.api();
  const name = nameOf(checked) ?? "";
  const namespace = namespaceOf(checked);
  let created: KubeObject;
  try {
    created = await postWithRetry(api, objectPath(info, namespace), labelled(checked, ctx.runId));
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 409 && err.reason === "AlreadyExists") {
      throw new Error(`${err.message}${ALREADY_EXISTS_HELP}`);
    }
    throw new Error(
      `resource "${req.urn}" was not successfully created by the Kubernetes API server: ${messageOf(err)}`,
    );
  }
  const id = objectId(info, namespace, name);
  const fieldManager = `pulumi-kubernetes-${randomBytes(4).toString("hex")}`;
  const awaited = await awaitReady(
    api,
    req.type,
    created,
    undefined,
    checked,
    timeoutMs(req.timeouts, "create", checked),
  );
  const state = checkpoint(checked, awaited.live, info.apiVersion, fieldManager);
  if (awaited.failure) {
    const message = `resource "${req.urn}" was successfully created, but the Kubernetes API server reported that it failed to fully initialize or become live`;
    throw new ResourceInitError(initFailureMessage(message, awaited.failure), id, state);
  }
  return { id, state };
}

interface ManagedFields {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  fieldsType?: string;
  fieldsV1?: Block;
  time?: string;
}

function mergeFields(a: Block, b: Block): Block {
  const out: Block = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      prev && typeof prev === "object" && v && typeof v === "object"
        ? mergeFields(prev as Block, v as Block)
        : v;
  }
  return out;
}

/**
 * fixCSAFieldManagers (fluxcd ssa PatchReplaceFieldsManagers): the fields the create's
 * `pulumi-kubernetes` Update entry owns move to the apply manager's Apply entry, so the apply
 * neither conflicts with them nor leaves a field the program dropped behind.
 */
async function takeOverCreateFields(
  api: KubeApi,
  path: string,
  live: KubeObject,
  manager: string,
): Promise<KubeObject> {
  const entries = ((live.metadata?.managedFields ?? []) as ManagedFields[]).slice();
  const taken = entries.filter((e) => e.manager === CREATE_MANAGER && e.operation === "Update");
  if (taken.length === 0) return live;
  const rest = entries.filter((e) => !taken.includes(e));
  let target = rest.find((e) => e.manager === manager && e.operation === "Apply");
  if (!target) {
    target = {
      manager,
      operation: "Apply",
      apiVersion: taken[0]?.apiVersion,
      fieldsType: "FieldsV1",
      fieldsV1: {},
    };
    rest.push(target);
  }
  for (const e of taken) target.fieldsV1 = mergeFields(target.fieldsV1 ?? {}, e.fieldsV1 ?? {});
  target.time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return api.request("PATCH", path, {
    body: [{ op: "replace", path: "/metadata/managedFields", value: rest }],
    contentType: "application/json-patch+json",
  });
}

function conflictMessage(err: unknown, manager: string): string {
  if (!(err instanceof KubeApiError && err.code === 409)) return messageOf(err);
  return (
    "server-side apply field conflict detected, see https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/#handle-field-conflicts-on-existing-resources for troubleshooting help\n" +
    `The resource managed by field manager "${manager}" had an apply conflict: ${err.message}`
  );
}

export async function updateObject(req: UpdateRequest, ctx: ObjectContext): Promise<CreateResult> {
  const info = kindOf(req.type);
  const oldChecked = (req.oldState.__inputs ?? {}) as Inputs;
  const checked = checkObject({
    type: req.type,
    name: req.name,
    inputs: req.inputs,
    oldInputs: oldChecked,
    defaultNamespace: ctx.defaultNamespace,
  });
  const fieldManager = String(req.oldState.__fieldManager);
  const initialApiVersion = String(req.oldState.__initialApiVersion ?? info.apiVersion);
  if (req.preview) {
    const { __inputs: _i, __fieldManager: _f, __initialApiVersion: _v, ...oldLive } = req.oldState;
    return {
      id: req.id,
      state: {
        ...oldLive,
        ...checked,
        __inputs: checked,
        __initialApiVersion: initialApiVersion,
        __fieldManager: fieldManager,
      },
    };
  }
  const api = await ctx.api();
  const name = nameOf(checked) ?? "";
  const path = objectPath(info, namespaceOf(checked), name);
  let failure: AwaitFailure | undefined;
  let live: KubeObject = {};
  try {
    const oldLive = await api.request("GET", path);
    await takeOverCreateFields(api, path, oldLive, fieldManager);
    try {
      live = await api.request("PATCH", path, {
        query: { fieldManager, force: false, fieldValidation: "Strict" },
        body: labelled(checked, ctx.runId),
        contentType: "application/apply-patch+yaml",
      });
    } catch (err) {
      throw new Error(conflictMessage(err, fieldManager));
    }
    const awaited = await awaitReady(
      api,
      req.type,
      live,
      oldLive,
      checked,
      timeoutMs(req.timeouts, "update", checked),
    );
    live = awaited.live;
    failure = awaited.failure;
  } catch (err) {
    // Update: a failed apply still returns the object as it now is (readLiveObject).
    try {
      live = await api.request("GET", path);
    } catch (getErr) {
      throw new Error(
        `update of resource "${req.urn}" failed: ${messageOf(err)}\nunable to get cluster state: ${messageOf(getErr)}`,
      );
    }
    failure = { message: messageOf(err), subErrors: [] };
  }
  const state = checkpoint(checked, live, initialApiVersion, fieldManager);
  if (failure) {
    const id = objectId(info, namespaceOf(checked), name);
    const message = `the Kubernetes API server reported that "${id}" failed to fully initialize or become live`;
    throw new ResourceInitError(initFailureMessage(message, failure), req.id, state);
  }
  return { id: req.id, state };
}

export async function deleteObject(req: DeleteRequest, ctx: ObjectContext): Promise<void> {
  const info = kindOf(req.type);
  const checked = (req.state.__inputs ?? {}) as Inputs;
  const name = String((req.state.metadata as Block | undefined)?.name ?? nameOf(checked));
  const namespace = (req.state.metadata as Block | undefined)?.namespace as string | undefined;
  const api = await ctx.api();
  const path = objectPath(info, namespace, name);
  const gone = await api.request<KubeObject>("DELETE", path, {
    body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Foreground" },
    accept: [404],
  });
  if ((gone as { code?: number }).code === 404) return;
  const ok = await waitForEvents(
    api,
    [
      {
        path: objectPath(info, namespace),
        fieldSelector: fieldSelectorName(name),
        // Gone before the watch began: the list no longer holds it.
        onList: (items, control) => {
          if (items.length === 0) control.done();
        },
      },
    ],
    (_source, event, control) => {
      if (event.type === "DELETED") control.done();
    },
    timeoutMs(req.timeouts, "delete", checked),
  );
  // A list that no longer holds the object counts as deleted too (Deleted.refreshClusterState).
  if (!ok) {
    try {
      await api.request("GET", path);
    } catch (err) {
      if (err instanceof KubeApiError && err.code === 404) return;
      throw err;
    }
    throw new Error("timed out waiting for the condition");
  }
}
