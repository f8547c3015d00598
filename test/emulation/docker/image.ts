/**
 * docker.Image (pulumi-docker's native resource, provider/provider.go + provider/image.go), emulated
 * by building for real with the docker CLI.
 *
 * - Check: `build.context` defaults to ".", `build.dockerfile` to `<context>/Dockerfile`; an explicit
 *   `dockerfile` is a path relative to the *program's working directory*, not to the context (the
 *   provider stats it and fails with its own hint otherwise); `platform` defaults to linux/<host
 *   arch>; a hidden `build.contextDigest` hashes the context.
 * - Diff: old checked inputs (kept in the state under `__inputs`, as the provider does) against the
 *   new checked inputs: any change is an in-place update, i.e. a rebuild, never a replacement.
 * - Create/Update: build, tag `imageName`; id = imageName; with `skipPush` the `repoDigest` output is
 *   the local image id `sha256:...`. Under preview nothing is built (buildOnPreview defaults to
 *   false) and the outputs other than the inputs stay unknown.
 * - Delete: nothing (the provider leaves images and tags alone); `cleanupRun` removes test images.
 *
 * Not emulated: pushing (no registry is reachable; `skipPush: false` is an error here) and BuildKit
 * specifics: the CLI's default builder is used (here the legacy builder: no buildx).
 */
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import type {
  CreateRequest,
  CreateResult,
  DeleteRequest,
  DiffRequest,
  DiffResult,
  Inputs,
  UpdateRequest,
} from "../engine/provider.ts";
import { hashBuildContext } from "./build-context.ts";
import { canonical, containsUnknown } from "./diff.ts";
import { RUN_LABEL } from "./naming.ts";

const run = promisify(execFile);

export const IMAGE_TYPE = "docker:index/image:Image";

interface CheckedBuild {
  context: string;
  dockerfile: string;
  contextDigest: string;
  platform: string;
  args?: Record<string, unknown>;
  target?: string;
  network?: string;
  addHosts?: string[];
  builderVersion?: string;
  cacheFrom?: { images?: string[] };
}

const BUILD_KEYS = new Set([
  "context",
  "dockerfile",
  "args",
  "platform",
  "target",
  "network",
  "addHosts",
  "builderVersion",
  "cacheFrom",
]);

function hostPlatform(): string {
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  return `linux/${arch}`;
}

/** The provider's Check, minus the parts that only matter for pushing. */
export function checkImage(inputs: Inputs): Inputs {
  const imageName = inputs.imageName;
  if (typeof imageName !== "string" && !containsUnknown(imageName)) {
    throw new Error("docker:index/image:Image: missing required property 'imageName'");
  }
  const build = (inputs.build ?? {}) as Record<string, unknown>;
  const unemulated = Object.keys(build).filter((key) => !BUILD_KEYS.has(key) && build[key] !== undefined);
  if (unemulated.length > 0) {
    throw new Error(`docker emulation: Image build option(s) not emulated: ${unemulated.join(", ")}`);
  }
  if (inputs.skipPush !== true) {
    throw new Error(
      "docker emulation: pushing images is not emulated (no registry is reachable); set skipPush: true",
    );
  }
  if (containsUnknown(build.context) || containsUnknown(build.dockerfile)) {
    // Preview with paths not known yet: the provider skips the Dockerfile check and the digest.
    return { ...inputs, buildOnPreview: inputs.buildOnPreview ?? false };
  }
  const context = typeof build.context === "string" ? build.context : ".";
  const dockerfile =
    typeof build.dockerfile === "string" ? build.dockerfile : path.join(context, "Dockerfile");
  if (!existsSync(dockerfile) || !statSync(dockerfile).isFile()) {
    if (path.isAbsolute(dockerfile)) {
      throw new Error(
        `expected a relative Dockerfile path; got "${dockerfile}" instead: stat ${dockerfile}: no such file`,
      );
    }
    const relativeToContext = path.join(context, dockerfile);
    if (existsSync(relativeToContext)) {
      throw new Error(
        `could not open dockerfile at relative path "${dockerfile}". Try setting \`dockerfile\` to "${relativeToContext}"`,
      );
    }
    throw new Error(
      `could not open dockerfile at relative path "${dockerfile}": stat ${dockerfile}: no such file`,
    );
  }
  const checked: CheckedBuild = {
    ...(build as Partial<CheckedBuild>),
    context,
    dockerfile,
    platform: typeof build.platform === "string" ? build.platform : hostPlatform(),
    contextDigest: hashBuildContext(context, dockerfile),
  };
  return {
    ...inputs,
    buildOnPreview: inputs.buildOnPreview ?? false,
    skipPush: true,
    build: checked,
  };
}

