/**
 * A user's workload behind our sidecars, in Docker: the app on a private network of its own that
 * only its sidecars share, the sidecars also on the stack's network. For a workload `orders`:
 *
 * - `orders-net`: the private network. A bridge that is `internal` (no route out) and has no
 *   address on the host (`com.docker.network.bridge.inhibit_ipv4`), so its members reach each other
 *   and nothing else, and nothing else reaches them: not other containers, not the host. Its
 *   subnet is `subnet` (`allocateWorkloadSubnets` picks stable ones from a pool), else Docker's
 *   choice.
 * - Server role: `orders-sidecar`, an `MtlsService` on the stack's network (with `aliases` and any
 *   published port) and on `orders-net`, running the server with
 *   `MTLS_UPSTREAM=http://app.<orders-net's Docker name>:<appPort>` (or `tcp://`): the app's name
 *   qualified by its network, so no container of the stack's network that happens to be called
 *   `app` can answer instead. Its identity is delivered as for any MtlsService.
 *   Client role: `orders-to-<call>` for each call, an `MtlsService` running the client as a tunnel
 *   on both networks, known on `orders-net` as `tunnel-<call>`: `MTLS_LOCAL_LISTEN=0.0.0.0:<localPort>`
 *   with `MTLS_LOCAL_ALLOW_FROM=<orders-net's subnet>`, so a connection from the stack's network
 *   (which would call as this workload) is reset unread.
 * - `orders-app`: the user's image, only on `orders-net` (alias `app`), told `MTLS_APP_PORT`
 *   (server; it listens on 0.0.0.0) or `MTLS_TUNNEL_<CALL>=tunnel-<call>:<port>` (client). With
 *   `appEgress` it also joins `orders-egress`, a plain bridge of its own that routes out.
 *
 * Nothing is shared but networks: each container starts, restarts and is replaced on its own, and
 * finds the others by DNS on the private network whenever it connects. That is what lets a
 * workload come back by itself after a Docker daemon restart (clean or not) or a restart of any of
 * its containers, which a shared network namespace cannot promise on Docker (a container joined to
 * another's namespace and started before it at daemon start-up is never retried; a restarted
 * namespace owner orphans its joiners: docs/CONTAINERS.md, "Why not a shared namespace"). It also
 * lets a replaced sidecar run beside its successor for a moment (same alias, its own address).
 *
 * What replaces what:
 * - a re-issued certificate or a policy change: only the delivery containers; the sidecars reload;
 * - the sidecars' image or settings, `networkName`, `aliases`, `publish`: only that sidecar;
 * - the app's image or settings, `appEgress`: only the app (meanwhile the server sidecar answers 502);
 * - `subnet`: the private network, and with it every container of the workload.
 *
 * Args (mtls-workload-args.ts) are checked in the constructor before anything is declared; a bad
 * one throws one line naming `mtls:docker:MtlsWorkload "<name>"`, the arg and the value.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ENV } from "../services/src/contract.ts";
import { MtlsService } from "./mtls-service.ts";
import {
  APP_ALIAS,
  appEnvironment,
  checkWorkloadArgs,
  DEFAULT_APP_USER,
  MTLS_WORKLOAD_TYPE,
  type MtlsWorkloadArgs,
  tunnelAlias,
} from "./mtls-workload-args.ts";
import { gatewayOf, type Ipv4Network, networkText, parseIpv4Network } from "./workload-subnets.ts";

export {
  APP_ALIAS,
  DEFAULT_APP_USER,
  MTLS_WORKLOAD_TYPE,
  type MtlsWorkloadArgs,
  tunnelAlias,
  WORKLOAD_ENV,
  WORKLOAD_PROTOCOLS,
  type WorkloadCall,
  type WorkloadProtocol,
} from "./mtls-workload-args.ts";

/**
 * The bridge driver's option that leaves the bridge without an address on the host: no gateway
 * exists, so nothing on the network routes anywhere, and the host has no route into it.
 */
export const NO_HOST_ADDRESS_OPTION = "com.docker.network.bridge.inhibit_ipv4";

const LOGS = { logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } } as const;

export class MtlsWorkload extends pulumi.ComponentResource {
  /** The private network: the app and its sidecars, nothing else. */
  readonly network: docker.Network;
  /** With `appEgress`: the app's own network that routes out. */
  readonly egressNetwork: docker.Network | undefined;
  /** The sidecars: one server, or one tunnel per call. */
  readonly sidecars: MtlsService[];
  readonly app: docker.Container;
  /** The Docker name of the private network. */
  readonly networkName: pulumi.Output<string>;
  /** The private network's subnet (CIDR), as given or as Docker picked it. */
  readonly subnet: pulumi.Output<string>;
  /** The Docker name of the app container. */
  readonly appContainerName: pulumi.Output<string>;
  /** The Docker names of the sidecar containers. */
  readonly sidecarContainerNames: pulumi.Output<string[]>;

