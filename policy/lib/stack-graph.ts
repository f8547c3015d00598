/**
 * What a stack policy can tell about where a value came from. The engine hands every resource's
 * property dependencies to stack policies: for each input property, the resources whose outputs
 * it was computed from. That holds at preview too, when the values themselves are still unknown,
 * so "this container's `envs` came from a private key" is decided from dependencies, not content.
 * A dependency names the resource, not which of its outputs was used: any output of a
 * `tls:index/privateKey` counts (its public key too).
 */
import type { PolicyResource } from "@pulumi/policy";
import { TLS } from "./types";
import { type Props, plain } from "./values";

export interface StackResource {
  resource: PolicyResource;
  type: string;
  name: string;
  urn: string;
  /** The resource's outputs (at preview: its planned state), read past the unknown-checking proxy. */
  props: Props;
}

export function view(resource: PolicyResource): StackResource {
  return {
    resource,
    type: resource.type,
    name: resource.name,
    urn: resource.urn,
    props: plain(resource.props),
  };
}

/** `docker:index/container:Container "mtls-server"`: how a message names a resource. */
export function describe(r: { type: string; name: string }): string {
  return `${r.type} "${r.name}"`;
}

/** The resources one input property was computed from. */
export function dependenciesOf(r: StackResource, property: string): PolicyResource[] {
  return r.resource.propertyDependencies?.[property] ?? [];
}

/** The resources of a type one input property was computed from. */
export function dependenciesOfType(r: StackResource, property: string, type: string): PolicyResource[] {
  return dependenciesOf(r, property).filter((d) => d.type === type);
}

/** The private keys (any output of a `tls:index/privateKey`) one property was computed from. */
export function keyDependencies(r: StackResource, property: string): PolicyResource[] {
  return dependenciesOfType(r, property, TLS.privateKey);
}

export class StackIndex {
  readonly all: StackResource[];
  private readonly byUrn = new Map<string, StackResource>();

  constructor(resources: readonly PolicyResource[]) {
    this.all = resources.map(view);
    for (const r of this.all) this.byUrn.set(r.urn, r);
  }

  ofType(type: string): StackResource[] {
    return this.all.filter((r) => r.type === type);
  }

  get(resource: PolicyResource): StackResource {
    return this.byUrn.get(resource.urn) ?? view(resource);
  }

  /** The resources (as views) one property of `r` was computed from, of the given type. */
  sources(r: StackResource, property: string, type: string): StackResource[] {
    return dependenciesOfType(r, property, type).map((d) => this.get(d));
  }
}
