/**
 * `cleanupRun` finds a run's Docker objects by their run label and removes all of them, even when
 * the run never deleted anything (as after a crash), and leaves other runs' objects alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { dockerApi, labelFilter } from "./docker/engine-api.ts";
import {
  CONTAINER_TYPE,
  cleanupRun,
  createDockerProvider,
  IMAGE_TYPE,
  NETWORK_TYPE,
  RUN_LABEL,
  VOLUME_TYPE,
} from "./docker/provider.ts";

const skip = await dockerSkipReason();

async function labelled(runId: string) {
  const filters = labelFilter(RUN_LABEL, runId);
  const containers = (await dockerApi("GET", "/containers/json", { query: { all: true, filters } }))
    .body as unknown[];
  const networks = (await dockerApi("GET", "/networks", { query: { filters } })).body as unknown[];
  const volumes = (
    (await dockerApi("GET", "/volumes", { query: { filters } })).body as { Volumes: unknown[] | null }
  ).Volumes;
  const images = (await dockerApi("GET", "/images/json", { query: { filters } })).body as unknown[];
  return {
    containers: containers.length,
    networks: networks.length,
    volumes: volumes?.length ?? 0,
    images: images.length,
  };
}

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

  test("every object of the run is found by its label, and removed", async () => {
    expect(await labelled(crashed.runId)).toEqual({ containers: 1, networks: 1, volumes: 1, images: 1 });
    const report = await cleanupRun(crashed.runId);
    expect([
      report.containers.length,
      report.networks.length,
      report.volumes.length,
      report.images.length,
    ]).toEqual([1, 1, 1, 1]);
    expect(await labelled(crashed.runId)).toEqual({ containers: 0, networks: 0, volumes: 0, images: 0 });
  });

  test("objects of other runs are left alone", async () => {
    expect((await labelled(bystander.runId)).volumes).toBe(1);
  });
});