  constructor(name: string, args: MtlsWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    const checked = checkWorkloadArgs(name, args);
    super(MTLS_WORKLOAD_TYPE, name, {}, opts);
    const labels = (part: string) => [
      { label: "mtls-pki.workload", value: name },
      { label: "mtls-pki.part", value: part },
    ];

    // Checked by checkWorkloadArgs: a network here, written as Docker writes it back.
    const subnet =
      args.subnet === undefined ? undefined : networkText(parseIpv4Network(args.subnet) as Ipv4Network);
    this.network = new docker.Network(
      `${name}-net`,
      {
        driver: "bridge",
        internal: true,
        options: { [NO_HOST_ADDRESS_OPTION]: "true" },
        // The gateway given too: the provider reads both back, so the next up sees no change.
        ...(subnet === undefined
          ? {}
          : { ipamConfigs: [{ subnet, gateway: gatewayOf(parseIpv4Network(subnet) as Ipv4Network) }] }),
        labels: labels("network"),
      },
      { parent: this },
    );
    this.networkName = this.network.name;
    this.subnet =
      subnet === undefined
        ? this.network.ipamConfigs.apply((configs) => {
            const found = configs?.find((c) => c.subnet && !c.subnet.includes(":"))?.subnet;
            if (!found)
              throw new Error(
                `${MTLS_WORKLOAD_TYPE} "${name}": Docker reported no IPv4 subnet for its private network`,
              );
            return found;
          })
        : pulumi.output(subnet);
    const privateNetwork = (aliases: string[]) => ({ name: this.network.name, aliases });

    const common = {
      image: args.image,
      ...(args.deliveryImage === undefined ? {} : { deliveryImage: args.deliveryImage }),
      identity: args.identity,
      networkName: args.networkName,
      restart: checked.restart,
    };
    if (args.role === "server") {
      // Qualified by the network: Docker's DNS resolves <alias>.<network> in that network only.
      const upstream = pulumi.interpolate`${checked.protocol}://${APP_ALIAS}.${this.network.name}:${args.appPort}`;
      this.sidecars = [
        new MtlsService(
          `${name}-sidecar`,
          {
            ...common,
            role: "server",
            port: checked.port,
            ...(args.aliases === undefined ? {} : { aliases: args.aliases }),
            ...(args.publish === undefined ? {} : { publish: args.publish }),
            additionalNetworks: [privateNetwork([])],
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
        (call) =>
          new MtlsService(
            `${name}-to-${call.name}`,
            {
              ...common,
              role: "client",
              serverUrl: call.serverUrl,
              additionalNetworks: [privateNetwork([tunnelAlias(call.name)])],
              env: {
                // Every interface, but only the private network's hosts are served: on the stack's
                // network anyone could otherwise call as this workload.
                [ENV.localListen]: `0.0.0.0:${call.localPort}`,
                [ENV.localAllowFrom]: this.subnet,
              },
            },
            { parent: this },
          ),
      );
    }

    this.egressNetwork = args.appEgress
      ? new docker.Network(
          `${name}-egress`,
          { driver: "bridge", internal: false, labels: labels("egress") },
          { parent: this },
        )
      : undefined;

    const dropCapabilities = pulumi.output(args.appDropCapabilities ?? true);
    this.app = new docker.Container(
      `${name}-app`,
      {
        image: args.appImage,
        ...(args.appCommand === undefined ? {} : { command: args.appCommand }),
        envs: appEnvironment(args, checked),
        user: args.appUser ?? DEFAULT_APP_USER,
        networksAdvanced: [
          privateNetwork([APP_ALIAS]),
          ...(this.egressNetwork ? [{ name: this.egressNetwork.name }] : []),
        ],
        // With a second network, it must not route between the two (as MtlsService's sidecars).
        ...(this.egressNetwork ? { sysctls: { "net.ipv4.ip_forward": "0" } } : {}),
        labels: labels("app"),
        readOnly: args.appReadOnly ?? true,
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

    this.appContainerName = this.app.name;
    this.sidecarContainerNames = pulumi.all(this.sidecars.map((sidecar) => sidecar.containerName));
    this.registerOutputs({
      networkName: this.networkName,
      subnet: this.subnet,
      appContainerName: this.appContainerName,
      sidecarContainerNames: this.sidecarContainerNames,
    });
  }
}
