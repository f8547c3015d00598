/**
 * Test helper: runs a one-off container (`docker run --rm`) that looks at what the emulation built
 * (files in a volume, names on a network) and returns its output. Labelled with the run id, so a
 * crashed test leaves nothing that `cleanupRun` would miss.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { RUN_LABEL } from "../../emulation/index.ts";

const run = promisify(execFile);

export interface ProbeOptions {
  runId: string;
  image: string;
  /** A Node script run with `node -e`. */
  script: string;
  /** Volumes mounted read-only: { volumeName: mountPath }. */
  volumes?: Record<string, string>;
  network?: string;
  user?: string;
}

export async function probe(options: ProbeOptions): Promise<string> {
  const args = ["run", "--rm", "--label", `${RUN_LABEL}=${options.runId}`];
  for (const [volume, target] of Object.entries(options.volumes ?? {}))
    args.push("-v", `${volume}:${target}:ro`);
  if (options.network) args.push("--network", options.network);
  if (options.user) args.push("--user", options.user);
  // --entrypoint: the services image's own entrypoint would take `-e` as a role.
  args.push("--entrypoint", "node", options.image, "-e", options.script);
  try {
    const { stdout } = await run("docker", args);
    return stdout.trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new Error(`probe container failed: ${stderr || (error as Error).message}`);
  }
}
