/**
 * A Pulumi program that uses mtls-pki as a library: one CA, one mTLS server and a client
 * container per configured name, each with its own identity, on a private network.
 */
import * as pulumi from "@pulumi/pulumi";
import { MtlsPki, MtlsService, ServiceImage, ServiceNetwork } from "mtls-pki";

const config = new pulumi.Config();
const clientNames = config.getObject<string[]>("clients") ?? ["billing", "reports"];

const pki = new MtlsPki("pki", { trustDomain: "example.internal" });
const serverIdentity = pki.issueServer("ledger", { dnsNames: ["ledger"] });

// deliveryImage: the delivery containers run an image that does not change with the services'
// code, so upgrading mtls-pki rebuilds the services' image without re-delivering identities.
const image = new ServiceImage("services", {
  baseImage: config.get("baseImage") ?? "node:24-slim",
  deliveryImage: true,
});
const network = new ServiceNetwork("services");

const server = new MtlsService("ledger", {
  image: image.repoDigest,
  role: "server",
  identity: serverIdentity,
  networkName: network.name,
  deliveryImage: image.deliveryRepoDigest,
  aliases: ["ledger"],
  allowedClients: clientNames,
});

// Each client starts once the server is up and healthy, so its first round finds it.
const clients = clientNames.map((name) => {
  const identity = pki.issueClient(name);
  const service = new MtlsService(
    name,
    {
      image: image.repoDigest,
      deliveryImage: image.deliveryRepoDigest,
      role: "client",
      identity,
      networkName: network.name,
      serverUrl: "https://ledger:8443",
    },
    { dependsOn: [server] },
  );
  return { name, identity, service };
});

/** The trust anchor: give it to anything that calls the server from outside these containers. */
export const caCertificatePem = pki.rootCertPem;
export const serverSpiffeId = serverIdentity.spiffeId;
export const clientSpiffeIds = Object.fromEntries(clients.map((c) => [c.name, c.identity.spiffeId]));
export const containerNames = {
  server: server.containerName,
  clients: Object.fromEntries(clients.map((c) => [c.name, c.service.containerName])),
};
