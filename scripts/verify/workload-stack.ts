/**
 * What the stack says about each MtlsWorkload's wiring, from the same `stack export` as stack.ts:
 * its private network (URN, Docker name, internal, driver options, subnets), its egress network if
 * any, and its members, the app and the sidecar containers, each with the networks (by Docker
 * name) and aliases its state declares. verify compares that with Docker (workload-findings.ts).
 */
import { nameOf, StackProblem, type StackResource, text } from "./state.ts";

/** MTLS_WORKLOAD_TYPE in components/mtls-workload-args.ts, spelled out (no SDK load). */
export const MTLS_WORKLOAD_TYPE = "mtls:docker:MtlsWorkload";
const MTLS_SERVICE_TYPE = "mtls:docker:MtlsService";
const CONTAINER_TYPE = "docker:index/container:Container";
const NETWORK_TYPE = "docker:index/network:Network";

export interface NetworkInStack {
  urn: string;
  name: string;
  internal: boolean;
  options: Record<string, string>;
  subnets: string[];
}

export interface MemberInStack {
  /** "app", or the sidecar's MtlsService name. */
  role: "app" | "sidecar";
  urn: string;
  /** The container's Docker name. */
  name: string;
  /** Docker network name -> the aliases the state declares there. */
  networks: Record<string, string[]>;
}

export interface WorkloadInStack {
  name: string;
  network: NetworkInStack;
  egress: NetworkInStack | undefined;
  members: MemberInStack[];
}

interface StateAttachment {
  name?: string;
  aliases?: string[];
}

function networkOf(resource: StackResource): NetworkInStack {
  const outputs = resource.outputs ?? {};
  const configs = (outputs.ipamConfigs ?? []) as { subnet?: string }[];
  return {
    urn: resource.urn,
    name: text(outputs.name) ?? nameOf(resource.urn),
    internal: outputs.internal === true,
    options: (outputs.options ?? {}) as Record<string, string>,
    subnets: configs.map((c) => c.subnet).filter((s): s is string => typeof s === "string"),
  };
}

function memberOf(resource: StackResource, role: MemberInStack["role"]): MemberInStack {
  const attachments = (resource.outputs?.networksAdvanced ?? []) as StateAttachment[];
  return {
    role,
    urn: resource.urn,
    name: text(resource.outputs?.name) ?? nameOf(resource.urn),
    networks: Object.fromEntries(
      attachments
        .filter((a) => typeof a.name === "string")
        .map((a) => [a.name!, [...(a.aliases ?? [])].sort()]),
    ),
  };
}

export function describeWorkloads(resources: StackResource[], stack: string): WorkloadInStack[] {
  return resources
    .filter((r) => r.type === MTLS_WORKLOAD_TYPE)
    .map((component) => {
      const name = nameOf(component.urn);
      const child = (type: string, childName: string, parent = component.urn) =>
        resources.find((r) => r.parent === parent && r.type === type && nameOf(r.urn) === childName);
      const network = child(NETWORK_TYPE, `${name}-net`);
      const app = child(CONTAINER_TYPE, `${name}-app`);
      if (!network || !app) {
        // A workload of an older release (one shared namespace, a pause container) has neither.
        throw new StackProblem(
          `stack "${stack}": MtlsWorkload "${name}" has no private network or app container in its state (deployed by an older release? run \`STACK=${stack} npm run up\` once to move it to the current wiring)`,
        );
      }
      const egress = child(NETWORK_TYPE, `${name}-egress`);
      const sidecars = resources
        .filter((r) => r.parent === component.urn && r.type === MTLS_SERVICE_TYPE)
        .map((service) => child(CONTAINER_TYPE, nameOf(service.urn), service.urn))
        .filter((c): c is StackResource => c !== undefined);
      return {
        name,
        network: networkOf(network),
        egress: egress ? networkOf(egress) : undefined,
        members: [memberOf(app, "app"), ...sidecars.map((c) => memberOf(c, "sidecar"))],
      };
    });
}
