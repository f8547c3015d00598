/**
 * ServiceNamespace and LocalClusterImage in preview: the namespace enforces the restricted Pod
 * Security Standard and names its owner; the local image is loaded by a command that gets every
 * value through its environment (none spliced into the shell text), is replaced when the image
 * id changes, and hands the pods a tag per image id. The load itself, on a real cluster, is
 * test/kubernetes's.
 */
import { describe, expect, it } from "vitest";
import { LocalClusterImage, localImageRef, ServiceNamespace } from "../../components/index.ts";
import { refusal, runComponents } from "./harness.ts";

const preview = (program: () => Record<string, unknown> | undefined) =>
  runComponents(program, { preview: true });
const IMAGE_ID = `sha256:${"ab12".repeat(16)}`;

describe("ServiceNamespace", () => {
  it("enforces the restricted Pod Security Standard and carries its owner", async () => {
    const run = await preview(() => {
      new ServiceNamespace("mtls", { namespaceName: "mtls-pki-dev", owner: "mtls-pki.dev" });
      return {};
    });
    expect(run.child("kubernetes:core/v1:Namespace", "mtls").inputs.metadata).toEqual({
      name: "mtls-pki-dev",
      labels: {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "app.kubernetes.io/part-of": "mtls-pki",
        "app.kubernetes.io/managed-by": "pulumi",
        "mtls-pki/owner": "mtls-pki.dev",
      },
    });
  });

  it("refuses an owner that is no label value", async () => {
    const { message } = await refusal(() => new ServiceNamespace("mtls", { owner: "a stack/with spaces" }), {
      preview: true,
    });
    expect(message).toContain(
      'mtls:kubernetes:ServiceNamespace "mtls": owner: "a stack/with spaces" is not a label value (at most 63 letters, digits, ".", "-", "_")',
    );
  });
});

describe("LocalClusterImage", () => {
  it("tags the image per id and loads that tag with the loader, values through the environment", async () => {
    const run = await preview(() => {
      new LocalClusterImage("services", {
        image: IMAGE_ID,
        repository: "mtls-service",
        loader: "scripts/load.sh",
      });
      return {};
    });
    const load = run.child("command:local:Command", "services-load").inputs;
    expect(load.create).toBe('docker tag "$IMAGE_ID" "$IMAGE_REF" && "$IMAGE_LOADER" "$IMAGE_REF"');
    expect(load.delete).toBe('docker rmi "$IMAGE_REF" >/dev/null 2>&1 || true');
    expect(load.environment).toEqual({
      IMAGE_ID,
      IMAGE_REF: "mtls-service:k8s-ab12ab12ab12",
      IMAGE_LOADER: "scripts/load.sh",
    });
    // A new image id is a new command: it loads the new image (the old one's delete untags).
    expect(load.triggers).toEqual([IMAGE_ID, "scripts/load.sh"]);
    expect(localImageRef("mtls-service", IMAGE_ID)).toBe("mtls-service:k8s-ab12ab12ab12");
  });

  it("refuses a repository a container runtime would not take", async () => {
    const { message } = await refusal(
      () => new LocalClusterImage("services", { image: IMAGE_ID, repository: "Mtls Service", loader: "x" }),
      { preview: true },
    );
    expect(message).toContain(
      'mtls:kubernetes:LocalClusterImage "services": repository: "Mtls Service" is not an image repository',
    );
  });
});
