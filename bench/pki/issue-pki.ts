/**
 * Issues one benchmark PKI with the project's own code path: the PKI half of the Pulumi program
 * (components/pki.ts) under the test emulation of the engine and of the tls provider, exactly as
 * test/program/deploy.ts runs it for the tests. Writes the server and client identities as PEM files.
 *
 *   node bench/pki/issue-pki.ts <keyAlgorithm> <out-dir>
 *
 * The program runner imports `vitest` for one call (vi.resetModules); a resolve hook hands it a
 * stand-in instead, so this runs as a plain Node process (one process per PKI, nothing to reset).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { registerHooks } from "node:module";
import { join } from "node:path";

const STAND_IN = new URL("./vitest-stand-in.ts", import.meta.url).href;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === "vitest") return { url: STAND_IN, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

export const SERVER_NAME = "mtls-server";
export const CLIENT_NAME = "bench-client";

const [keyAlgorithm, outDir] = process.argv.slice(2);
if (!keyAlgorithm || !outDir) {
  process.stderr.write("usage: node bench/pki/issue-pki.ts <keyAlgorithm> <out-dir>\n");
  process.exit(2);
}

const { deploy, pkiProgram } = await import("../../test/program/deploy.ts");
const deployment = await deploy(
  "bench",
  { keyAlgorithm, clients: JSON.stringify([CLIENT_NAME]), serverName: SERVER_NAME },
  { program: pkiProgram },
);
try {
  mkdirSync(outDir, { recursive: true });
  for (const [role, name] of [
    ["server", SERVER_NAME],
    ["client", CLIENT_NAME],
  ] as const) {
    const identity = deployment.identity(name);
    writeFileSync(join(outDir, `${role}.crt`), identity.cert);
    writeFileSync(join(outDir, `${role}.key`), identity.key, { mode: 0o600 });
    writeFileSync(join(outDir, "ca.crt"), identity.ca);
    // ab -E and nginx-free tools want the chain and the key in one file.
    writeFileSync(join(outDir, `${role}.pem`), identity.cert + identity.key, { mode: 0o600 });
  }
} finally {
  await deployment.destroy();
}
