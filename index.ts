/**
 * The program: stack config -> PKI -> image, network and containers -> outputs.
 * Runs as TypeScript under Node's type stripping (see Pulumi.yaml); components/ holds the parts.
 */
import { loadConfig } from "./components/config.ts";
import { clientCredentials as credentialsOf, declarePki, identitySummary } from "./components/pki.ts";
import { declareRuntime } from "./components/runtime.ts";

const config = loadConfig();
const pki = declarePki(config);
const runtime = declareRuntime(config, pki);

/** The root CA certificate: what anyone talking to these services trusts. */
export const caCertificatePem = pki.ca.rootCertPem;
export const server = identitySummary(pki.server);
export const clients = Object.fromEntries([...pki.clients].map(([name, id]) => [name, identitySummary(id)]));
/** Secret: per client, its certificate chain, private key and CA bundle, for calls from the host. */
export const clientCredentials = credentialsOf(pki.clients);

/** The server from the host (set when the stack publishes it on 127.0.0.1: `publishPort`). */
export const serverUrl = runtime.serverUrl ?? "not published (set mtls-pki:publishPort)";
export const networkName = runtime.networkName;
export const containerNames = {
  server: runtime.server.containerName,
  clients: Object.fromEntries([...runtime.clients].map(([name, client]) => [name, client.containerName])),
};
