/**
 * The benchmark's PKIs, one per key algorithm, issued by issue-pki.ts (the project's own PKI code
 * under the tls provider emulation) into bench/.work/pki/<algorithm>/.
 */
import { join } from "node:path";
import { runPinned } from "../system/processes.ts";

export const KEY_ALGORITHMS = ["ECDSA-P256", "RSA-2048"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export interface PkiFiles {
  keyAlgorithm: KeyAlgorithm;
  serverCert: string;
  serverKey: string;
  ca: string;
  clientCert: string;
  clientKey: string;
  /** Client chain and key in one file (ab -E). */
  clientPem: string;
}

export function pkiFiles(workDir: string, keyAlgorithm: KeyAlgorithm): PkiFiles {
  const dir = join(workDir, "pki", keyAlgorithm);
  return {
    keyAlgorithm,
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    ca: join(dir, "ca.crt"),
    clientCert: join(dir, "client.crt"),
    clientKey: join(dir, "client.key"),
    clientPem: join(dir, "client.pem"),
  };
}

/** Issues a fresh PKI (a new CA every run: nothing is reused from an earlier run). */
export async function issuePki(workDir: string, keyAlgorithm: KeyAlgorithm, core: number): Promise<PkiFiles> {
  const files = pkiFiles(workDir, keyAlgorithm);
  const script = new URL("./issue-pki.ts", import.meta.url).pathname;
  await runPinned(
    core,
    process.execPath,
    [script, keyAlgorithm, join(workDir, "pki", keyAlgorithm)],
    `issuing the ${keyAlgorithm} PKI (bench/pki/issue-pki.ts)`,
  );
  return files;
}
