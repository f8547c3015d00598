/**
 * ServiceImage's child contract in preview (no Docker engine needed, so never skipped): the image
 * built from services/ with paths relative to the program's directory, kept local, for the host's
 * platform; and the opt-in delivery image, whose build context holds nothing but its Dockerfile.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ServiceImage } from "../../components/index.ts";
import { DELIVERY_IMAGE_DIR, hostPlatform } from "../../components/service-image.ts";
import { refusal, runComponents, TYPES } from "./harness.ts";

async function preview(program: () => void) {
  return runComponents(
    () => {
      program();
      return {};
    },
    { preview: true },
  );
}

describe("ServiceImage", () => {
  it("builds services/ locally as one docker.Image child named after the component, for this machine's platform", async () => {
    const run = await preview(() => new ServiceImage("svc", { baseImage: "mtls-node-base:24" }));
    const component = run.child(TYPES.serviceImage, "svc");
    const children = run.run.registrations.filter((r) => r.parent === component.urn);
    expect(children.map((r) => `${r.type} ${r.name}`)).toEqual([`${TYPES.image} svc-image`]);
    expect(children[0]!.inputs).toEqual({
      imageName: "mtls-service:local",
      skipPush: true,
      buildOnPreview: false,
      build: {
        context: "services",
        dockerfile: "services/Dockerfile",
        args: { BASE_IMAGE: "mtls-node-base:24" },
        platform: hostPlatform(),
      },
    });
  });

  it("names the platform Docker uses for x64 and arm64 machines, and leaves others to the provider", () => {
    expect(hostPlatform("x64")).toBe("linux/amd64");
    expect(hostPlatform("arm64")).toBe("linux/arm64");
    expect(hostPlatform("s390x")).toBeUndefined();
  });

  it("declares no delivery image unless asked", async () => {
    const run = await preview(() => new ServiceImage("svc"));
    expect(run.run.registrations.filter((r) => r.type === TYPES.image).map((r) => r.name)).toEqual([
      "svc-image",
    ]);
  });

  it("builds the delivery image from a context holding only a Dockerfile FROM the base image", async () => {
    const run = await preview(
      () => new ServiceImage("svc", { deliveryImage: true, platform: "linux/arm64" }),
    );
    const delivery = run.child(TYPES.image, "svc-delivery-image");
    expect(delivery.parent).toBe(run.child(TYPES.serviceImage, "svc").urn);
    expect(delivery.inputs).toEqual({
      imageName: "mtls-delivery:local",
      skipPush: true,
      buildOnPreview: false,
      build: {
        context: "components/delivery-image",
        dockerfile: "components/delivery-image/Dockerfile",
        args: { BASE_IMAGE: "node:24-slim" },
        platform: "linux/arm64",
      },
    });
    // Nothing of the services is in its context, so their changes cannot change it.
    expect(readdirSync(DELIVERY_IMAGE_DIR)).toEqual(["Dockerfile"]);
    const instructions = readFileSync(`${DELIVERY_IMAGE_DIR}/Dockerfile`, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Dockerfile variable, not a template
    expect(instructions).toEqual(["ARG BASE_IMAGE=node:24-slim", "FROM ${BASE_IMAGE}"]);
  });

  it.each([
    [{ baseImage: " " }, 'baseImage: " " is empty'],
    [{ platform: "amd64" }, 'platform: "amd64" is not a platform like "linux/amd64"'],
  ])("refuses %j with one line naming the component, before declaring anything", async (args, line) => {
    const { message, registrations } = await refusal(() => new ServiceImage("svc", args), { preview: true });
    expect(message).toContain(`mtls:docker:ServiceImage "svc": ${line}`);
    expect(registrations).toEqual([]);
  });
});
