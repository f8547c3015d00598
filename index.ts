/**
 * The program: stack config -> the library's components -> outputs. It uses only the public API
 * (components/index.ts), as any other program would; components/config.ts reads the stack file.
 * Runs as TypeScript under Node's type stripping (see Pulumi.yaml).
 */
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import {
  DEMO_APP_IMAGE,
  loadConfig,
  pkiArgs,
  unmatchedRevocationWarnings,
  type WorkloadConfig,
} from "./components/config.ts";
import {
  DEFAULT_SERVER_PORT,
  type Identity,
  MtlsPki,
  MtlsService,
  MtlsSwarmService,
  MtlsWorkload,
  ServiceImage,
  ServiceNetwork,
  SwarmNetwork,
} from "./components/index.ts";

const config = loadConfig();
const { name: serverName, port } = config.server;

const pki = new MtlsPki("pki", pkiArgs(config));
const serverIdentity = pki.issueServer(serverName);
const clientIdentities = new Map(config.clients.map((name) => [name, pki.issueClient(name)] as const));

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
      ? new MtlsSwarmService(name, { ...clientArgs, networkId: network.id, waitUntilConverged: false }, after)
      : new MtlsService(name, { ...clientArgs, networkName: network.name, waitUntilHealthy: false }, after);
    return [name, client] as const;
  }),
);

// Workloads behind sidecars (mtls-pki:workloads) get identities of their own, named after them.
const workloadIdentities = new Map(
  config.workloads.map(
    (w) => [w.name, w.role === "server" ? pki.issueServer(w.name) : pki.issueClient(w.name)] as const,
  ),
);

const identities = [serverIdentity, ...clientIdentities.values(), ...workloadIdentities.values()];

// A revoked serial that matches no issued certificate is a warning, never a failure (see
// unmatchedRevocationWarnings). Only when the serials are known: a preview of new certificates
// does not know them yet.
pulumi.all(identities.map((identity) => identity.serialNumber)).apply((serials) => {
  for (const warning of unmatchedRevocationWarnings(config, serials)) pulumi.log.warn(warning);
});

/** What a person looks up about an identity; nothing secret. */
function identitySummary(identity: Identity) {
  return {
    spiffeId: identity.spiffeId,
    serialNumber: identity.serialNumber,
    fingerprintSha256: identity.fingerprintSha256,
    notAfter: identity.notAfter,
    renewalDueAt: identity.renewalDueAt,
  };
}

/** The CA bundle: every generation's root, what anyone talking to these services trusts. */
export const caCertificatePem = pki.caBundlePem;
/** The CA generations trusted (oldest first), the one that signs leaves, and each root's facts. */
export const ca = {
  generations: pki.generations,
  issuing: pki.issuingGeneration,
  roots: Object.fromEntries(
    Object.entries(pki.roots).map(([generation, root]) => [
      generation,
      { fingerprintSha256: root.fingerprintSha256, notAfter: root.notAfter },
    ]),
  ),
};
/**
 * The earliest time any certificate enters its early-renewal window (ISO 8601 UTC): run
 * `pulumi up` after it and before that certificate's notAfter to renew it.
 */
export const nextRenewalDueAt = pulumi
  .all(identities.map((identity) => identity.renewalDueAt))
  .apply((times) => [...times].sort()[0]);
export const server = identitySummary(serverIdentity);
export const clients = Object.fromEntries(
  [...clientIdentities].map(([name, identity]) => [name, identitySummary(identity)]),
);
/** Secret: per client, its certificate chain, private key and CA bundle, for calls from the host. */
export const clientCredentials = pulumi.secret(
  pulumi
    .all(
      [...clientIdentities].map(([name, identity]) =>
        pulumi
          .all([identity.chainPem, identity.privateKeyPem, identity.caBundlePem])
          .apply(([certPem, keyPem, caPem]) => [name, { certPem, keyPem, caPem }] as const),
      ),
    )
    .apply((pairs) => Object.fromEntries(pairs)),
);

/** The server from the host (set when the stack publishes it on 127.0.0.1: `publishPort`). */
export const serverUrl = config.publishPort
  ? `https://localhost:${config.publishPort}`
  : "not published (set mtls-pki:publishPort)";
export const networkName = network.name;
/** The runtime's names for each workload: container names (docker) or service names (swarm). */
const workloadName = (service: MtlsService | MtlsSwarmService) =>
  service instanceof MtlsSwarmService ? service.serviceName : service.containerName;
const workloadNames = {
  server: workloadName(serverService),
  clients: Object.fromEntries([...clientServices].map(([name, client]) => [name, workloadName(client)])),
};
// Each runtime exports its own names; the SDK omits an undefined output from the stack's outputs.
export const containerNames = swarm ? undefined : workloadNames;
export const serviceNames = swarm ? workloadNames : undefined;

// --- Workloads: users' apps behind our sidecars (mtls-pki:workloads; README, "Sidecars") ---

/** The demo app (examples/demo-app), built on the services' base image when a workload runs it. */
const demoApp = config.workloads.some((w) => w.image === DEMO_APP_IMAGE)
  ? new ServiceImage("demo-app", {
      baseImage: config.baseImage,
      imageName: DEMO_APP_IMAGE,
      context: fileURLToPath(new URL("./examples/demo-app", import.meta.url)),
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
      identity: workloadIdentities.get(workload.name)!,
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
      identity: workloadIdentities.get(workload.name)!,
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
export const workloadContainers =
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
