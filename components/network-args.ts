/**
 * The args both networks share (ServiceNetwork on one host, SwarmNetwork on a swarm), checked once:
 * an optional Docker network name and `internal`. A bad one throws one line naming the network's
 * type and name, the arg and the value.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ArgChecks } from "./arg-checks.ts";

export interface NetworkArgs {
  networkName?: pulumi.Input<string>;
  internal?: pulumi.Input<boolean>;
}

// Docker's rule for network names.
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function checkNetworkArgs(type: string, name: string, args: NetworkArgs) {
  const checks = new ArgChecks(type, name);
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
  return { name: networkName, internal };
}
