/**
 * The services' image, built from services/ by `docker.Image` and kept local (`skipPush`).
 *
 * Containers must run it by `repoDigest` (the local image id `sha256:...`), not by `imageName`: the
 * tag stays the same when the image is rebuilt, the id does not, so only the id makes a rebuilt
 * image roll out to the containers.
 *
 * Paths: docker.Image resolves `build.context` and an explicit `build.dockerfile` against the
 * program's working directory, *not* the Dockerfile against the context (a Dockerfile given as
 * "Dockerfile" would be looked up next to Pulumi.yaml). Both are therefore passed as paths relative
 * to the working directory, derived from where this file lives, so the state holds no
 * machine-specific absolute paths.
 *
 * Platform: set from the architecture of the machine running `pulumi` (linux/amd64 or
 * linux/arm64), which is what the provider would pick, minus its warning on every run.
 *
 * Delivery image (opt-in, `deliveryImage: true`): a second image, `<name>-delivery-image`, built
 * from a context holding only a Dockerfile `FROM ${BASE_IMAGE}`. It changes only with the base
 * image, so delivery containers that run it are not replaced when the services' code changes.
 * Switching an existing `MtlsService` to it replaces that service's delivery container once (the
 * same identity files are written again; the service container stays).
 *
 * Children: `<name>-image` (docker.Image) and, with `deliveryImage`, `<name>-delivery-image`.
 * Args are checked in the constructor; a bad one throws one line naming
 * `mtls:docker:ServiceImage "<name>"`, the arg and the value.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ArgChecks } from "./arg-checks.ts";
import { servicesDir } from "./services-dir.ts";

export const SERVICE_IMAGE_TYPE = "mtls:docker:ServiceImage";

/** services/ of this package (next to components/, or two levels above dist/components/). */
export const SERVICES_DIR = servicesDir(import.meta.url);
/** A build context holding only the delivery image's Dockerfile (copied beside the built module). */
export const DELIVERY_IMAGE_DIR = fileURLToPath(new URL("./delivery-image", import.meta.url));

export const DEFAULT_BASE_IMAGE = "node:24-slim";
export const DEFAULT_IMAGE_NAME = "mtls-service:local";
export const DEFAULT_DELIVERY_IMAGE_NAME = "mtls-delivery:local";

/** Docker's name for the platform of this machine, for the architectures Docker images ship for. */
export function hostPlatform(arch: string = process.arch): string | undefined {
  if (arch === "x64") return "linux/amd64";
  if (arch === "arm64") return "linux/arm64";
  return undefined;
}

export interface ServiceImageArgs {
  /**
   * Local name (tag) of the image; not empty. Default `mtls-service:local`. Changing it re-tags
   * (an in-place update): the image id, and so every container, stays.
   */
  imageName?: pulumi.Input<string>;
  /**
   * Base image: any image with Node 24 or later and a default command; no shell needed (the
   * Dockerfile has no RUN step). Default `node:24-slim`; machines without a registry use
   * `mtls-node-base:24` built by scripts/build-base-image.sh. Changing it rebuilds the image and
   * replaces every container that runs it.
   */
  baseImage?: pulumi.Input<string>;
  /**
   * Build context holding the Dockerfile and src/. Default: this package's services/ directory.
   * Changing it (or any file in it) rebuilds the image; a new image id replaces the containers
   * that run it.
   */
  context?: pulumi.Input<string>;
  /**
   * Platform to build for, e.g. "linux/arm64". Default: this machine's (linux/amd64 or
   * linux/arm64); on other architectures the provider's own default. Changing it rebuilds the
   * image and replaces the containers that run it.
   */
  platform?: pulumi.Input<string>;
  /**
   * Also build the delivery image (see above) and expose it as `deliveryRepoDigest`, for
   * `MtlsServiceArgs.deliveryImage`. A plain boolean: it decides whether the child exists.
   * Default false. Turning it on adds the image and replaces nothing by itself.
   */
  deliveryImage?: boolean;
  /**
   * Local name (tag) of the delivery image; not empty. Default `mtls-delivery:local`. Changing it
   * re-tags (an in-place update).
   */
  deliveryImageName?: pulumi.Input<string>;
}

