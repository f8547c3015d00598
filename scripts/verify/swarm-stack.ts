/**
 * What a swarm stack (mtls-pki:runtime swarm) says is deployed, from the same `stack export` as
 * stack.ts: for each MtlsSwarmService component its docker.Service (URN, swarm id, name, declared
 * replicas and secret mounts) and its docker.Secrets (URN, swarm id, name), and for the certificate
 * secret the SHA-256 of the chain the stack's Identity holds, to compare with the secret's
 * `mtls-pki.chain-sha256` label. Nothing here reads secret data: the key secret's `data` is a
 * ciphertext in the export, and the chain comes from the Identity's plaintext outputs.
 */
import { createHash } from "node:crypto";
import { nameOf, StackProblem, type StackResource, text } from "./state.ts";

/** MTLS_SWARM_SERVICE_TYPE in components/mtls-swarm-service-args.ts, spelled out (no SDK load). */
export const MTLS_SWARM_SERVICE_TYPE = "mtls:swarm:MtlsSwarmService";
const SERVICE_TYPE = "docker:index/service:Service";
const SECRET_TYPE = "docker:index/secret:Secret";
const IDENTITY_TYPE = "mtls:pki:Identity";
/** The label MtlsSwarmService puts on the certificate secret (not the key's: it outlives a re-issue). */
export const CHAIN_LABEL = "mtls-pki.chain-sha256";

export interface SecretMount {
  /** The file inside the task, e.g. /etc/mtls/tls.key. */
  file: string;
  uid: string;
  gid: string;
  /** e.g. 0o400. */
  mode: number;
}

export interface SecretInStack {
  urn: string;
  /** The swarm secret id (the resource's id). */
  id: string;
  name: string;
  mount: SecretMount | undefined;
  /** The chain's SHA-256 the secret's label must carry (certificate and key secrets only). */
  chainSha256: string | undefined;
}

export interface SwarmServiceInStack {
  name: string;
  role: "server" | "client";
  service: { urn: string; id: string; name: string; replicas: number };
  secrets: SecretInStack[];
}

const sha256 = (value: string) => createHash("sha256").update(value, "utf8").digest("hex");

interface StateSecretRef {
  secretId?: string;
  fileName?: string;
  fileUid?: string;
  fileGid?: string;
  fileMode?: number;
}

export function describeSwarmServices(resources: StackResource[], stack: string): SwarmServiceInStack[] {
  return resources
    .filter((r) => r.type === MTLS_SWARM_SERVICE_TYPE)
    .map((component) => describeSwarmService(component, resources, stack));
}

function describeSwarmService(
  component: StackResource,
  resources: StackResource[],
  stack: string,
): SwarmServiceInStack {
  const name = nameOf(component.urn);
  const children = resources.filter((r) => r.parent === component.urn);
  const service = children.find((r) => r.type === SERVICE_TYPE && nameOf(r.urn) === name);
  if (!service?.id)
    throw new StackProblem(
      `stack "${stack}": MtlsSwarmService "${name}" has no ${SERVICE_TYPE} "${name}" in its state`,
    );
  const outputs = service.outputs ?? {};
  const labels = (outputs.labels ?? []) as Array<{ label?: string; value?: string }>;
  const role = labels.find((l) => l.label === "mtls-pki.role")?.value === "client" ? "client" : "server";
  const mode = outputs.mode as { replicated?: { replicas?: number } } | undefined;
  const taskSpec = outputs.taskSpec as { containerSpec?: { secrets?: StateSecretRef[] } } | undefined;
  const refs = taskSpec?.containerSpec?.secrets ?? [];
  const identity = resources.find((r) => r.type === IDENTITY_TYPE && nameOf(r.urn).endsWith(`-${name}`));
  const chainPem = text(identity?.outputs?.chainPem);
  const chainSecret = `${name}-tls-crt`;
  const secrets = children
    .filter((r) => r.type === SECRET_TYPE && r.id)
    .map((secret): SecretInStack => {
      const ref = refs.find((s) => s.secretId === secret.id);
      return {
        urn: secret.urn,
        id: secret.id!,
        name: text(secret.outputs?.name) ?? nameOf(secret.urn),
        mount: ref?.fileName
          ? {
              file: ref.fileName,
              uid: ref.fileUid ?? "0",
              gid: ref.fileGid ?? "0",
              mode: ref.fileMode ?? 0o444,
            }
          : undefined,
        chainSha256: nameOf(secret.urn) === chainSecret && chainPem ? sha256(chainPem) : undefined,
      };
    });
  return {
    name,
    role,
    service: {
      urn: service.urn,
      id: service.id,
      name: text(outputs.name) ?? nameOf(service.urn),
      replicas: Number(mode?.replicated?.replicas ?? 1),
    },
    secrets,
  };
}
