/**
 * Issues one benchmark PKI with the project's own code path: the PKI half of the Pulumi program
 * (MtlsPki from components/index.ts, configured as the stack config would) under the emulation of the engine and of the tls provider
 * (emulation/, imported as a library through its front door). Writes the server and client
 * identities as PEM files.
 *
 *   node bench/pki/issue-pki.ts <keyAlgorithm> <out-dir>
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, pkiArgs } from "../../components/config.ts";
import { MtlsPki } from "../../components/index.ts";
import { EmulatedEngine, runProgram, TlsProvider } from "../../emulation/index.ts";

export const SERVER_NAME = "mtls-server";
export const CLIENT_NAME = "bench-client";
/** A second client identity: the flood scenario's hoarder (bench/floods/), another identity than the caller's. */
export const OTHER_CLIENT_NAME = "bench-client-b";

const [keyAlgorithm, outDir] = process.argv.slice(2);
if (!keyAlgorithm || !outDir) {
  process.stderr.write("usage: node bench/pki/issue-pki.ts <keyAlgorithm> <out-dir>\n");
  process.exit(2);
}

interface IdentityFiles {
  chainPem: string;
  privateKeyPem: string;
  caBundlePem: string;
}

const engine = new EmulatedEngine([new TlsProvider()]);
const run = await runProgram({
  engine,
  project: "mtls-pki",
  stack: "bench",
  config: { keyAlgorithm, clients: [CLIENT_NAME, OTHER_CLIENT_NAME], serverName: SERVER_NAME },
  program: async () => {
    const config = loadConfig();
    const pki = new MtlsPki("pki", pkiArgs(config));
    const server = pki.issueServer(config.server.name);
    const client = pki.issueClient(CLIENT_NAME);
    const otherClient = pki.issueClient(OTHER_CLIENT_NAME);
    const files = (id: typeof server) => ({
      chainPem: id.chainPem,
      privateKeyPem: id.privateKeyPem,
      caBundlePem: id.caBundlePem,
    });
    return { server: files(server), client: files(client), "client-b": files(otherClient) };
  },
});
try {
  mkdirSync(outDir, { recursive: true });
  for (const role of ["server", "client", "client-b"] as const) {
    const identity = run.exports[role] as IdentityFiles;
    writeFileSync(join(outDir, `${role}.crt`), identity.chainPem);
    writeFileSync(join(outDir, `${role}.key`), identity.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(outDir, "ca.crt"), identity.caBundlePem);
    // ab -E and nginx-free tools want the chain and the key in one file.
    writeFileSync(join(outDir, `${role}.pem`), identity.chainPem + identity.privateKeyPem, { mode: 0o600 });
  }
} finally {
  await engine.destroyAll();
}
