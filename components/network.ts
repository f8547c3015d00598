/**
 * The services' network: a user-defined bridge. Unlike Docker's default bridge it gives containers
 * DNS for each other's names and aliases (the server's alias is its certificate's DNS name), and it
 * isolates them from containers on other networks.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";

export interface ServiceNetworkArgs {
  /** Docker network name. Default: auto-named `<name>-<7 hex>`, so stacks never collide. */
  networkName?: pulumi.Input<string>;
  /**
   * No route to the outside world: containers reach only each other. Ports published to the host
   * are not reachable from the host on an internal network, so keep it false when the server is
   * published. Default false.
   */
  internal?: pulumi.Input<boolean>;
}

export function serviceNetwork(
  name: string,
  args: ServiceNetworkArgs = {},
  opts?: pulumi.CustomResourceOptions,
): docker.Network {
  return new docker.Network(
    name,
    { name: args.networkName, driver: "bridge", internal: args.internal ?? false },
    opts,
  );
}
