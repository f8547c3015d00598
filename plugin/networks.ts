/**
 * The services' networks for every Pulumi language. In TypeScript they are docker.Network
 * resources with the services' settings (service-network.ts, swarm-network.ts in components/); a
 * source-based package can serve only components, so here each is a component around one.
 *
 * Children: the library's network of the same name.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkNetworkArgs } from "../components/network-args.ts";
import {
  ServiceNetwork as LibraryServiceNetwork,
  type ServiceNetworkArgs,
} from "../components/service-network.ts";
import { SwarmNetwork as LibrarySwarmNetwork, type SwarmNetworkArgs } from "../components/swarm-network.ts";
import { plainPart } from "./precheck.ts";

/** The library types its refusals name (components/service-network.ts, swarm-network.ts). */
const LIBRARY_TYPES = {
  service: "mtls:docker:ServiceNetwork",
  swarm: "mtls:swarm:SwarmNetwork",
} as const;

/**
 * A user-defined bridge network for the services: DNS between the containers (a server's alias
 * is its certificate's DNS name), isolation from containers on other networks.
 */
export class ServiceNetwork extends pulumi.ComponentResource {
  /** The Docker network name (`MtlsService` `networkName`). */
  readonly networkName: pulumi.Output<string>;
  /** The Docker network id. */
  readonly networkId: pulumi.Output<string>;

  constructor(name: string, args: ServiceNetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    checkNetworkArgs(LIBRARY_TYPES.service, name, plainPart(args));
    super("mtls-pki:index:ServiceNetwork", name, {}, opts);
    const network = new LibraryServiceNetwork(name, args, { parent: this });
    this.networkName = network.name;
    this.networkId = network.id;
    this.registerOutputs({ networkName: this.networkName, networkId: this.networkId });
  }
}

/**
 * An attachable overlay network for `MtlsSwarmService` on a swarm: plain containers can join it
 * too, which is how the services are called from outside their tasks.
 */
export class SwarmNetwork extends pulumi.ComponentResource {
  /** The Docker network name. */
  readonly networkName: pulumi.Output<string>;
  /** The Docker network id (`MtlsSwarmService` `networkId`). */
  readonly networkId: pulumi.Output<string>;

  constructor(name: string, args: SwarmNetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    checkNetworkArgs(LIBRARY_TYPES.swarm, name, plainPart(args));
    super("mtls-pki:index:SwarmNetwork", name, {}, opts);
    const network = new LibrarySwarmNetwork(name, args, { parent: this });
    this.networkName = network.name;
    this.networkId = network.id;
    this.registerOutputs({ networkName: this.networkName, networkId: this.networkId });
  }
}
