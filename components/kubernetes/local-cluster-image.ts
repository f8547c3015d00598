/**
 * An image of the local Docker engine made available to a local Kubernetes cluster without a
 * registry: a command (@pulumi/command's local.Command, run on the machine that runs `pulumi`) tags
 * the image `<repository>:k8s-<first 12 hex of its id>` and runs the cluster's loader with that
 * reference (this repository's scripts/kubernetes/load-image.sh: `docker save` into the node's
 * containerd). Pods then run `imageRef` with `imagePullPolicy: Never`.
 *
 * The tag changes with the image id, so a rebuilt image is a new reference and rolls the pods that
 * run it; the id is the command's trigger, so a new image replaces the command (the new one loads,
 * then the old one's delete removes its tag from the Docker engine; the node's runtime keeps the
 * old image until the kubelet's image garbage collection removes it).
 *
 * For a real cluster, push the image to a registry the nodes pull from instead, and pass its
 * reference to the components with `imagePullPolicy: "IfNotPresent"`.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ArgChecks } from "../arg-checks.ts";

export const LOCAL_CLUSTER_IMAGE_TYPE = "mtls:kubernetes:LocalClusterImage";

export interface LocalClusterImageArgs {
  /** The local image id (`sha256:...`, `ServiceImage.repoDigest`). Required. Changing it loads anew (a new tag). */
  image: pulumi.Input<string>;
  /**
   * The repository part of the reference the cluster knows it by, e.g. "mtls-service". Required; a
   * plain value. Changing it changes `imageRef` (and rolls the pods that run it).
   */
  repository: string;
  /**
   * The loader: an executable that takes a Docker image reference as its only argument and makes
   * the cluster's nodes have it. Required. Changing it loads anew.
   */
  loader: string;
  /** Further environment of the loader (e.g. where the cluster's state is). Default none. Changing it updates the command without loading anew. */
  environment?: Record<string, pulumi.Input<string>>;
}

/** `<repository>:k8s-<12 hex>`: a tag per image id. */
export function localImageRef(repository: string, imageId: string): string {
  const hex = imageId.replace(/^sha256:/, "").slice(0, 12);
  return `${repository}:k8s-${hex}`;
}

const REPOSITORY = /^[a-z0-9]+([._/-][a-z0-9]+)*$/;

export class LocalClusterImage extends pulumi.ComponentResource {
  readonly load: command.local.Command;
  /** The reference pods run (with `imagePullPolicy: Never`), known once the image is loaded. */
  readonly imageRef: pulumi.Output<string>;

  constructor(name: string, args: LocalClusterImageArgs, opts?: pulumi.ComponentResourceOptions) {
    const checks = new ArgChecks(LOCAL_CLUSTER_IMAGE_TYPE, name);
    if (!REPOSITORY.test(args.repository)) {
      checks.add(
        "repository",
        `${JSON.stringify(args.repository)} is not an image repository (lowercase, e.g. "mtls-service")`,
      );
    }
    if (typeof args.loader !== "string" || args.loader.trim() === "")
      checks.add("loader", "is empty; it is required");
    checks.done();
    super(LOCAL_CLUSTER_IMAGE_TYPE, name, {}, opts);

    const ref = pulumi.output(args.image).apply((id) => localImageRef(args.repository, id));
    this.load = new command.local.Command(
      `${name}-load`,
      {
        // Values through the environment, never spliced into the shell text.
        create: 'docker tag "$IMAGE_ID" "$IMAGE_REF" && "$IMAGE_LOADER" "$IMAGE_REF"',
        delete: 'docker rmi "$IMAGE_REF" >/dev/null 2>&1 || true',
        environment: { ...args.environment, IMAGE_ID: args.image, IMAGE_REF: ref, IMAGE_LOADER: args.loader },
        triggers: [args.image, args.loader],
      },
      { parent: this },
    );
    // Through the command's id: whatever runs this reference waits until it is loaded.
    this.imageRef = pulumi.all([this.load.id, ref]).apply(([, reference]) => reference);
    this.registerOutputs({ imageRef: this.imageRef });
  }
}
