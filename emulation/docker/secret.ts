/**
 * docker.Secret (kreuzwerker `docker_secret`) on an engine in swarm mode. Swarm secrets are
 * immutable, so every input forces a replacement: `data` (the base64 of the content, checked as
 * the provider's validator does), `name` and `labels`. A `name` left out is auto-named
 * `<logical>-<7hex>` and the replacement is create-first (the new secret exists before the service
 * that uses it is updated, the old one is deleted after); an explicit `name` makes the replacement
 * delete-first, which Swarm refuses while a service still uses the secret [measured]. The id is the
 * swarm secret id; `data` is a secret output (the SDK's additionalSecretOutputs).
 */
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  Inputs,
} from "../engine/provider.ts";
import { containsUnknown } from "../engine/values.ts";
import { diffProperties, type PropertyRules, rejectUnemulated } from "./diff.ts";
import { dockerApi } from "./engine-api.ts";
import { autoname, labelMap } from "./naming.ts";

export const SECRET_TYPE = "docker:index/secret:Secret";

const RULES: PropertyRules = {
  name: { forceNew: true, computed: true },
  data: { forceNew: true },
  labels: { forceNew: true, set: true },
};

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The provider's checks; the message never quotes `data` (it is the secret). */
function checkSecret(name: string, inputs: Inputs): void {
  rejectUnemulated(SECRET_TYPE, RULES, inputs);
  const data = inputs.data;
  if (containsUnknown(data)) return;
  if (typeof data !== "string" || data === "") {
    throw new Error(`${SECRET_TYPE} "${name}": data: missing required property 'data'`);
  }
  if (!BASE64.test(data)) {
    throw new Error(`${SECRET_TYPE} "${name}": data: is not base64 decodeable`);
  }
}

export function diffSecret(req: DiffRequest): DiffResult {
  checkSecret(req.name, req.newInputs);
  const news = { ...req.newInputs };
  if (news.name === undefined && req.oldInputs.name === undefined) news.name = req.oldState.name;
  const { changed } = diffProperties(RULES, req.oldState, news);
  if (changed.length === 0) return { kind: "none" };
  // The bridge replaces delete-first when the program names the resource itself.
  return { kind: "replace", changed, deleteBeforeReplace: req.newInputs.name !== undefined };
}

export async function createSecret(req: CreateRequest, runId: string): Promise<CreateResult> {
  checkSecret(req.name, req.inputs);
  const name = (req.inputs.name as string | undefined) ?? autoname(req.name);
  const state = { ...req.inputs, name };
  if (req.preview) return { id: "", state };
  const { body } = await dockerApi("POST", "/secrets/create", {
    json: { Name: name, Data: req.inputs.data, Labels: labelMap(req.inputs.labels, runId) },
  });
  return { id: (body as { ID: string }).ID, state };
}

export async function deleteSecret(req: DeleteRequest): Promise<void> {
  // Swarm answers "secret ... is in use by the following service" while a service references it.
  await dockerApi("DELETE", `/secrets/${req.id}`, { accept: [404] });
}
