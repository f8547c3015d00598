/**
 * What the stack says is deployed, from `scripts/pulumi.sh stack export` (the real CLI, the project's
 * own state backend; no --show-secrets: verify needs no secret). For each MtlsService component: its
 * service container, delivery container and identity volume (URN and Docker name), and the identity
 * it should hold: the Identity component of the same name (MtlsPki names them `<pki>-<name>`), with
 * its serial, SHA-256 fingerprint, certificate chain and CA bundle.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { nameOf, StackProblem, type StackResource, text } from "./state.ts";
import { describeSwarmServices, MTLS_SWARM_SERVICE_TYPE, type SwarmServiceInStack } from "./swarm-stack.ts";
import { describeWorkloads, type WorkloadInStack } from "./workload-stack.ts";

export { StackProblem, type StackResource } from "./state.ts";

const run = promisify(execFile);

/**
 * The component types (MTLS_SERVICE_TYPE in components/mtls-service-args.ts, IDENTITY_TYPE in
 * components/identity.ts), spelled out so that verify does not load the Pulumi SDK.
 */
const MTLS_SERVICE_TYPE = "mtls:docker:MtlsService";
export const CONTAINER_TYPE = "docker:index/container:Container";
export const VOLUME_TYPE = "docker:index/volume:Volume";
const IDENTITY_TYPE = "mtls:pki:Identity";

/** A problem with the stack itself (exit 2): it does not exist, is not deployed, cannot be read. */

export interface DockerObject {
  urn: string;
  /** The Docker name (the provider's `name` output). */
  name: string;
}

export interface ExpectedIdentity {
  serialNumber: string;
  fingerprintSha256: string;
  chainPem: string;
  caBundlePem: string;
}

export interface ServiceInStack {
  /** The MtlsService's name (its logical name in the program). */
  name: string;
  role: "server" | "client";
  image: string;
  container: DockerObject;
  /** A published server's front (the container that owns the host port), when it has one. */
  front: DockerObject | undefined;
  delivery: DockerObject;
  volume: DockerObject;
  identity: ExpectedIdentity | undefined;
}

/** Runs `scripts/pulumi.sh ARGS`; a failure becomes a StackProblem carrying the CLI's own last line. */
async function pulumi(root: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(path.join(root, "scripts/pulumi.sh"), args, {
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const failure = error as { stderr?: string; code?: number; message: string };
    const last = String(failure.stderr ?? "")
      .trim()
      .split("\n")
      .filter((line) => line.trim() !== "")
      .at(-1);
    throw new StackProblem(
      `scripts/pulumi.sh ${args.join(" ")} failed (exit ${failure.code ?? "?"}): ${last ?? failure.message}`,
    );
  }
}

/** The stack's runtime, told by the components in its state (mtls-pki:runtime docker or swarm). */
export type DeployedStack =
  | { runtime: "docker"; services: ServiceInStack[]; workloads: WorkloadInStack[] }
  | { runtime: "swarm"; services: SwarmServiceInStack[] };

export async function readStack(root: string, stack: string): Promise<DeployedStack> {
  const exported = await pulumi(root, ["stack", "export", "--stack", stack]);
  let resources: StackResource[];
  try {
    const parsed = JSON.parse(exported) as { deployment?: { resources?: StackResource[] } };
    resources = parsed.deployment?.resources ?? [];
  } catch {
    throw new StackProblem(`scripts/pulumi.sh stack export --stack ${stack} did not print JSON`);
  }
  const components = resources.filter((r) => r.type === MTLS_SERVICE_TYPE);
  if (resources.some((r) => r.type === MTLS_SWARM_SERVICE_TYPE)) {
    if (components.length > 0)
      throw new StackProblem(
        `stack "${stack}" holds both MtlsService and MtlsSwarmService components: verify checks one runtime per stack`,
      );
    return { runtime: "swarm", services: describeSwarmServices(resources, stack) };
  }
  if (components.length === 0) {
    throw new StackProblem(
      `stack "${stack}" has no deployed MtlsService or MtlsSwarmService (${resources.length} resources in its state): deploy it first with \`STACK=${stack} npm run up\``,
    );
  }
  return {
    runtime: "docker",
    services: components.map((component) => describeService(component, resources, stack)),
    workloads: describeWorkloads(resources, stack),
  };
}

function describeService(
  component: StackResource,
  resources: StackResource[],
  stack: string,
): ServiceInStack {
  const name = nameOf(component.urn);
  const find = (type: string, childName: string) =>
    resources.find((r) => r.parent === component.urn && r.type === type && nameOf(r.urn) === childName);
  const child = (type: string, childName: string): StackResource => {
    const found = find(type, childName);
    if (!found)
      throw new StackProblem(
        `stack "${stack}": MtlsService "${name}" has no ${type} "${childName}" in its state`,
      );
    return found;
  };
  const dockerObject = (r: StackResource): DockerObject => ({
    urn: r.urn,
    name: text(r.outputs?.name) ?? r.id ?? nameOf(r.urn),
  });
  // Published, the service container is `<name>-service` and `<name>` is its front.
  const serviceContainer = find(CONTAINER_TYPE, `${name}-service`);
  const container = serviceContainer ?? child(CONTAINER_TYPE, name);
  const front = serviceContainer ? child(CONTAINER_TYPE, name) : undefined;
  const delivery = child(CONTAINER_TYPE, `${name}-delivery`);
  const volume = child(VOLUME_TYPE, `${name}-identity`);
  const labels = (container.outputs?.labels ?? []) as Array<{ label?: string; value?: string }>;
  const role = labels.find((l) => l.label === "mtls-pki.role")?.value === "client" ? "client" : "server";
  const identity = resources.find((r) => r.type === IDENTITY_TYPE && nameOf(r.urn).endsWith(`-${name}`));
  const outputs = identity?.outputs ?? {};
  const expected =
    identity &&
    text(outputs.serialNumber) &&
    text(outputs.fingerprintSha256) &&
    text(outputs.chainPem) &&
    text(outputs.caBundlePem)
      ? {
          serialNumber: text(outputs.serialNumber)!,
          fingerprintSha256: text(outputs.fingerprintSha256)!,
          chainPem: text(outputs.chainPem)!,
          caBundlePem: text(outputs.caBundlePem)!,
        }
      : undefined;
  return {
    name,
    role,
    image: text(container.outputs?.image) ?? "",
    container: dockerObject(container),
    front: front && dockerObject(front),
    delivery: dockerObject(delivery),
    volume: dockerObject(volume),
    identity: expected,
  };
}
