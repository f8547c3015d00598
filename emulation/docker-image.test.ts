/**
 * docker.Image as the emulation realises it: a real build, id = imageName, repoDigest = the local
 * image id, a rebuild (update, never replace) on any change in the build context except files the
 * .dockerignore leaves out, the Dockerfile path relative to the working directory, no build under
 * preview, and nothing left on the engine once the run is cleaned up (no stage or intermediate
 * images, no image whose tag a rebuild took over).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../test/support/docker-available.ts";
import { dockerApi } from "./docker/engine-api.ts";
import { cleanupRun, createDockerProvider, IMAGE_TYPE } from "./docker/provider.ts";
import type { CreateResult, Inputs } from "./engine/provider.ts";

const run = promisify(execFile);
const skip = await dockerSkipReason();

describe.skipIf(skip)("docker emulation: images", () => {
  const docker = createDockerProvider();
  const imageName = `mtls-emulation-test:${docker.runId}`;
  let base: string;
  let context: string;
  let inputs: Inputs;
  let built: CreateResult;

  const diffWith = (newInputs: Inputs) =>
    docker.diff({ type: IMAGE_TYPE, name: "image", oldInputs: inputs, newInputs, oldState: built.state });

  beforeAll(async () => {
    base = await ensureBaseImage();
    context = await mkdtemp(path.join(os.tmpdir(), "mtls-image-context-"));
    await writeFile(
      path.join(context, "Dockerfile"),
      "ARG BASE_IMAGE\nFROM $BASE_IMAGE\nCOPY app.txt /app.txt\n",
    );
    await writeFile(path.join(context, "app.txt"), "one\n");
    await writeFile(path.join(context, "notes.md"), "not part of the image\n");
    await writeFile(path.join(context, ".dockerignore"), "notes.md\n");
    inputs = { imageName, skipPush: true, build: { context, args: { BASE_IMAGE: base } } };
    built = await docker.create({ type: IMAGE_TYPE, name: "image", inputs, preview: false });
  });

  afterAll(async () => {
    await cleanupRun(docker.runId);
    if (context) await rm(context, { recursive: true, force: true });
  });

  test("the id is the image name and repoDigest the local image id", async () => {
    const { stdout } = await run("docker", ["image", "inspect", "--format", "{{.Id}}", imageName]);
    expect(built.id).toBe(imageName);
    expect(built.state.repoDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(built.state.repoDigest).toBe(stdout.trim());
  });

  test("the build ran with the build args: the image is based on the given base image", async () => {
    const { stdout } = await run("docker", [
      "run",
      "--rm",
      imageName,
      "node",
      "-p",
      "require('fs').readFileSync('/app.txt','utf8')",
    ]);
    expect(stdout).toBe("one\n\n");
  });

  test("the same context again is no change", () => {
    expect(diffWith(inputs)).toEqual({ kind: "none" });
  });

  test("a changed file in the context is an update (a rebuild), never a replacement", async () => {
    await writeFile(path.join(context, "app.txt"), "two\n");
    try {
      expect(diffWith(inputs)).toEqual({ kind: "update", changed: ["build"] });
    } finally {
      await writeFile(path.join(context, "app.txt"), "one\n");
    }
  });

  test("a change in a file the .dockerignore excludes is no change", async () => {
    await writeFile(path.join(context, "notes.md"), "edited\n");
    expect(diffWith(inputs)).toEqual({ kind: "none" });
  });

  test("a different build arg is an update", () => {
    expect(diffWith({ ...inputs, build: { context, args: { BASE_IMAGE: "node:24-slim" } } })).toEqual({
      kind: "update",
      changed: ["build"],
    });
  });

  test("an explicit dockerfile is relative to the working directory, not to the context", async () => {
    const relativeContext = path.relative(process.cwd(), context);
    await expect(
      docker.create({
        type: IMAGE_TYPE,
        name: "misplaced",
        inputs: { imageName, skipPush: true, build: { context: relativeContext, dockerfile: "Dockerfile" } },
        preview: false,
      }),
    ).rejects.toThrow(`Try setting \`dockerfile\` to "${path.join(relativeContext, "Dockerfile")}"`);
  });

  test("under preview nothing is built and repoDigest stays unknown", async () => {
    const previewName = `mtls-emulation-preview:${docker.runId}`;
    const planned = await docker.create({
      type: IMAGE_TYPE,
      name: "planned",
      inputs: { ...inputs, imageName: previewName },
      preview: true,
    });
    expect(planned.state).not.toHaveProperty("repoDigest");
    await expect(run("docker", ["image", "inspect", previewName])).rejects.toThrow(/No such image/);
  });

  test("a multi-stage build leaves no stage or intermediate image behind, only the image it tags", async () => {
    const stages = await mkdtemp(path.join(os.tmpdir(), "mtls-image-stages-"));
    const marker = `mtls-pki.test-stage=${docker.runId}`;
    try {
      // The first stage's LABEL marks every image the builder might keep of that stage.
      await writeFile(
        path.join(stages, "Dockerfile"),
        `ARG BASE_IMAGE\nFROM $BASE_IMAGE AS first\nLABEL ${marker}\nCOPY app.txt /app.txt\nFROM $BASE_IMAGE\nCOPY --from=first /app.txt /app.txt\n`,
      );
      await writeFile(path.join(stages, "app.txt"), `${docker.runId}\n`);
      const name = `mtls-emulation-stages:${docker.runId}`;
      const staged = await docker.create({
        type: IMAGE_TYPE,
        name: "stages",
        inputs: { imageName: name, skipPush: true, build: { context: stages, args: { BASE_IMAGE: base } } },
        preview: false,
      });
      const left = await dockerApi("GET", "/images/json", {
        query: { all: true, filters: JSON.stringify({ label: [marker] }) },
      });
      expect(left.body).toEqual([]);
      const { stdout } = await run("docker", ["image", "inspect", "--format", "{{.Parent}}", name]);
      // The legacy builder chains every image to an intermediate parent, left behind on removal.
      expect(stdout.trim()).toBe("");
      expect(staged.state.repoDigest).toMatch(/^sha256:/);
    } finally {
      await rm(stages, { recursive: true, force: true });
    }
  });

  test("a rebuild under the same name leaves the old image to the run's cleanup, which removes both", async () => {
    const rebuilds = createDockerProvider();
    const name = `mtls-emulation-rebuild:${rebuilds.runId}`;
    const rebuildInputs = { imageName: name, skipPush: true, build: { context, args: { BASE_IMAGE: base } } };
    await writeFile(path.join(context, "app.txt"), `${rebuilds.runId}\n`);
    try {
      const first = await rebuilds.create({
        type: IMAGE_TYPE,
        name: "rebuild",
        inputs: rebuildInputs,
        preview: false,
      });
      await writeFile(path.join(context, "app.txt"), "rebuilt\n");
      const second = await rebuilds.update({
        type: IMAGE_TYPE,
        name: "rebuild",
        id: name,
        oldInputs: rebuildInputs,
        inputs: rebuildInputs,
        oldState: first.state,
        preview: false,
      });
      expect(second.state.repoDigest).not.toBe(first.state.repoDigest);
      // The tag moved on: the first image is untagged now, but still the run's (its label).
      const old = await dockerApi("GET", `/images/${first.state.repoDigest}/json`);
      expect((old.body as { RepoTags: string[] }).RepoTags).toEqual([]);
      const removed = await cleanupRun(rebuilds.runId);
      expect(removed.images.sort()).toEqual([first.state.repoDigest, second.state.repoDigest].sort());
      for (const id of [first.state.repoDigest, second.state.repoDigest]) {
        await expect(dockerApi("GET", `/images/${id}/json`)).rejects.toThrow(/404/);
      }
    } finally {
      await cleanupRun(rebuilds.runId);
      await writeFile(path.join(context, "app.txt"), "one\n");
    }
  });
});