/** A directory as docker.Image wants it: relative to the working directory of the program. */
export function programRelative(dir: string): string {
  return path.relative(process.cwd(), path.resolve(dir)) || ".";
}

/**
 * Checks the args (before super(): a refused image registers nothing, not even itself) and returns
 * them with their defaults.
 */
export function checkServiceImageArgs(name: string, args: ServiceImageArgs) {
  const checks = new ArgChecks(SERVICE_IMAGE_TYPE, name);
  const nonEmpty = (value: string) =>
    typeof value === "string" && value.trim() !== "" ? undefined : `${JSON.stringify(value)} is empty`;
  const imageName = checks.check("imageName", args.imageName ?? DEFAULT_IMAGE_NAME, nonEmpty);
  const baseImage = checks.check("baseImage", args.baseImage ?? DEFAULT_BASE_IMAGE, nonEmpty);
  const deliveryImageName = checks.check(
    "deliveryImageName",
    args.deliveryImageName ?? DEFAULT_DELIVERY_IMAGE_NAME,
    nonEmpty,
  );
  const platformArg = args.platform ?? hostPlatform();
  const platform =
    platformArg === undefined
      ? undefined
      : checks.check("platform", platformArg, (value) =>
          /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(value)
            ? undefined
            : `${JSON.stringify(value)} is not a platform like "linux/amd64"`,
        );
  checks.done();
  return { imageName, baseImage, deliveryImageName, platform };
}

export class ServiceImage extends pulumi.ComponentResource {
  readonly image: docker.Image;
  /** The local image id (`sha256:...`): what containers should run. */
  readonly repoDigest: pulumi.Output<string>;
  readonly imageName: pulumi.Output<string>;
  /** The delivery image, when `deliveryImage` is set. */
  readonly deliveryImage: docker.Image | undefined;
  /** The delivery image's local id, when `deliveryImage` is set: for `MtlsServiceArgs.deliveryImage`. */
  readonly deliveryRepoDigest: pulumi.Output<string> | undefined;

  constructor(name: string, args: ServiceImageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const { imageName, baseImage, deliveryImageName, platform } = checkServiceImageArgs(name, args);
    super(SERVICE_IMAGE_TYPE, name, {}, opts);

    const context = pulumi.output(args.context ?? SERVICES_DIR).apply(programRelative);
    this.image = new docker.Image(
      `${name}-image`,
      {
        imageName,
        skipPush: true,
        build: {
          context,
          dockerfile: context.apply((dir) => path.join(dir, "Dockerfile")),
          args: { BASE_IMAGE: baseImage },
          ...(platform === undefined ? {} : { platform }),
        },
      },
      { parent: this },
    );
    this.repoDigest = this.image.repoDigest;
    this.imageName = this.image.imageName;

    if (args.deliveryImage) {
      const deliveryContext = programRelative(DELIVERY_IMAGE_DIR);
      this.deliveryImage = new docker.Image(
        `${name}-delivery-image`,
        {
          imageName: deliveryImageName,
          skipPush: true,
          build: {
            context: deliveryContext,
            dockerfile: path.join(deliveryContext, "Dockerfile"),
            args: { BASE_IMAGE: baseImage },
            ...(platform === undefined ? {} : { platform }),
          },
        },
        { parent: this },
      );
      this.deliveryRepoDigest = this.deliveryImage.repoDigest;
    }

    this.registerOutputs({
      repoDigest: this.repoDigest,
      imageName: this.imageName,
      ...(this.deliveryRepoDigest ? { deliveryRepoDigest: this.deliveryRepoDigest } : {}),
    });
  }
}
