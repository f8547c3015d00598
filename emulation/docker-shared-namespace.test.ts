/**
 * Shared network namespaces (`networkMode: "container:..."`) on a real engine, through the emulated
 * provider (docs/PROVIDER-FACTS.md, "Shared network namespaces"): the joined container reads back
 * `container:<full id>` whatever it was given, so the owner's id gives no diff on the next up and
 * its name a replacement on every up; the joined container shares the owner's loopback; an
 * `entrypoints` override runs the owner's program in any image.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { dockerSkipReason, ensureBaseImage } from "../test/support/docker-available.ts";
import { eventually } from "../test/support/eventually.ts";
import type { CreateResult, Inputs } from "./engine/provider.ts";
import { CONTAINER_TYPE, cleanupRun, createDockerProvider, dockerApi } from "./index.ts";

const skip = await dockerSkipReason();

// A listener on the owner's loopback, answering "owner" to anyone who connects.
const OWNER_SCRIPT =
  'process.on("SIGTERM", () => process.exit(0)); require("net").createServer((s) => s.end("owner")).listen(7000, "127.0.0.1");';

describe.skipIf(skip)("docker emulation: a container joined to another's network namespace", () => {
  const docker = createDockerProvider();
  let image: string;
  let owner: CreateResult;
  const joined = (networkMode: string): Inputs => ({
    image,
    networkMode,
    // Connects to the owner's loopback listener, prints what it got, then waits.
    command: [
      "node",
      "-e",
      'require("net").connect(7000, "127.0.0.1").on("data", (d) => console.log(String(d))); setInterval(() => {}, 1e6);',
    ],
  });

  beforeAll(async () => {
    image = await ensureBaseImage();
    owner = await docker.create({
      type: CONTAINER_TYPE,
      name: "owner",
      inputs: { image, entrypoints: ["node", "-e", OWNER_SCRIPT] },
      preview: false,
    });
  });

  afterAll(async () => {
    await cleanupRun(docker.runId);
  });

  test("joined by id: reads back container:<id>, shares the owner's loopback, and the same inputs change nothing", async () => {
    const inputs = joined(`container:${owner.id}`);
    const created = await docker.create({ type: CONTAINER_TYPE, name: "by-id", inputs, preview: false });
    expect(created.state.networkMode).toBe(`container:${owner.id}`);
    expect(owner.id).toMatch(/^[0-9a-f]{64}$/);
    expect(
      docker.diff({
        type: CONTAINER_TYPE,
        name: "by-id",
        oldInputs: inputs,
        newInputs: inputs,
        oldState: created.state,
      }),
    ).toEqual({ kind: "none" });
    // The joined container reached a listener bound to the owner's 127.0.0.1.
    const logs = await eventually(
      async () =>
        String((await dockerApi("GET", `/containers/${created.id}/logs`, { query: { stdout: true } })).body),
      (text) => text.includes("owner"),
      30_000,
    );
    expect(logs).toContain("owner");
  });

  test("joined by name: reads back the id, so every later up replaces the joined container", async () => {
    const inputs = joined(`container:${owner.state.name}`);
    const created = await docker.create({ type: CONTAINER_TYPE, name: "by-name", inputs, preview: false });
    expect(created.state.networkMode).toBe(`container:${owner.id}`);
    expect(
      docker.diff({
        type: CONTAINER_TYPE,
        name: "by-name",
        oldInputs: inputs,
        newInputs: inputs,
        oldState: created.state,
      }),
    ).toEqual({ kind: "replace", changed: ["networkMode"], deleteBeforeReplace: true });
  });

  test("entrypoints replace the image's entrypoint and force a replacement when changed", () => {
    const inputs = { image, entrypoints: ["node", "-e", OWNER_SCRIPT] };
    const changed = { image, entrypoints: ["node", "-e", "setInterval(() => {}, 1e6)"] };
    expect(
      docker.diff({
        type: CONTAINER_TYPE,
        name: "owner",
        oldInputs: inputs,
        newInputs: changed,
        oldState: owner.state,
      }),
    ).toEqual({ kind: "replace", changed: ["entrypoints"], deleteBeforeReplace: true });
  });
});
