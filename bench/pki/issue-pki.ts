/**
 * The benchmark's PKIs, one per key algorithm, issued afresh by every run (a new CA each time) with
 * the project's own code path: the PKI half of the Pulumi program (MtlsPki, configured as the stack
 * config would) under the emulation of the engine and of the tls provider, in a process of its own.
 * Writes the server identity and two client identities (the second is the floods' hoarder).
 *
 *   node bench/pki/issue-pki.ts <keyAlgorithm> <out-dir>
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPinned } from "../system/processes.ts";

export const KEY_ALGORITHMS = ["ECDSA-P256", "RSA-2048"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];
export type PkiFiles = ReturnType<typeof pkiFiles>;

const pkiFiles = (dir: string, keyAlgorithm: KeyAlgorithm) => ({
  keyAlgorithm,
  serverCert: join(dir, "server.crt"),
  serverKey: join(dir, "server.key"),
  /** Server chain and key in one file (HAProxy's `crt`). */
  serverPem: join(dir, "server.pem"),
  ca: join(dir, "ca.crt"),
  clientCert: join(dir, "client.crt"),
  clientKey: join(dir, "client.key"),
  /** Client chain and key in one file (ab -E). */
  clientPem: join(dir, "client.pem"),
});

/** Issues a fresh PKI into bench/.work/pki/<algorithm>/, in a process pinned to `core`. */
export async function issuePki(workDir: string, keyAlgorithm: KeyAlgorithm, core: number): Promise<PkiFiles> {
  const dir = join(workDir, "pki", keyAlgorithm);
  const what = `issuing the ${keyAlgorithm} PKI (bench/pki/issue-pki.ts)`;
  await runPinned(core, process.execPath, [new URL(import.meta.url).pathname, keyAlgorithm, dir], what);
  return pkiFiles(dir, keyAlgorithm);
}

async function issue(keyAlgorithm: string, outDir: string) {
  // Imported here, so that importing this module for issuePki does not load the program.
  const { loadConfig, pkiArgs } = await import("../../components/config.ts");
  const { MtlsPki } = await import("../../components/index.ts");
  const { EmulatedEngine, runProgram, TlsProvider } = await import("../../emulation/index.ts");
  const engine = new EmulatedEngine([new TlsProvider()]);
  const clients = ["bench-client", "bench-client-b"] as const;
  const run = await runProgram({
    engine,
    project: "mtls-pki",
    stack: "bench",
    config: { keyAlgorithm, clients, serverName: "mtls-server" },
    program: async () => {
      const config = loadConfig();
      const pki = new MtlsPki("pki", pkiArgs(config));
      const files = ({ chainPem, privateKeyPem, caBundlePem }: ReturnType<typeof pki.issueClient>) => ({
        chainPem,
        privateKeyPem,
        caBundlePem,
      });
      const server = files(pki.issueServer(config.server.name));
      return {
        server,
        client: files(pki.issueClient(clients[0])),
        "client-b": files(pki.issueClient(clients[1])),
      };
    },
  });
  try {
    mkdirSync(outDir, { recursive: true });
    for (const role of ["server", "client", "client-b"]) {
      const identity = run.exports[role] as Record<"chainPem" | "privateKeyPem" | "caBundlePem", string>;
      writeFileSync(join(outDir, `${role}.crt`), identity.chainPem);
      writeFileSync(join(outDir, `${role}.key`), identity.privateKeyPem, { mode: 0o600 });
      writeFileSync(join(outDir, "ca.crt"), identity.caBundlePem);
      // ab -E and HAProxy want the chain and the key in one file.
      writeFileSync(join(outDir, `${role}.pem`), identity.chainPem + identity.privateKeyPem, { mode: 0o600 });
    }
  } finally {
    await engine.destroyAll();
  }
}

if (import.meta.main) {
  const [keyAlgorithm, outDir] = process.argv.slice(2);
  if (!keyAlgorithm || !outDir) {
    process.stderr.write("usage: node bench/pki/issue-pki.ts <keyAlgorithm> <out-dir>\n");
    process.exit(2);
  }
  await issue(keyAlgorithm, outDir);
}
