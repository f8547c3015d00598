/**
 * A user's workload behind our sidecars, in Docker, the way a Kubernetes pod shares one network
 * namespace:
 *
 * - `<name>-pause`: the namespace owner. A do-nothing container (`node -e`, exiting on SIGTERM so a
 *   stop is immediate) that holds the network attachment, the aliases and any published port. It
 *   never crashes, so it never restarts: restarting a namespace owner would silently orphan every
 *   container joined to it (PROVIDER-FACTS.md, "Shared network namespaces").
 * - Server role: `<name>-sidecar`, an `MtlsService` running the server with
 *   `MTLS_UPSTREAM=http://127.0.0.1:<appPort>` (or `tcp://`), its identity delivered as for any
 *   MtlsService (`<name>-sidecar-identity`, `<name>-sidecar-delivery`).
 *   Client role: `<name>-to-<call>` for each call, an `MtlsService` running the client as a tunnel
 *   (`MTLS_LOCAL_LISTEN=127.0.0.1:<localPort>`, `MTLS_SERVER_URL`), each with its own delivery.
 * - `<name>-app`: the user's image.
 *
 * The sidecars and the app join the owner with `networkMode: "container:<owner id>"`, so the app
 * listens on (and calls) 127.0.0.1 only: nothing on the network reaches it except through mTLS.
 *
 * What replaces what (Docker fixes a container's namespace, env and image at creation):
 * - a re-issued certificate: only the delivery containers; the sidecars reload the files;
 * - the sidecars' image or settings: only that sidecar (delete first: its listener is away for the
 *   moment between the two, the app stays up);
 * - the app's image or settings: only the app (meanwhile the server sidecar answers 502);
 * - the network, the aliases, the published port or the pause image: the owner, and with it every
 *   container joined to it (their `networkMode` holds the owner's id).
 *
 * Args (mtls-workload-args.ts) are checked in the constructor before anything is declared; a bad
 * one throws one line naming `mtls:docker:MtlsWorkload "<name>"`, the arg and the value.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ENV, SERVICE_GID, SERVICE_UID } from "../services/src/contract.ts";
import { MtlsService } from "./mtls-service.ts";
import { DEFAULT_RESTART_POLICY } from "./mtls-service-args.ts";
import {
  appEnvironment,
  checkWorkloadArgs,
  MTLS_WORKLOAD_TYPE,
  type MtlsWorkloadArgs,
  tunnelStatusPort,
} from "./mtls-workload-args.ts";

export {
  MTLS_WORKLOAD_TYPE,
  type MtlsWorkloadArgs,
  WORKLOAD_ENV,
  WORKLOAD_PROTOCOLS,
  type WorkloadCall,
  type WorkloadProtocol,
} from "./mtls-workload-args.ts";

/**
 * The namespace owner's program: wait forever, exit at once on SIGTERM or SIGINT (Node as PID 1
 * ignores SIGTERM unless it handles it, and `docker stop` would then wait its 10 s).
 */
export const PAUSE_SCRIPT =
  'for (const s of ["SIGTERM", "SIGINT"]) process.on(s, () => process.exit(0)); setInterval(() => {}, 2147483647);';

/** Memory of the owner: an idle Node process. */
const PAUSE_MEMORY_MB = 64;

const LOGS = { logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } } as const;

export class MtlsWorkload extends pulumi.ComponentResource {
  /** The namespace owner: holds the network attachment, aliases and published port. */
  readonly owner: docker.Container;
  /** The sidecars: one server, or one tunnel per call. */
  readonly sidecars: MtlsService[];
  readonly app: docker.Container;
  /** The Docker name of the namespace owner (what `docker exec` or a network inspection shows). */
  readonly ownerContainerName: pulumi.Output<string>;
  /** The Docker name of the app container. */
  readonly appContainerName: pulumi.Output<string>;

