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
import { ArgChecks } from "./arg-checks.ts";

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

// Docker's rule for network names.
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function checkArgs(name: string, args: ServiceNetworkArgs): docker.NetworkArgs {
  const checks = new ArgChecks("mtls:docker:ServiceNetwork", name);
  const networkName =
    args.networkName === undefined
      ? undefined
      : checks.check("networkName", args.networkName, (value) =>
          typeof value === "string" && NETWORK_NAME.test(value)
            ? undefined
            : `${JSON.stringify(value)} is not a Docker network name (letters, digits, "_", "." and "-")`,
        );
  const internal = checks.check("internal", args.internal ?? false, (value) =>
    typeof value === "boolean" ? undefined : `${JSON.stringify(value)} is not true or false`,
  );
  checks.done();
  return { name: networkName, driver: "bridge", internal };
}

export class ServiceNetwork extends docker.Network {
  constructor(name: string, args: ServiceNetworkArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(name, checkArgs(name, args), opts);
  }
}