export function diffImage(req: DiffRequest): DiffResult {
  const olds = (req.oldState.__inputs ?? checkImage(req.oldInputs)) as Inputs;
  const news = checkImage(req.newInputs);
  const changed = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((key) => {
    if (key === "registry") {
      // Credentials rotate; only a different registry server rebuilds.
      const server = (v: unknown) => (v as { server?: unknown } | undefined)?.server;
      return canonical(server(olds[key])) !== canonical(server(news[key]));
    }
    return canonical(olds[key]) !== canonical(news[key]);
  });
  return changed.length === 0 ? { kind: "none" } : { kind: "update", changed };
}

async function build(checked: Inputs, runId: string): Promise<string> {
  const b = checked.build as CheckedBuild;
  const imageName = checked.imageName as string;
  const args = [
    "build",
    "--quiet",
    "--file",
    b.dockerfile,
    "--tag",
    imageName,
    "--label",
    `${RUN_LABEL}=${runId}`,
  ];
  args.push("--platform", b.platform);
  for (const [key, value] of Object.entries(b.args ?? {})) {
    // The provider drops build args whose value is not known.
    if (typeof value === "string") args.push("--build-arg", `${key}=${value}`);
  }
  if (b.target) args.push("--target", b.target);
  if (b.network) args.push("--network", b.network);
  for (const host of b.addHosts ?? []) args.push("--add-host", host);
  args.push(b.context);
  try {
    await run("docker", args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new Error(
      `docker:index/image:Image "${imageName}": build failed: ${stderr || (error as Error).message}`,
    );
  }
  const { stdout } = await run("docker", ["image", "inspect", "--format", "{{.Id}}", imageName]);
  return stdout.trim();
}

function outputs(checked: Inputs, repoDigest: string | undefined): Inputs {
  const b = checked.build as CheckedBuild | undefined;
  if (b?.contextDigest === undefined) return { imageName: checked.imageName, __inputs: checked };
  const state: Inputs = {
    imageName: checked.imageName,
    baseImageName: checked.imageName,
    context: b.context,
    dockerfile: path.relative(b.context, b.dockerfile),
    platform: b.platform,
    __inputs: checked,
  };
  if (repoDigest !== undefined) state.repoDigest = repoDigest;
  return state;
}

async function apply(inputs: Inputs, preview: boolean, runId: string): Promise<CreateResult> {
  const checked = checkImage(inputs);
  const imageName = checked.imageName;
  if (preview && !(checked.buildOnPreview === true && !containsUnknown(checked))) {
    return { id: typeof imageName === "string" ? imageName : "", state: outputs(checked, undefined) };
  }
  const repoDigest = await build(checked, runId);
  return { id: imageName as string, state: outputs(checked, repoDigest) };
}

export function createImage(req: CreateRequest, runId: string): Promise<CreateResult> {
  return apply(req.inputs, req.preview, runId);
}

export function updateImage(req: UpdateRequest, runId: string): Promise<CreateResult> {
  return apply(req.inputs, req.preview, runId);
}

/** The provider leaves built images in place. */
export async function deleteImage(_req: DeleteRequest): Promise<void> {}