  constructor(name: string, args: MtlsWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    const checked = checkWorkloadArgs(name, args);
    super(MTLS_WORKLOAD_TYPE, name, {}, opts);
    const labels = (part: string) => [
      { label: "mtls-pki.workload", value: name },
      { label: "mtls-pki.part", value: part },
    ];

    const hostPort = args.publish?.hostPort;
    this.owner = new docker.Container(
      `${name}-pause`,
      {
        image: args.pauseImage ?? args.deliveryImage ?? args.image,
        // The entrypoint, not the command: the services' image has an entrypoint of its own.
        entrypoints: ["node", "-e", PAUSE_SCRIPT],
        user: `${SERVICE_UID}:${SERVICE_GID}`,
        networksAdvanced: [{ name: args.networkName, aliases: args.aliases }],
        ports: args.publish
          ? [
              {
                internal: checked.port,
                ...(hostPort === undefined ? {} : { external: hostPort }),
                ip: "127.0.0.1",
              },
            ]
          : [],
        labels: labels("pause"),
        readOnly: true,
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true"],
        memory: PAUSE_MEMORY_MB,
        memorySwap: PAUSE_MEMORY_MB,
        // It does nothing, so it does not crash: "always" only brings it back after an unclean
        // engine restart, as MtlsService's default does for the services (mtls-service-args.ts).
        restart: DEFAULT_RESTART_POLICY,
        ...LOGS,
      },
      { parent: this },
    );

    const common = {
      image: args.image,
      ...(args.deliveryImage === undefined ? {} : { deliveryImage: args.deliveryImage }),
      identity: args.identity,
      // By id: Docker stores `container:<id>` whatever it was given, and a name would read back
      // as a change (and replace the sidecar) on every `pulumi up`.
      namespaceOwnerId: this.owner.id,
      restart: checked.restart,
    };
    if (args.role === "server") {
      const upstream = `${checked.protocol}://127.0.0.1:${args.appPort}`;
      this.sidecars = [
        new MtlsService(
          `${name}-sidecar`,
          {
            ...common,
            role: "server",
            port: checked.port,
            ...(args.allowedClients === undefined ? {} : { allowedClients: args.allowedClients }),
            ...(args.tlsPolicy === undefined ? {} : { tlsPolicy: args.tlsPolicy }),
            ...(args.revokedSerials === undefined ? {} : { revokedSerials: args.revokedSerials }),
            env: { [ENV.upstream]: upstream },
          },
          { parent: this },
        ),
      ];
    } else {
      this.sidecars = checked.calls.map(
        (call, index) =>
          new MtlsService(
            `${name}-to-${call.name}`,
            {
              ...common,
              role: "client",
              serverUrl: call.serverUrl,
              env: {
                [ENV.localListen]: `127.0.0.1:${call.localPort}`,
                // Every tunnel shares the namespace: each needs a status port of its own.
                [ENV.statusListen]: `127.0.0.1:${tunnelStatusPort(index)}`,
              },
            },
            { parent: this },
          ),
      );
    }

    const dropCapabilities = pulumi.output(args.appDropCapabilities ?? true);
    this.app = new docker.Container(
      `${name}-app`,
      {
        image: args.appImage,
        ...(args.appCommand === undefined ? {} : { command: args.appCommand }),
        envs: appEnvironment(args, checked),
        ...(args.appUser === undefined ? {} : { user: args.appUser }),
        networkMode: pulumi.interpolate`container:${this.owner.id}`,
        labels: labels("app"),
        readOnly: args.appReadOnly ?? false,
        capabilities: dropCapabilities.apply((drop) => (drop ? { drops: ["ALL"] } : {})),
        securityOpts: ["no-new-privileges:true"],
        memory: checked.appMemoryMb,
        memorySwap: checked.appMemoryMb,
        restart: checked.restart,
        ...LOGS,
      },
      // After the sidecars are healthy: a client app's first call finds its tunnel listening.
      { parent: this, dependsOn: this.sidecars },
    );

    this.ownerContainerName = this.owner.name;
    this.appContainerName = this.app.name;
    this.registerOutputs({
      ownerContainerName: this.ownerContainerName,
      appContainerName: this.appContainerName,
    });
  }
}
