/**
 * MtlsService for every Pulumi language: the library's hardened service container (mtls-service.ts
 * in components/) with the args other languages can express: `role`, `tlsPolicy` and `restart` as
 * enums instead of TypeScript unions, and `publish` as a named type. Every other arg is the
 * library's own, with its documentation, default and checks.
 *
 * Children: the library's `MtlsService` of the same name (and below it `<name>-identity`,
 * `<name>-delivery` and the container `<name>`).
 */
import * as pulumi from "@pulumi/pulumi";
import { MtlsService as LibraryMtlsService } from "../components/mtls-service.ts";
import {
  checkArgs,
  type MtlsServiceArgs as LibraryMtlsServiceArgs,
} from "../components/mtls-service-args.ts";
import type { RestartPolicy, ServiceRole, TlsPolicy } from "./enums.ts";
import { plainPart } from "./precheck.ts";

/** Where a service's mTLS port is published on the host: always on 127.0.0.1. */
export interface ServicePublish {
  /** The host port, 1 to 65535, on 127.0.0.1. Default: a free port Docker picks. */
  hostPort?: pulumi.Input<number>;
  /** The container port to publish, 1 to 65535. Default: `port`, else 8443. */
  containerPort?: pulumi.Input<number>;
}

export interface MtlsServiceArgs extends LibraryMtlsServiceArgs {
  /**
   * "server" or "client": the image's first argument. Required; a plain value. Changing it
   * replaces the service container.
   */
  role: ServiceRole;
  /**
   * Server only: "modern" (TLS 1.3 only) or "intermediate" (also TLS 1.2 with forward-secret AEAD
   * suites). Delivered in the server's policy file (`policy.json`, beside the identity).
   *
   * Default: the service's own, "modern". Changing it replaces only the delivery container; new
   * handshakes get the new policy, established connections keep the version they negotiated.
   */
  tlsPolicy?: pulumi.Input<TlsPolicy>;
  /**
   * Docker restart policy. Default "always", so that the service comes back by itself after the
   * Docker daemon crashes and restarts (with "unless-stopped" the daemon treats the containers it
   * stopped while recovering as stopped on purpose and leaves them down). Changing it updates the
   * container in place (no restart of the service).
   */
  restart?: pulumi.Input<RestartPolicy>;
  /**
   * Publish the container's mTLS port on the host, bound to 127.0.0.1 only. Default: not
   * published. Changing it replaces the service container.
   */
  publish?: ServicePublish;
}

export const MTLS_SERVICE_PLUGIN_TYPE = "mtls-pki:index:MtlsService";

/**
 * One mTLS service, server or client, as a hardened Docker container: non-root, read-only root
 * filesystem, no capabilities, memory-limited, health-checked. Its identity is delivered into a
 * read-only volume by a never-started delivery container, so a re-issued certificate replaces
 * only that container and the service reloads the files without a restart.
 */
export class MtlsService extends pulumi.ComponentResource {
  /** The Docker name of the service container. */
  readonly containerName: pulumi.Output<string>;
  /** The Docker name of the volume holding the identity files. */
  readonly volumeName: pulumi.Output<string>;

  constructor(name: string, args: MtlsServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    // The compiler checks that these args are the library's (the enums are its unions' values).
    const serviceArgs: LibraryMtlsServiceArgs = args;
    checkArgs(name, plainPart(serviceArgs));
    super(MTLS_SERVICE_PLUGIN_TYPE, name, {}, opts);
    const service = new LibraryMtlsService(name, serviceArgs, { parent: this });
    this.containerName = service.containerName;
    this.volumeName = service.volumeName;
    this.registerOutputs({ containerName: this.containerName, volumeName: this.volumeName });
  }
}
