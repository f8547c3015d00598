/**
 * The services' network: a user-defined bridge. Unlike Docker's default bridge it gives containers
 * DNS for each other's names and aliases (a server's alias is its certificate's DNS name), and it
 * isolates them from containers on other networks.
 *
 * A docker.Network with the services' settings, not a component around one: it is one resource, so
 * it gains nothing from a parent, and it keeps the resource a stack created before it existed.
 * Args are checked in the constructor; a bad one throws one line naming
 * `mtls:docker:ServiceNetwork "<name>"`, the arg and the value.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { checkNetworkArgs } from "./network-args.ts";

export interface ServiceNetworkArgs {
  /**
   * Docker network name. Default: auto-named `<name>-<7 hex>`, so stacks never collide. Changing it
   * replaces the network and every container on it.
   */
  networkName?: pulumi.Input<string>;
  /**
   * No route to the outside world: containers reach only each other. Ports published to the host
   * are not reachable from the host on an internal network, so keep it false when a server is
   * published. Default false. Changing it replaces the network and every container on it.
   */
  internal?: pulumi.Input<boolean>;
}

function checkArgs(name: string, args: ServiceNetworkArgs): docker.NetworkArgs {
  return { ...checkNetworkArgs("mtls:docker:ServiceNetwork", name, args), driver: "bridge" };
}

export class ServiceNetwork extends docker.Network {
  constructor(name: string, args: ServiceNetworkArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(name, checkArgs(name, args), opts);
  }
}
