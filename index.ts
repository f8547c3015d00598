/**
 * The program: stack config -> PKI -> image, network and containers -> outputs.
 * Runs as TypeScript under Node's type stripping (see Pulumi.yaml); components/ holds the parts.
 */
import { loadConfig } from "./components/config.ts";
import { clientCredentials as credentialsOf, declarePki, identitySummary } from "./components/pki.ts";

const config = loadConfig();
const pki = declarePki(config);

/** The root CA certificate: what anyone talking to these services trusts. */
export const caCertificatePem = pki.ca.rootCertPem;
export const server = identitySummary(pki.server);
export const clients = Object.fromEntries([...pki.clients].map(([name, id]) => [name, identitySummary(id)]));
/** Secret: per client, its certificate chain, private key and CA bundle, for calls from the host. */
export const clientCredentials = credentialsOf(pki.clients);
