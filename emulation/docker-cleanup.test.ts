/**
 * `cleanupRun` finds a run's Docker objects by their run label and removes all of them, even when
 * the run never deleted anything (as after a crash), and leaves other runs' objects alone. An
 * object that will not go does not keep the run's others: they are removed, and the failure is
 * reported at the end.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../test/support/docker-available.ts";
import {
  CONTAINER_TYPE,
  cleanupRun,
  createDockerProvider,
  IMAGE_TYPE,
  NETWORK_TYPE,
  VOLUME_TYPE,
} from "./docker/provider.ts";
import { dockerApi } from "./index.ts";

const skip = await dockerSkipReason();

describe.skipIf(skip)("docker emulation: cleanup of a run", () => {
  const crashed = createDockerProvider();
  const bystander = createDockerProvider();

  beforeAll(async () => {
    const image = await ensureBaseImage();
    const network = await crashed.create({ type: NETWORK_TYPE, name: "net", inputs: {}, preview: false });
    const volume = await crashed.create({ type: VOLUME_TYPE, name: "vol", inputs: {}, preview: false });
    await crashed.create({
      type: IMAGE_TYPE,
      name: "image",
      inputs: {
        imageName: `mtls-cleanup-test:${crashed.runId}`,
        skipPush: true,
        build: { context: "services", dockerfile: "services/Dockerfile", args: { BASE_IMAGE: image } },
      },
      preview: false,
    });
    await crashed.create({
      type: CONTAINER_TYPE,
      name: "running",
      inputs: {
        image,
        command: ["node", "-e", "setInterval(() => {}, 1000)"],
        mounts: [{ type: "volume", source: volume.state.name, target: "/data" }],
        networksAdvanced: [{ name: network.state.name }],
      },
      preview: false,
    });
    await bystander.create({ type: VOLUME_TYPE, name: "other", inputs: {}, preview: false });
  });

  afterAll(async () => {
    await cleanupRun(crashed.runId);
    await cleanupRun(bystander.runId);
  });

  test("every object of the run is found by its label and removed; other runs' objects are left alone", async () => {
    const count = (r: Awaited<ReturnType<typeof cleanupRun>>) =>
      [r.containers, r.networks, r.volumes, r.images].map((ids) => ids.length);
    expect(count(await cleanupRun(crashed.runId))).toEqual([1, 1, 1, 1]);
    expect(count(await cleanupRun(crashed.runId))).toEqual([0, 0, 0, 0]);
    expect(count(await cleanupRun(bystander.runId))).toEqual([0, 0, 1, 0]);
  });

  test("removes the rest of a run when one object will not go, then reports that one", async () => {
    const holder = createDockerProvider();
    const stuck = createDockerProvider();
    const image = await ensureBaseImage();
    try {
      // The stuck run's volume is held by another run's container, so Docker refuses to remove it.
      const volume = await stuck.create({ type: VOLUME_TYPE, name: "held", inputs: {}, preview: false });
      // Images are removed after volumes: the run's image must go all the same.
      const built = await stuck.create({
        type: IMAGE_TYPE,
        name: "image",
        inputs: {
          imageName: `mtls-cleanup-stuck:${stuck.runId}`,
          skipPush: true,
          build: { context: "components/delivery-image", args: { BASE_IMAGE: image } },
        },
        preview: false,
      });
      await holder.create({
        type: CONTAINER_TYPE,
        name: "holder",
        inputs: {
          image,
          command: ["node", "-e", "setInterval(() => {}, 1000)"],
          mounts: [{ type: "volume", source: volume.state.name, target: "/data" }],
        },
        preview: false,
      });
      await expect(cleanupRun(stuck.runId)).rejects.toThrow(
        new RegExp(`cleanup of ${stuck.runId}: .*volume`),
      );
      await expect(dockerApi("GET", `/images/${built.state.repoDigest}/json`)).rejects.toThrow(/404/);
      // Once the holder is gone, the volume goes too.
      expect((await cleanupRun(holder.runId)).containers).toHaveLength(1);
      const rest = await cleanupRun(stuck.runId);
      expect([rest.volumes, rest.images].map((ids) => ids.length)).toEqual([1, 0]);
    } finally {
      await cleanupRun(holder.runId).catch(() => undefined);
      await cleanupRun(stuck.runId).catch(() => undefined);
    }
  });
});
