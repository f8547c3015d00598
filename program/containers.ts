/**
 * The program's Docker half (index.ts calls it for `runtime: docker` and `runtime: swarm`): the
 * services' image, the network, the server and clients as MtlsService (containers on one engine)
 * or MtlsSwarmService (services on a swarm), and the workloads behind sidecars (MtlsWorkload).
 * Returns the names the stack exports.
 */
import { fileURLToPath } from "node:url";
import { DEMO_APP_IMAGE, type MtlsConfig, type WorkloadConfig } from "../components/config.ts";
import {
  DEFAULT_SERVER_PORT,
  type Identity,
  MtlsService,
  MtlsSwarmService,
  MtlsWorkload,
  ServiceImage,
  ServiceNetwork,
  SwarmNetwork,
} from "../components/index.ts";

export interface StackIdentities {
  server: Identity;
  clients: Map<string, Identity>;
  workloads: Map<string, Identity>;
}

export function declareContainerStack(config: MtlsConfig, identities: StackIdentities) {
  const { name: serverName, port } = config.server;
  const serverIdentity = identities.server;
  const clientIdentities = identities.clients;
  // With workloads or a published server, also the base-only delivery image: for the sidecars'
  // delivery containers and for the published server's front, so a new version of the services
  // replaces neither (nor, with the front, interrupts the published port).
  const publishing = config.runtime !== "swarm" && (config.publishPort ?? 0) > 0;
  const image = new ServiceImage("services", {
    baseImage: config.baseImage,
    ...(config.workloads.length > 0 || publishing ? { deliveryImage: true } : {}),
  });
  // The runtime is a choice of components: containers on one engine, or services on a swarm
  // (workloads are refused on a swarm by the config check: they are containers on one engine).
  const swarm = config.runtime === "swarm";
  const network = swarm ? new SwarmNetwork("mtls") : new ServiceNetwork("mtls");

  const serverArgs = {
    image: image.repoDigest,
    role: "server" as const,
    identity: serverIdentity,
    // One value is both the network alias and the certificate's DNS SAN, so they cannot drift.
    aliases: [serverName],
    port,
    // The access policy travels in the server's policy file, not its environment: editing it
    // replaces only the delivery container (docker) or rolls the tasks (swarm), never an outage.
    allowedClients: config.allowedClients,
    tlsPolicy: config.tlsPolicy,
    revokedSerials: config.revokedSerials,
  };
  const serverService = swarm
    ? new MtlsSwarmService(serverName, {
        ...serverArgs,
        networkId: network.id,
        replicas: config.serverReplicas,
      })
    : new MtlsService(serverName, {
        ...serverArgs,
        networkName: network.name,
        ...(publishing
          ? { publish: { hostPort: config.publishPort }, frontImage: image.deliveryRepoDigest! }
          : {}),
      });

  const clientServices = new Map(
    [...clientIdentities].map(([name, identity]) => {
      const clientArgs = {
        image: image.repoDigest,
        role: "client" as const,
        identity,
        serverUrl: `https://${serverName}:${port}`,
      };
      // Clients start once the server is healthy, so their first round does not back off.
      const after = { dependsOn: [serverService] };
      // A client is healthy once its last round succeeded, which depends on the server's
      // allow-list and uptime: report that through its health status, but do not let it fail
      // `pulumi up` (the server's health, which does gate the deploy, is about itself).
      const client = swarm
        ? new MtlsSwarmService(
            name,
            { ...clientArgs, networkId: network.id, waitUntilConverged: false },
            after,
          )
        : new MtlsService(name, { ...clientArgs, networkName: network.name, waitUntilHealthy: false }, after);
      return [name, client] as const;
    }),
  );

  /** The runtime's names for each workload: container names (docker) or service names (swarm). */
  const workloadName = (service: MtlsService | MtlsSwarmService) =>
    service instanceof MtlsSwarmService ? service.serviceName : service.containerName;
  const workloadNames = {
    server: workloadName(serverService),
    clients: Object.fromEntries([...clientServices].map(([name, client]) => [name, workloadName(client)])),
  };

  // --- Workloads: users' apps behind our sidecars (mtls-pki:workloads; README, "Sidecars") ---

  /** The demo app (examples/demo-app), built on the services' base image when a workload runs it. */
  const demoApp = config.workloads.some((w) => w.image === DEMO_APP_IMAGE)
    ? new ServiceImage("demo-app", {
        baseImage: config.baseImage,
        imageName: DEMO_APP_IMAGE,
        context: fileURLToPath(new URL("../examples/demo-app", import.meta.url)),
      })
    : undefined;

  function declareWorkload(workload: WorkloadConfig, callers: string[], servers: Map<string, MtlsWorkload>) {
    const common = {
      image: image.repoDigest,
      ...(image.deliveryRepoDigest ? { deliveryImage: image.deliveryRepoDigest } : {}),
      networkName: network.name,
      // Set by the config check: the workload's own, or its stable slot of workloadSubnetPool.
      subnet: workload.subnet!,
      appImage: workload.image === DEMO_APP_IMAGE && demoApp ? demoApp.repoDigest : workload.image,
      ...(workload.env === undefined ? {} : { appEnv: workload.env }),
      ...(workload.user === undefined ? {} : { appUser: workload.user }),
      ...(workload.readOnly === undefined ? {} : { appReadOnly: workload.readOnly }),
      ...(workload.egress === undefined ? {} : { appEgress: workload.egress }),
    };
    if (workload.role === "server") {
      return new MtlsWorkload(workload.name, {
        ...common,
        role: "server",
        identity: identities.workloads.get(workload.name)!,
        // The alias is the certificate's DNS name, as for the stack's own server.
        aliases: [workload.name],
        appPort: workload.port!,
        protocol: workload.protocol ?? "http",
        // Only the client workloads that call it get in; with none, every client of the CA.
        ...(callers.length > 0 ? { allowedClients: callers } : {}),
        // A revoked (leaked) client certificate is refused by every server of the stack.
        revokedSerials: config.revokedSerials,
      });
    }
    const calls = workload.calls ?? [];
    return new MtlsWorkload(
      workload.name,
      {
        ...common,
        role: "client",
        identity: identities.workloads.get(workload.name)!,
        calls: calls.map((call) => ({
          name: call.server,
          serverUrl: `https://${call.server}:${DEFAULT_SERVER_PORT}`,
          localPort: call.localPort,
        })),
      },
      // After the servers it calls: its tunnels' first connections find them up.
      { dependsOn: calls.map((call) => servers.get(call.server)!) },
    );
  }

  const workloads = new Map<string, MtlsWorkload>();
  for (const role of ["server", "client"] as const) {
    for (const workload of config.workloads.filter((w) => w.role === role)) {
      const callers = config.workloads
        .filter((w) => w.calls?.some((call) => call.server === workload.name))
        .map((w) => w.name);
      workloads.set(workload.name, declareWorkload(workload, callers, workloads));
    }
  }

  /**
   * Per workload, the Docker names of its app container, its sidecar containers and its private
   * network, and that network's subnet (no output without workloads).
   */
  const workloadContainers =
    workloads.size === 0
      ? undefined
      : Object.fromEntries(
          [...workloads].map(([name, workload]) => [
            name,
            {
              app: workload.appContainerName,
              sidecars: workload.sidecarContainerNames,
              network: workload.networkName,
              subnet: workload.subnet,
            },
          ]),
        );

  return {
    networkName: network.name,
    // Each runtime exports its own names; the SDK omits an undefined output from the stack's outputs.
    containerNames: swarm ? undefined : workloadNames,
    serviceNames: swarm ? workloadNames : undefined,
    workloadContainers,
  };
}
