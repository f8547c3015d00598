/**
 * ServiceImage for every Pulumi language: the library's image build (service-image.ts in
 * components/), with its args as they are; its outputs are the image ids and names (strings), not
 * the docker.Image resources, so that a consumer's SDK does not need the docker package.
 *
 * Children: the library's `ServiceImage` of the same name (`<name>-image`, and with
 * `deliveryImage` `<name>-delivery-image`).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  checkServiceImageArgs,
  ServiceImage as LibraryServiceImage,
  type ServiceImageArgs,
} from "../components/service-image.ts";
import { plainPart } from "./precheck.ts";

export const SERVICE_IMAGE_PLUGIN_TYPE = "mtls-pki:index:ServiceImage";

/**
 * The services' image, built locally from this package's services/ folder (skipPush): run
 * containers by its `repoDigest`, so that a rebuilt image replaces them. Optionally also a
 * delivery image that changes only with the base image.
 */
export class ServiceImage extends pulumi.ComponentResource {
  /** The local image id (`sha256:...`): what containers run (`MtlsService` `image`). */
  readonly repoDigest: pulumi.Output<string>;
  /** The image's local name (tag). */
  readonly imageName: pulumi.Output<string>;
  /** The delivery image's local id, when `deliveryImage` is set (`MtlsService` `deliveryImage`). */
  readonly deliveryRepoDigest: pulumi.Output<string> | undefined;

  constructor(name: string, args: ServiceImageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    checkServiceImageArgs(name, plainPart(args));
    super(SERVICE_IMAGE_PLUGIN_TYPE, name, {}, opts);
    const image = new LibraryServiceImage(name, args, { parent: this });
    this.repoDigest = image.repoDigest;
    this.imageName = image.imageName;
    this.deliveryRepoDigest = image.deliveryRepoDigest;
    this.registerOutputs({
      repoDigest: this.repoDigest,
      imageName: this.imageName,
      ...(this.deliveryRepoDigest ? { deliveryRepoDigest: this.deliveryRepoDigest } : {}),
    });
  }
}
