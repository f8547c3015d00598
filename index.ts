/**
 * The program: stack config -> the library's components -> outputs. It uses only the public API
 * (components/index.ts), as any other program would; components/config.ts reads the stack file.
 * The runtime is a choice of components: containers on one Docker engine or services on a swarm
 * (program/containers.ts), or Deployments on Kubernetes (program/kubernetes.ts).
 * Runs as TypeScript under Node's type stripping (see Pulumi.yaml).
 */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, pkiArgs, unmatchedRevocationWarnings } from "./components/config.ts";
import { type Identity, MtlsPki } from "./components/index.ts";
import { clusterProblem } from "./program/cluster-reachable.ts";
import { declareContainerStack } from "./program/containers.ts";
import { declareKubernetesStack, namespaceClaim } from "./program/kubernetes.ts";

const config = loadConfig();
const { name: serverName, port } = config.server;
const onKubernetes = config.runtime === "kubernetes";
// Before anything is declared: no API server there, or a namespace of someone else's, is one clear
// failure, not one per object.
if (onKubernetes) {
  const problem = await clusterProblem(
    config.kubernetes,
    `Pulumi.${config.stack}.yaml`,
    namespaceClaim(config),
  );
  if (problem) throw new pulumi.RunError(problem);
}

const pki = new MtlsPki("pki", pkiArgs(config));
const serverIdentity = pki.issueServer(serverName);
const clientIdentities = new Map(config.clients.map((name) => [name, pki.issueClient(name)] as const));

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
  : onKubernetes
    ? `not published: https://${serverName}:${port} from a pod (kubernetes.serverService)`
    : "not published (set mtls-pki:publishPort)";

const stackIdentities = { server: serverIdentity, clients: clientIdentities, workloads: workloadIdentities };
const containers = onKubernetes ? undefined : declareContainerStack(config, stackIdentities);
const cluster = onKubernetes ? declareKubernetesStack(config, stackIdentities) : undefined;

// Each runtime exports its own names; the SDK omits an undefined output from the stack's outputs.
/** The Docker network of the services (docker, swarm). */
export const networkName = containers?.networkName;
/** The runtime's names for the server and each client: container names (docker). */
export const containerNames = containers?.containerNames;
/** ... or swarm service names (swarm). */
export const serviceNames = containers?.serviceNames;
/**
 * Per workload, the Docker names of its app container, its sidecar containers and its private
 * network, and that network's subnet (docker; no output without workloads).
 */
export const workloadContainers = containers?.workloadContainers;
/**
 * Kubernetes: the namespace, the Deployments of the server and each client, the server's Service
 * (its name is the certificate's DNS name) and, per workload, its Deployment and container names.
 */
export const kubernetes = cluster;
