/**
 * MtlsSwarmService for every Pulumi language: the library's service on Docker Swarm
 * (mtls-swarm-service.ts in components/) with `role` and `tlsPolicy` as enums; every other arg is
 * the library's own, with its documentation, default and checks.
 *
 * Children: the library's `MtlsSwarmService` of the same name (its secrets and the
 * `docker.Service`).
 */
import * as pulumi from "@pulumi/pulumi";
import { MtlsSwarmService as LibraryMtlsSwarmService } from "../components/mtls-swarm-service.ts";
import {
  checkSwarmArgs,
  type MtlsSwarmServiceArgs as LibraryMtlsSwarmServiceArgs,
} from "../components/mtls-swarm-service-args.ts";
import type { ServiceRole, TlsPolicy } from "./enums.ts";
import { plainPart } from "./precheck.ts";

export interface MtlsSwarmServiceArgs extends LibraryMtlsSwarmServiceArgs {
  /**
   * "server" or "client": the image's first argument. Required; a plain value. Changing it rolls
   * the tasks.
   */
  role: ServiceRole;
  /**
   * Server only: "modern" or "intermediate". Default: the service's own, "modern". Delivered in
   * the policy file, like `allowedClients`. Changing it rolls the tasks.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
}

export const MTLS_SWARM_SERVICE_PLUGIN_TYPE = "mtls-pki:index:MtlsSwarmService";

/**
 * One mTLS service, server or client, as replicated Docker Swarm tasks: its identity as swarm
 * secrets, a re-issued certificate rolled out one task at a time, start-first and health-gated.
 * The engine must be a swarm manager.
 */
export class MtlsSwarmService extends pulumi.ComponentResource {
  /** The swarm service's name (also its DNS name on the network). */
  readonly serviceName: pulumi.Output<string>;

  constructor(name: string, args: MtlsSwarmServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const serviceArgs: LibraryMtlsSwarmServiceArgs = args;
    checkSwarmArgs(name, plainPart(serviceArgs));
    super(MTLS_SWARM_SERVICE_PLUGIN_TYPE, name, {}, opts);
    const service = new LibraryMtlsSwarmService(name, serviceArgs, { parent: this });
    this.serviceName = service.serviceName;
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
