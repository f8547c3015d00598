/**
 * The services' network on a swarm: an overlay network, which spans every node of the swarm (on
 * one node it is local). Attachable, so that plain containers (a one-off caller, a debugging shell)
 * can join it too: ingress publishing needs IPVS and cannot bind loopback, so a container on this
 * network is how the services are called from outside the swarm's tasks.
 *
 * A docker.Network with those settings, as ServiceNetwork is for a single Docker host. Pass its
 * `id` (not its name) to `MtlsSwarmService.networkId`.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { checkNetworkArgs } from "./network-args.ts";

export interface SwarmNetworkArgs {
  /**
   * Docker network name. Default: auto-named `<name>-<7 hex>`, so stacks never collide. Changing it
   * replaces the network, and every service on it rolls onto the new one.
   */
  networkName?: pulumi.Input<string>;
  /**
   * No route to the outside world: tasks reach only each other. Default false. Changing it
   * replaces the network, and every service on it rolls onto the new one.
   */
  internal?: pulumi.Input<boolean>;
}

function checkArgs(name: string, args: SwarmNetworkArgs): docker.NetworkArgs {
  return { ...checkNetworkArgs("mtls:swarm:SwarmNetwork", name, args), driver: "overlay", attachable: true };
}

export class SwarmNetwork extends docker.Network {
  constructor(name: string, args: SwarmNetworkArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(name, checkArgs(name, args), opts);
  }
}
