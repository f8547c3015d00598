/**
 * What is deployed, from the docker CLI (so DOCKER_HOST and docker contexts apply as for any docker
 * command): container state and health, whether the delivery container and the volume exist, and
 * what the volume's identity files hold. The files are read in a throwaway container of the service
 * image that mounts the volume read-only, runs as the service user with no network, and prints only
 * facts: the same read and validation a service start runs (load.ts, validate.ts), the leaf's serial
 * and fingerprint, and SHA-256 digests of the certificate files. The key never leaves it.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { IDENTITY_DIR, SERVICE_GID, SERVICE_UID } from "../../services/src/contract.ts";

const run = promisify(execFile);

/** The engine does not answer (exit 3). */
export class EngineDown extends Error {
  override name = "EngineDown";
}

export interface ContainerFacts {
  exists: boolean;
  /** created, running, exited, ... */
  status?: string;
  /** healthy, unhealthy, starting, or undefined without a health check. */
  health?: string;
  exitCode?: number;
  image?: string;
}

export interface FileFacts {
  /** Would a service start load these files? */
  valid: boolean;
  reason?: string;
  message?: string;
  serialNumber?: string;
  fingerprint256?: string;
  certSha256?: string;
  caSha256?: string;
}

export async function docker(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run("docker", args, { maxBuffer: 64 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; code?: number | string; message: string };
    if (failure.code === "ENOENT") throw new EngineDown("the docker CLI is not on PATH");
    return {
      stdout: String(failure.stdout ?? ""),
      stderr: String(failure.stderr ?? failure.message),
      code: typeof failure.code === "number" ? failure.code : 1,
    };
  }
}

export async function checkEngine(): Promise<void> {
  const { stderr, code } = await docker(["version", "--format", "{{.Server.Version}}"]);
  if (code !== 0) {
    const where = process.env.DOCKER_HOST
      ? `DOCKER_HOST=${process.env.DOCKER_HOST}`
      : "the default Docker socket";
    const reason = stderr.trim().split("\n").filter(Boolean).at(-1) ?? "no answer";
    throw new EngineDown(`the Docker engine at ${where} does not answer: ${reason}`);
  }
}

export async function inspectContainer(name: string): Promise<ContainerFacts> {
  const format =
    "{{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}}|{{.Image}}";
  const { stdout, code } = await docker(["container", "inspect", "--format", format, name]);
  if (code !== 0) return { exists: false };
  const [status, health, exitCode, image] = stdout.trim().split("|");
  return { exists: true, status, health: health || undefined, exitCode: Number(exitCode), image };
}

export async function volumeExists(name: string): Promise<boolean> {
  return (await docker(["volume", "inspect", name])).code === 0;
}

/** Runs in the throwaway container; prints one JSON line of facts (never file contents). */
function checkScript(purpose: string): string {
  return `
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
// The image ships the services type-stripped to .js; older images ran the .ts sources.
const ext = existsSync("/app/src/identity/load.js") ? "js" : "ts";
const { identityFileRefs, readIdentityFiles } = await import("/app/src/identity/load." + ext);
const { validateIdentity } = await import("/app/src/identity/validate." + ext);
const dir = ${JSON.stringify(IDENTITY_DIR)};
const paths = { certFile: dir + "/tls.crt", keyFile: dir + "/tls.key", caFile: dir + "/ca.crt" };
const out = {};
const digest = (file) => { try { return createHash("sha256").update(readFileSync(file)).digest("hex"); } catch { return undefined; } };
out.certSha256 = digest(paths.certFile);
out.caSha256 = digest(paths.caFile);
try {
  const refs = identityFileRefs(paths);
  const identity = validateIdentity(await readIdentityFiles(refs), refs, ${JSON.stringify(purpose)}, "modern");
  Object.assign(out, { valid: true, serialNumber: identity.summary.serialNumber, fingerprint256: identity.summary.fingerprint256 });
} catch (error) {
  Object.assign(out, { valid: false, reason: error.kind ?? "other", message: error.message });
}
process.stdout.write(JSON.stringify(out) + "\\n");
`;
}

export async function checkVolumeFiles(volume: string, image: string, purpose: string): Promise<FileFacts> {
  const { stdout, stderr, code } = await docker([
    "run",
    "--rm",
    "--network=none",
    "--read-only",
    "--cap-drop=ALL",
    "--security-opt=no-new-privileges:true",
    `--user=${SERVICE_UID}:${SERVICE_GID}`,
    "--label=mtls-pki.verify=files",
    `--mount=type=volume,source=${volume},target=${IDENTITY_DIR},readonly`,
    "--entrypoint=node",
    image,
    "--input-type=module",
    "-e",
    checkScript(purpose),
  ]);
  const line = stdout.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !line.startsWith("{")) {
    return {
      valid: false,
      reason: "check_failed",
      message: `could not read the files in a throwaway container of ${image}: ${stderr.trim().split("\n").at(-1) ?? `exit ${code}`}`,
    };
  }
  return JSON.parse(line) as FileFacts;
}
