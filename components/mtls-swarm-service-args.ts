/**
 * MtlsSwarmService's args: the same service args as MtlsService (role, image, identity, server and
 * client settings, memory), with what differs on a swarm: the overlay network by id, a replica
 * count, and no host publishing. Checked in the constructor, every problem at once, each one line
 * naming `mtls:swarm:MtlsSwarmService "<name>"`, the arg and the value.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Role, TlsPolicy } from "../services/src/contract.ts";
import { ArgChecks } from "./arg-checks.ts";
import type { ServiceIdentity } from "./identity.ts";
import { type CheckedServiceArgs, checkArgs } from "./mtls-service-args.ts";

export const MTLS_SWARM_SERVICE_TYPE = "mtls:swarm:MtlsSwarmService";

export interface MtlsSwarmServiceArgs {
  /**
   * Image to run: `ServiceImage.repoDigest`. On a multi-node swarm every node must be able to get
   * it (push it to a registry the nodes can reach). Required. Changing it rolls the tasks.
   */
  image: pulumi.Input<string>;
  /**
   * "server" or "client": the image's first argument. Required; a plain value. Changing it rolls
   * the tasks.
   */
  role: Role;
  /**
   * The identity to deliver as swarm secrets: an `Identity` from `MtlsPki`, or any object with
   * `chainPem`, `privateKeyPem` (kept secret) and `caBundlePem`. Required. Changing one (a new
   * certificate) creates a new secret for that file, rolls the tasks onto it one at a time
   * (start-first, health-gated) and then deletes the old secret; an unchanged file keeps its secret.
   */
  identity: ServiceIdentity;
  /**
   * Id of the overlay network to join: `SwarmNetwork.id` (the provider deprecates network names
   * here: they plan a replacement after every refresh). Required. Changing it rolls the tasks.
   */
  networkId: pulumi.Input<string>;
  /**
   * DNS names of the service on the network, besides its own name; a server's should be among its
   * certificate's DNS names. They resolve to every task's address (DNS round robin). Default none.
   * Changing them rolls the tasks.
   */
  aliases?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Number of tasks, at least 1. Default 1. Changing it adds or removes tasks in place (no
   * rollout of the others).
   */
  replicas?: pulumi.Input<number>;
  /**
   * Server only: the mTLS port, 1 to 65535. Default: the service's own, 8443. Changing it rolls
   * the tasks.
   */
  port?: pulumi.Input<number>;
  /**
   * Server only: the client names (certificate CNs) let in. Default: every client of the CA
   * bundle. Delivered in the server's policy file (a swarm secret mounted at
   * /etc/mtls/policy.json). Changing it replaces that secret and rolls the tasks, start-first.
   */
  allowedClients?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Server only: "modern" or "intermediate". Default: the service's own, "modern". Delivered in
   * the policy file, like `allowedClients`. Changing it rolls the tasks.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
  /**
   * Server only: hex serials of client certificates the server refuses (case, colons, `serial=`
   * and leading zeros do not matter). Default none. Delivered in the policy file, like
   * `allowedClients`. Changing it rolls the tasks.
   */
  revokedSerials?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Client only: the server's URL, `https://<server alias>:<port>`. Default: the service's own.
   * Changing it rolls the tasks.
   */
  serverUrl?: pulumi.Input<string>;
  /** Arguments after the role. Default none. Changing them rolls the tasks. */
  args?: pulumi.Input<pulumi.Input<string>[]>;
  /** Further environment (names from the services' contract, `ENV`). Default none. Changing it rolls the tasks. */
  env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Memory limit per task in MB, at least 6. Default 256. Changing it rolls the tasks. */
  memoryMb?: pulumi.Input<number>;
  /**
   * Make `pulumi up` wait until every task runs healthy after a create, and until a rollout has
   * completed after an update (the provider's `convergeConfig`, up to 3 minutes); a rollout that
   * Swarm rolled back fails the update. Default true. Changing it changes nothing in Swarm.
   */
  waitUntilConverged?: boolean;
}

export interface CheckedSwarmArgs extends CheckedServiceArgs {
  replicas: pulumi.Input<number>;
}

/** Checks the args, MtlsService's shared ones included, and throws every problem at once. */
export function checkSwarmArgs(name: string, args: MtlsSwarmServiceArgs): CheckedSwarmArgs {
  const checks = new ArgChecks(MTLS_SWARM_SERVICE_TYPE, name);
  // Refused where a user might carry them over from MtlsService: they have no swarm meaning.
  const carried = args as unknown as Record<string, unknown>;
  if (carried.publish !== undefined) {
    checks.add(
      "publish",
      "is not available on a swarm: the routing mesh publishes on every interface of every node and cannot bind 127.0.0.1; call the service from a container on its overlay network",
    );
  }
  for (const key of ["networkName", "containerName", "restart", "waitUntilHealthy", "deliveryImage"]) {
    if (carried[key] !== undefined)
      checks.add(key, "is an MtlsService arg; MtlsSwarmService has no such arg");
  }
  checks.check("networkId", args.networkId, (value) =>
    typeof value === "string" && value.trim() !== ""
      ? undefined
      : `${JSON.stringify(value)} is empty; it is required`,
  );
  const replicas = checks.check("replicas", args.replicas ?? 1, (value) =>
    Number.isInteger(value) && value >= 1
      ? undefined
      : `${JSON.stringify(value)} is not a whole number of at least 1`,
  );
  const shared = checkArgs(
    name,
    {
      image: args.image,
      role: args.role,
      identity: args.identity,
      // Checked above as networkId; MtlsService's own network check has nothing to add.
      networkName: "overlay",
      aliases: args.aliases,
      port: args.port,
      allowedClients: args.allowedClients,
      tlsPolicy: args.tlsPolicy,
      revokedSerials: args.revokedSerials,
      serverUrl: args.serverUrl,
      args: args.args,
      env: args.env,
      memoryMb: args.memoryMb,
    },
    checks,
  );
  return { ...shared, replicas };
}
