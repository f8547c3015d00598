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
 */
import path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { servicesDir } from "./services-dir.ts";

/** services/ of this package (next to components/, or two levels above dist/components/). */
export const SERVICES_DIR = servicesDir(import.meta.url);

export const DEFAULT_BASE_IMAGE = "node:24-slim";
export const DEFAULT_IMAGE_NAME = "mtls-service:local";

export interface ServiceImageArgs {
  /** Local name (tag) of the image. Default `mtls-service:local`. */
  imageName?: pulumi.Input<string>;
  /**
   * Base image: any image with Node 24 or later and no need for a shell (the Dockerfile has no RUN
   * step). Default `node:24-slim`; machines without a registry use `mtls-node-base:24` built by
   * scripts/build-base-image.sh.
   */
  baseImage?: pulumi.Input<string>;
  /** Build context holding the Dockerfile and src/. Default: this project's services/ directory. */
  context?: pulumi.Input<string>;
}

/** A directory as docker.Image wants it: relative to the working directory of the program. */
export function programRelative(dir: string): string {
  return path.relative(process.cwd(), path.resolve(dir)) || ".";
}

export class ServiceImage extends pulumi.ComponentResource {
  readonly image: docker.Image;
  /** The local image id (`sha256:...`): what containers should run. */
  readonly repoDigest: pulumi.Output<string>;
  readonly imageName: pulumi.Output<string>;

  constructor(name: string, args: ServiceImageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("mtls:docker:ServiceImage", name, {}, opts);

    const context = pulumi.output(args.context ?? SERVICES_DIR).apply(programRelative);
    this.image = new docker.Image(
      `${name}-image`,
      {
        imageName: args.imageName ?? DEFAULT_IMAGE_NAME,
        skipPush: true,
        build: {
          context,
          dockerfile: context.apply((dir) => path.join(dir, "Dockerfile")),
          args: { BASE_IMAGE: args.baseImage ?? DEFAULT_BASE_IMAGE },
        },
      },
      { parent: this },
    );
    this.repoDigest = this.image.repoDigest;
    this.imageName = this.image.imageName;

    this.registerOutputs({ repoDigest: this.repoDigest, imageName: this.imageName });
  }
}
