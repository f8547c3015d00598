/**
 * Identity directories on disk for the services under test: tls.crt, tls.key and ca.crt written
 * into a fresh temporary directory (removed by the caller's cleanup), with the file names of the
 * contract so the same layout as in the containers is exercised.
 */
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IDENTITY_FILES } from "../../../services/src/contract.ts";

export interface IdentityFiles {
  dir: string;
  cert: string;
  key: string;
  ca: string;
}

export interface IdentityContents {
  cert?: string;
  key?: string;
  ca?: string;
}

export async function makeTempDir(prefix = "mtls-test-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function identityPaths(dir: string): IdentityFiles {
  return {
    dir,
    cert: join(dir, IDENTITY_FILES.cert),
    key: join(dir, IDENTITY_FILES.key),
    ca: join(dir, IDENTITY_FILES.ca),
  };
}

/** Writes the given files (absent ones are left alone) into `dir`, or a new temp dir. */
export async function writeIdentity(contents: IdentityContents, dir?: string): Promise<IdentityFiles> {
  const paths = identityPaths(dir ?? (await makeTempDir()));
  if (contents.cert !== undefined) await replaceFile(paths.cert, contents.cert);
  if (contents.key !== undefined) await replaceFile(paths.key, contents.key, 0o600);
  if (contents.ca !== undefined) await replaceFile(paths.ca, contents.ca);
  return paths;
}

/** Write-then-rename, as delivery tools do, so a watcher never sees a half-written file. */
export async function replaceFile(path: string, contents: string, mode = 0o644): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(temp, contents, { mode });
  await rename(temp, path);
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
