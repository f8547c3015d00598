/**
 * docker.Secret and docker.Service inputs the emulation checks before touching an engine: what it
 * refuses (with the input's path), the provider's validations, and how a diff decides between an
 * in-place update and a replacement (and which order a replacement takes).
 */
import { describe, expect, test } from "vitest";
import { createDockerProvider, SECRET_TYPE, SERVICE_TYPE } from "./docker/provider.ts";
import type { Inputs } from "./engine/provider.ts";

const docker = createDockerProvider();
const service = (extra: Inputs = {}, containerSpec: Inputs = {}): Inputs => ({
  taskSpec: { containerSpec: { image: "img", ...containerSpec } },
  mode: { replicated: { replicas: 2 } },
  ...extra,
});
const previewService = (inputs: Inputs) =>
  docker.create({ type: SERVICE_TYPE, name: "svc", inputs, preview: true });
const diff = (type: string, oldInputs: Inputs, newInputs: Inputs, oldState: Inputs = oldInputs) =>
  docker.diff({ type, name: "x", oldInputs, newInputs, oldState });

describe("docker emulation: swarm inputs", () => {
  test("refuses published ports, naming the IPVS limit and the loopback binding", async () => {
    await expect(
      previewService(service({ endpointSpec: { ports: [{ targetPort: 8443 }] } })),
    ).rejects.toThrow(/endpointSpec\.ports: .*IPVS.*127\.0\.0\.1/);
  });

  test("refuses the deprecated networksAdvanceds[].name and points to id", async () => {
    const inputs = service();
    (inputs.taskSpec as Inputs).networksAdvanceds = [{ name: "net" }];
    await expect(previewService(inputs)).rejects.toThrow(/networksAdvanceds\[0\]\.name: deprecated.*use id/);
  });

  test("refuses fields it does not model, top-level and nested", async () => {
    await expect(previewService({ ...service(), auth: { serverAddress: "x" } })).rejects.toThrow(
      /input\(s\) not emulated: auth/,
    );
    await expect(previewService(service({}, { privileges: { seLinuxContext: {} } }))).rejects.toThrow(
      /taskSpec\.containerSpec\.privileges: field not emulated/,
    );
    await expect(previewService(service({ mode: { global: true } }))).rejects.toThrow(/mode\.global/);
  });

  test("validates update order, failure action, durations and numeric secret owners", async () => {
    await expect(previewService(service({ updateConfig: { order: "sideways" } }))).rejects.toThrow(
      /updateConfig\.order: 'sideways' is not one of stop-first, start-first/,
    );
    await expect(previewService(service({ updateConfig: { failureAction: "retry" } }))).rejects.toThrow(
      /updateConfig\.failureAction/,
    );
    await expect(previewService(service({ updateConfig: { monitor: "5 s" } }))).rejects.toThrow(
      /updateConfig\.monitor: '5 s' is not a valid duration/,
    );
    const secrets = [{ secretId: "s", fileName: "/etc/mtls/tls.key", fileUid: "app" }];
    await expect(previewService(service({}, { secrets }))).rejects.toThrow(/secrets\[0\]\.fileUid: 'app'/);
  });

  test("auto-names a service and fills in the provider's defaults", async () => {
    const { state } = await previewService(service({ mode: undefined }));
    expect(state.name).toMatch(/^svc-[0-9a-f]{7}$/);
    expect(state.mode).toEqual({ replicated: { replicas: 1 } });
    expect(state.endpointSpec).toEqual({ mode: "vip" });
  });

  test("updates a service in place for a task spec change, replaces it only for a new name", () => {
    const old = { ...service(), name: "svc-1234567", endpointSpec: { mode: "vip" } };
    const changed = service({}, { image: "img2" });
    expect(diff(SERVICE_TYPE, service(), changed, old)).toEqual({ kind: "update", changed: ["taskSpec"] });
    expect(diff(SERVICE_TYPE, service(), service(), old)).toEqual({ kind: "none" });
    expect(diff(SERVICE_TYPE, service(), { ...service(), name: "fixed" }, old)).toEqual({
      kind: "replace",
      changed: ["name"],
      deleteBeforeReplace: true,
    });
  });

  test("replaces a secret on new data: create-first when auto-named, delete-first when named", () => {
    const old = { data: "YQ==" };
    const state = { data: "YQ==", name: "tls-key-1234567" };
    expect(diff(SECRET_TYPE, old, { data: "YQ==" }, state)).toEqual({ kind: "none" });
    expect(diff(SECRET_TYPE, old, { data: "Yg==" }, state)).toEqual({
      kind: "replace",
      changed: ["data"],
      deleteBeforeReplace: false,
    });
    expect(
      diff(SECRET_TYPE, { ...old, name: "n" }, { data: "Yg==", name: "n" }, { ...state, name: "n" }),
    ).toEqual({ kind: "replace", changed: ["data"], deleteBeforeReplace: true });
  });

  test("refuses secret data that is not base64, without quoting it", async () => {
    const create = docker.create({
      type: SECRET_TYPE,
      name: "k",
      inputs: { data: "PRIVATE KEY!" },
      preview: true,
    });
    await expect(create).rejects.toThrow(/data: is not base64 decodeable$/);
    await expect(create).rejects.not.toThrow(/PRIVATE/);
  });

  test("marks a secret's data as a secret output", () => {
    expect(docker.secretOutputs(SECRET_TYPE)).toEqual(["data"]);
    expect(docker.secretOutputs(SERVICE_TYPE)).toEqual([]);
  });
});
