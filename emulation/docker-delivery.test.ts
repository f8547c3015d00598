/**
 * The delivery design on a real engine, through the emulated provider: identity files uploaded into
 * a created-but-never-started container land in its named volume, owned by the service's uid/gid
 * with the requested modes, and a re-issued certificate replaces only that container. (That a running
 * service then serves the new certificate is the product's test: test/components.)
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SERVICE_GID, SERVICE_UID } from "../services/src/contract.ts";
import { dockerSkipReason, ensureBaseImage } from "../test/support/docker-available.ts";
import { probe } from "../test/support/docker-probe.ts";
import { CONTAINER_TYPE, cleanupRun, createDockerProvider, VOLUME_TYPE } from "./docker/provider.ts";
import type { CreateResult, Inputs } from "./engine/provider.ts";

const skip = await dockerSkipReason();

describe.skipIf(skip)("docker emulation: identity delivery through a never-started container", () => {
  const docker = createDockerProvider();
  const owner = { owner: String(SERVICE_UID), group: String(SERVICE_GID) };
  let image: string;
  let volume: CreateResult;
  let deliveryInputs: Inputs;
  let delivery: CreateResult;
  let serviceInputs: Inputs;
  let service: CreateResult;

  const uploads = (cert: string) => [
    { file: "/etc/mtls/tls.crt", content: cert, permissions: "0444", ...owner },
    { file: "/etc/mtls/tls.key", content: "KEY-1\n", permissions: "0400", ...owner },
  ];

  beforeAll(async () => {
    image = await ensureBaseImage();
    volume = await docker.create({ type: VOLUME_TYPE, name: "identity", inputs: {}, preview: false });
    const mount = { type: "volume", source: volume.state.name, target: "/etc/mtls" };
    deliveryInputs = {
      image,
      start: false,
      mustRun: false,
      networkMode: "none",
      mounts: [mount],
      uploads: uploads("CERT-1\n"),
    };
    delivery = await docker.create({
      type: CONTAINER_TYPE,
      name: "delivery",
      inputs: deliveryInputs,
      preview: false,
    });
    serviceInputs = {
      image,
      user: `${SERVICE_UID}:${SERVICE_GID}`,
      command: ["node", "-e", "setInterval(() => {}, 1000)"],
      mounts: [{ ...mount, readOnly: true }],
      readOnly: true,
    };
    service = await docker.create({
      type: CONTAINER_TYPE,
      name: "service",
      inputs: serviceInputs,
      preview: false,
    });
  });

  afterAll(async () => {
    await cleanupRun(docker.runId);
  });

  const statFiles = (user?: string) =>
    probe({
      runId: docker.runId,
      image,
      user,
      volumes: { [volume.state.name as string]: "/x" },
      script: `const fs = require("fs");
        for (const f of ["tls.crt", "tls.key"]) {
          const s = fs.statSync("/x/" + f);
          console.log(f, s.uid, s.gid, (s.mode & 0o7777).toString(8), JSON.stringify(fs.readFileSync("/x/" + f, "utf8")));
        }`,
    });

  test("a volume without a name is auto-named <logical name>-<7 hex>, and is its own id", () => {
    expect(volume.state.name).toMatch(/^identity-[0-9a-f]{7}$/);
    expect(volume.id).toBe(volume.state.name);
  });

  test("uploads land in the named volume with the service's uid/gid and the requested modes", async () => {
    const lines = (await statFiles(`${SERVICE_UID}:${SERVICE_GID}`)).split("\n");
    expect(lines).toEqual([
      `tls.crt ${SERVICE_UID} ${SERVICE_GID} 444 "CERT-1\\n"`,
      `tls.key ${SERVICE_UID} ${SERVICE_GID} 400 "KEY-1\\n"`,
    ]);
  });

  test("the key is unreadable for any other non-root user", async () => {
    await expect(statFiles("10002:10002")).rejects.toThrow(/EACCES/);
  });

  test("applying the same inputs again changes nothing", () => {
    const same = (name: string, inputs: Inputs, result: CreateResult) =>
      docker.diff({
        type: CONTAINER_TYPE,
        name,
        oldInputs: inputs,
        newInputs: inputs,
        oldState: result.state,
      });
    expect(same("delivery", deliveryInputs, delivery)).toEqual({ kind: "none" });
    expect(same("service", serviceInputs, service)).toEqual({ kind: "none" });
    expect(
      docker.diff({
        type: VOLUME_TYPE,
        name: "identity",
        oldInputs: {},
        newInputs: {},
        oldState: volume.state,
      }),
    ).toEqual({
      kind: "none",
    });
  });

  test("a re-issued certificate replaces the delivery container (delete before replace) and nothing else", () => {
    const reissued = { ...deliveryInputs, uploads: uploads("CERT-2\n") };
    expect(
      docker.diff({
        type: CONTAINER_TYPE,
        name: "delivery",
        oldInputs: deliveryInputs,
        newInputs: reissued,
        oldState: delivery.state,
      }),
    ).toEqual({ kind: "replace", changed: ["uploads"], deleteBeforeReplace: true });
  });
});
