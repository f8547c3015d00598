/**
 * docker.Image (pulumi-docker's native resource, provider/image.go), emulated by building for real
 * on the engine with BuildKit, the provider's default builder.
 *
 * - Check: `build.context` defaults to ".", `build.dockerfile` to `<context>/Dockerfile`,
 *   `build.platform` to the host's `linux/<arch>`; an explicit
 *   `dockerfile` is relative to the *program's working directory*, not to the context (the provider
 *   stats it and fails with its own hint otherwise); a hidden `build.contextDigest` hashes the context.
 * - Diff: old checked inputs (kept in the state under `__inputs`, as the provider does) against the
 *   new ones: any change is an in-place update, i.e. a rebuild, never a replacement.
 * - Create/Update: build, tag `imageName`; id = imageName; with `skipPush` the `repoDigest` output is
 *   the local image id `sha256:...`. Under preview nothing is built (buildOnPreview defaults to
 *   false) and `repoDigest` stays unknown.
 * - Delete: nothing (the provider leaves images alone); `cleanupRun` removes the test's images.
 *
 * Refused: pushing (`skipPush` must be true), `buildOnPreview`, `registry`, a `build.platform` other
 * than the host's own (no cross-platform builds), and build options other than context, dockerfile,
 * args and platform.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { CreateResult, DiffRequest, DiffResult, Inputs } from "../engine/provider.ts";
import { containsUnknown } from "../engine/values.ts";
import { contextTar, hashBuildContext } from "./build-context.ts";
import { canonical } from "./diff.ts";
import { dockerApi } from "./engine-api.ts";
import { RUN_LABEL } from "./naming.ts";

export const IMAGE_TYPE = "docker:index/image:Image";

/** The provider's default platform: `linux/<GOARCH of the machine running pulumi>`. */
const HOST_PLATFORM = `linux/${{ x64: "amd64", arm64: "arm64" }[process.arch as "x64" | "arm64"] ?? process.arch}`;

interface CheckedBuild {
  context: string;
  dockerfile: string;
  contextDigest: string;
  args?: Record<string, unknown>;
  platform?: string;
}

function notEmulated(what: string[]): void {
  if (what.length > 0)
    throw new Error(`docker emulation: ${IMAGE_TYPE} input(s) not emulated: ${what.join(", ")}`);
}

/** The provider's Check, for a local image. */
export function checkImage(inputs: Inputs): Inputs {
  notEmulated(
    Object.keys(inputs).filter(
      (k) => !["imageName", "build", "skipPush", "buildOnPreview"].includes(k) && inputs[k] != null,
    ),
  );
  if (inputs.buildOnPreview === true) notEmulated(["buildOnPreview"]);
  const build = (inputs.build ?? {}) as Record<string, unknown>;
  notEmulated(
    Object.keys(build)
      .filter((k) => !["context", "dockerfile", "args", "platform"].includes(k) && build[k] != null)
      .map((k) => `build.${k}`),
  );
  if (typeof inputs.imageName !== "string" && !containsUnknown(inputs.imageName)) {
    throw new Error(`${IMAGE_TYPE}: missing required property 'imageName'`);
  }
  if (inputs.skipPush !== true)
    throw new Error("docker emulation: pushing images is not emulated (no registry); set skipPush: true");
  // SDK default, sent with every registration.
  const base = { ...inputs, buildOnPreview: false };
  // Preview with paths not known yet: the provider skips the Dockerfile check and the digest.
  if (containsUnknown(build.context) || containsUnknown(build.dockerfile)) return base;
  const context = typeof build.context === "string" ? build.context : ".";
  const dockerfile =
    typeof build.dockerfile === "string" ? build.dockerfile : path.join(context, "Dockerfile");
  if (!existsSync(dockerfile) || !statSync(dockerfile).isFile()) {
    const relativeToContext = path.join(context, dockerfile);
    const hint = existsSync(relativeToContext)
      ? `. Try setting \`dockerfile\` to "${relativeToContext}"`
      : `: stat ${dockerfile}: no such file`;
    throw new Error(`could not open dockerfile at relative path "${dockerfile}"${hint}`);
  }
  const checked: CheckedBuild = {
    // Unset, the provider's Check fills in the host's platform (and says so in an info line), so
    // spelling that platform out later is no change.
    platform: HOST_PLATFORM,
    ...(build as Partial<CheckedBuild>),
    context,
    dockerfile,
    contextDigest: hashBuildContext(context, dockerfile),
  };
  return { ...base, build: checked };
}

export function diffImage(req: DiffRequest): DiffResult {
  const olds = (req.oldState.__inputs ?? checkImage(req.oldInputs)) as Inputs;
  const news = checkImage(req.newInputs);
  const changed = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter(
    (k) => canonical(olds[k]) !== canonical(news[k]),
  );
  return changed.length === 0 ? { kind: "none" } : { kind: "update", changed };
}

/** One line of the build endpoint's JSON stream. */
interface BuildMessage {
  id?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Builds with BuildKit, as the provider does by default (`builderVersion` "BuilderBuildKit"):
 * POST /build?version=2 with the context as a tar. BuildKit keeps its cache to itself, so a build
 * leaves no untagged intermediate or stage images on the engine (the legacy builder leaves one per
 * stage and a parent chain behind every image), and the run's labelled image is all there is to
 * remove. The engine's own BuildKit needs no buildx.
 */
async function build(checked: Inputs, runId: string): Promise<string> {
  const b = checked.build as CheckedBuild;
  const imageName = checked.imageName as string;
  // The engine builds for the host; the host's platform, spelled out, changes nothing.
  if (b.platform !== undefined && b.platform !== HOST_PLATFORM)
    notEmulated([
      `build.platform ${JSON.stringify(b.platform)} (builds only for the host's ${HOST_PLATFORM})`,
    ]);
  // The provider drops build args whose value is not known.
  const buildArgs = Object.fromEntries(
    Object.entries(b.args ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
  const { archive, dockerfile } = contextTar(b.context, b.dockerfile);
  const failed = (reason: string) => new Error(`${IMAGE_TYPE} "${imageName}": build failed: ${reason}`);
  let stream: string;
  try {
    const response = await dockerApi("POST", "/build", {
      query: {
        version: "2",
        t: imageName,
        dockerfile,
        buildargs: JSON.stringify(buildArgs),
        labels: JSON.stringify({ [RUN_LABEL]: runId }),
      },
      raw: archive,
      contentType: "application/x-tar",
      // A first BuildKit build on an engine sets up its cache: allow for it.
      timeoutMs: 600_000,
    });
    stream = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
  } catch (error) {
    throw failed((error as Error).message);
  }
  const messages = stream
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as BuildMessage);
  const error = messages.find((m) => m.error !== undefined || m.errorDetail !== undefined);
  if (error) throw failed(error.errorDetail?.message ?? error.error ?? "unknown error");
  const id = messages.find((m) => m.id === "moby.image.id")?.aux?.ID;
  if (!id) throw failed("the engine reported no image id");
  return id;
}

export async function applyImage(inputs: Inputs, preview: boolean, runId: string): Promise<CreateResult> {
  const checked = checkImage(inputs);
  // The outputs the components read; the checked inputs are kept for the next diff.
  const state: Inputs = { imageName: checked.imageName, __inputs: checked };
  if (preview) return { id: typeof checked.imageName === "string" ? checked.imageName : "", state };
  return { id: checked.imageName as string, state: { ...state, repoDigest: await build(checked, runId) } };
}
