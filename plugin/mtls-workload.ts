/**
 * MtlsWorkload for every Pulumi language: the library's app-behind-sidecars workload
 * (mtls-workload.ts in components/) with `role`, `protocol`, `tlsPolicy` and `restart` as enums
 * and `publish` as a named type; every other arg is the library's own, with its documentation,
 * default and checks.
 *
 * Children: the library's `MtlsWorkload` of the same name (and below it the containers it names).
 */
import * as pulumi from "@pulumi/pulumi";
import { MtlsWorkload as LibraryMtlsWorkload } from "../components/mtls-workload.ts";
import {
  checkWorkloadArgs,
  type MtlsWorkloadArgs as LibraryMtlsWorkloadArgs,
} from "../components/mtls-workload-args.ts";
import type { RestartPolicy, ServiceRole, TlsPolicy, WorkloadProtocol } from "./enums.ts";
import { plainPart } from "./precheck.ts";

/** Where a server workload's mTLS port is published on the host: always on 127.0.0.1. */
export interface WorkloadPublish {
  /** The host port, 1 to 65535, on 127.0.0.1. Default: a free port Docker picks. */
  hostPort?: pulumi.Input<number>;
}

export interface MtlsWorkloadArgs extends LibraryMtlsWorkloadArgs {
  /**
   * "server": the sidecar accepts mTLS callers and forwards to the app on the workload's private
   * network; "client": one tunnel sidecar per entry of `calls`, which the app reaches on that
   * network. Required; a plain value. Changing it replaces the sidecars.
   */
  role: ServiceRole;
  /**
   * Server only: "http" (the sidecar is a reverse proxy and adds `x-forwarded-client-cert`) or
   * "tcp" (bytes piped both ways). Default "http". Changing it replaces the sidecar.
   */
  protocol?: WorkloadProtocol;
  /**
   * Server only: "modern" or "intermediate". Default "modern". Delivered in the policy file:
   * changing it replaces only the sidecar's delivery container.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
  /**
   * Docker restart policy of the sidecars and the app. Default "always", as for MtlsService (they
   * come back after an unclean engine restart). Changing it updates them in place.
   */
  restart?: pulumi.Input<RestartPolicy>;
  /**
   * Server only: publish the sidecar's mTLS port on the host's 127.0.0.1. Default: not published.
   * Changing it replaces the sidecar.
   */
  publish?: WorkloadPublish;
}

export const MTLS_WORKLOAD_PLUGIN_TYPE = "mtls-pki:index:MtlsWorkload";

/**
 * A user's app (`appImage`) behind mTLS sidecars, on a private network of its own that only its
 * sidecars share: a server sidecar that terminates mTLS, authorizes the caller and forwards to the
 * app, or one client tunnel per call that carries the app's connections over mTLS. Nothing on the
 * stack's network reaches the app except through mTLS.
 */
export class MtlsWorkload extends pulumi.ComponentResource {
  /** The Docker name of the workload's private network. */
  readonly networkName: pulumi.Output<string>;
  /** The private network's subnet (CIDR), as given or as Docker picked it. */
  readonly subnet: pulumi.Output<string>;
  /** The Docker name of the app container. */
  readonly appContainerName: pulumi.Output<string>;
  /** The Docker names of the sidecar containers. */
  readonly sidecarContainerNames: pulumi.Output<string[]>;

  constructor(name: string, args: MtlsWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    const workloadArgs: LibraryMtlsWorkloadArgs = args;
    checkWorkloadArgs(name, plainPart(workloadArgs));
    super(MTLS_WORKLOAD_PLUGIN_TYPE, name, {}, opts);
    const workload = new LibraryMtlsWorkload(name, workloadArgs, { parent: this });
    this.networkName = workload.networkName;
    this.subnet = workload.subnet;
    this.appContainerName = workload.appContainerName;
    this.sidecarContainerNames = workload.sidecarContainerNames;
    this.registerOutputs({
      networkName: this.networkName,
      subnet: this.subnet,
      appContainerName: this.appContainerName,
      sidecarContainerNames: this.sidecarContainerNames,
    });
  }
}
