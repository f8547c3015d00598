/**
 * The runtime of a stack: the services' image, a user-defined bridge network, the server container
 * reachable by an alias that is also its certificate's DNS name, and one container per client.
 * Every identity is delivered through a volume (see mtls-service.ts), so re-issued certificates
 * never replace a service container.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ENV } from "../services/src/contract.ts";
import type { MtlsConfig } from "./config.ts";
import type { Identity } from "./identity.ts";
import { MtlsService } from "./mtls-service.ts";
import { serviceNetwork } from "./network.ts";
import type { Pki } from "./pki.ts";
import { ServiceImage } from "./service-image.ts";

export interface Runtime {
  image: ServiceImage;
  networkName: pulumi.Output<string>;
  server: MtlsService;
  clients: Map<string, MtlsService>;
  /** How the host reaches the server (only when the stack publishes it). */
  serverUrl: string | undefined;
}

function identityFiles(identity: Identity) {
  return {
    certChainPem: identity.chainPem,
    privateKeyPem: identity.privateKeyPem,
    caBundlePem: identity.caBundlePem,
  };
}

export function declareRuntime(config: MtlsConfig, pki: Pki): Runtime {
  const image = new ServiceImage("services", { baseImage: config.baseImage });
  const network = serviceNetwork("mtls");
  const { name: serverName, port } = config.server;

  const server = new MtlsService(serverName, {
    image: image.repoDigest,
    role: "server",
    identity: identityFiles(pki.server),
    networkName: network.name,
    // One value is both the network alias and the certificate's DNS SAN, so they cannot drift.
    aliases: [serverName],
    env: {
      [ENV.listen]: `0.0.0.0:${port}`,
      [ENV.allowedClients]: config.allowedClients.join(","),
      [ENV.tlsPolicy]: config.tlsPolicy,
    },
    ...(config.publishPort ? { publish: { hostPort: config.publishPort, containerPort: port } } : {}),
  });

  const clients = new Map(
    [...pki.clients].map(([name, identity]) => {
      const client = new MtlsService(
        name,
        {
          image: image.repoDigest,
          role: "client",
          identity: identityFiles(identity),
          networkName: network.name,
          env: { [ENV.serverUrl]: `https://${serverName}:${port}` },
          // A client is healthy once its last round succeeded, which depends on the server's
          // allow-list and uptime: report that through its health status, but do not let it fail
          // `pulumi up` (the server's health, which does gate the deploy, is about itself).
          waitUntilHealthy: false,
        },
        // Clients start once the server is healthy, so their first round does not back off.
        { dependsOn: [server] },
      );
      return [name, client] as const;
    }),
  );

  return {
    image,
    networkName: network.name,
    server,
    clients,
    serverUrl: config.publishPort ? `https://localhost:${config.publishPort}` : undefined,
  };
}
