/**
 * The kubernetes plugin's Diff as the emulation computes it (kubernetes/diff.ts, diff.go
 * forceNewProperties), on checked objects: which changes replace, which update in place, and when
 * a replacement deletes first. No cluster needed.
 */
import { describe, expect, test } from "vitest";
import { checkObject } from "./kubernetes/check.ts";
import { diffObject } from "./kubernetes/diff.ts";
import { CONFIGMAP_TYPE, DEPLOYMENT_TYPE, SECRET_TYPE, SERVICE_TYPE } from "./kubernetes/kinds.ts";

const DEFAULTS = { enableSecretMutable: false, enableConfigMapMutable: false };

/** Old and new inputs checked as the plugin does (the new adopting the old autoname). */
function diff(
  type: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  mutable = DEFAULTS,
) {
  const old = checkObject({ type, name: "x", inputs: before, defaultNamespace: "ns" });
  const next = checkObject({ type, name: "x", inputs: after, oldInputs: old, defaultNamespace: "ns" });
  return diffObject(type, old, next, mutable);
}

const cm = (data: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  data,
  ...extra,
});

function deployment(name: string | undefined, labels: Record<string, string>, image: string) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: name ? { name } : {},
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "c", image }] } },
    },
  };
}

describe("kubernetes diff", () => {
  test("unchanged inputs keep the autoname and diff as nothing", () => {
    expect(diff(CONFIGMAP_TYPE, cm({ a: "1" }), cm({ a: "1" }))).toEqual({ kind: "none" });
  });

  test("a ConfigMap's data change replaces it create-first (autonamed)", () => {
    expect(diff(CONFIGMAP_TYPE, cm({ a: "1" }), cm({ a: "2" }))).toEqual({
      kind: "replace",
      changed: ["data"],
      deleteBeforeReplace: false,
    });
  });

  test("with enableConfigMapMutable a data change updates in place, unless the ConfigMap is immutable", () => {
    const mutable = { ...DEFAULTS, enableConfigMapMutable: true };
    expect(diff(CONFIGMAP_TYPE, cm({ a: "1" }), cm({ a: "2" }), mutable)).toEqual({
      kind: "update",
      changed: ["data"],
    });
    const frozen = { immutable: true };
    expect(diff(CONFIGMAP_TYPE, cm({ a: "1" }, frozen), cm({ a: "2" }, frozen), mutable).kind).toBe(
      "replace",
    );
  });

  test("a Secret's stringData change is a data change and replaces; a label change updates", () => {
    const secret = (v: string, labels?: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: labels ? { labels } : {},
      stringData: { k: v },
    });
    expect(diff(SECRET_TYPE, secret("a"), secret("b"))).toMatchObject({ kind: "replace", changed: ["data"] });
    expect(diff(SECRET_TYPE, secret("a"), secret("a", { l: "1" }))).toEqual({
      kind: "update",
      changed: ["metadata"],
    });
  });

  test("a Deployment's template change updates in place; a selector change replaces", () => {
    const before = deployment(undefined, { app: "a" }, "img:1");
    expect(diff(DEPLOYMENT_TYPE, before, deployment(undefined, { app: "a" }, "img:2"))).toEqual({
      kind: "update",
      changed: ["spec"],
    });
    expect(diff(DEPLOYMENT_TYPE, before, deployment(undefined, { app: "b" }, "img:1"))).toEqual({
      kind: "replace",
      changed: ["spec"],
      deleteBeforeReplace: false,
    });
  });

  test("a replacement of an object the program named deletes first, since the new one takes the same name", () => {
    const before = deployment("web", { app: "a" }, "img:1");
    expect(diff(DEPLOYMENT_TYPE, before, deployment("web", { app: "b" }, "img:1"))).toMatchObject({
      kind: "replace",
      deleteBeforeReplace: true,
    });
    // Renamed: the new name is free, so create-first.
    expect(diff(DEPLOYMENT_TYPE, before, deployment("web2", { app: "a" }, "img:1"))).toMatchObject({
      kind: "replace",
      changed: ["metadata"],
      deleteBeforeReplace: false,
    });
  });

  test("a Service's clusterIP change replaces; its ports update in place", () => {
    const svc = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Service", spec });
    expect(
      diff(SERVICE_TYPE, svc({ ports: [{ port: 80 }] }), svc({ ports: [{ port: 80 }], clusterIP: "None" }))
        .kind,
    ).toBe("replace");
    expect(diff(SERVICE_TYPE, svc({ ports: [{ port: 80 }] }), svc({ ports: [{ port: 81 }] })).kind).toBe(
      "update",
    );
  });
});
