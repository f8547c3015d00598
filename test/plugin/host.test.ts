/**
 * The package as Pulumi starts it: PulumiPlugin.yaml at the root, package.json "main" (provider.js)
 * run by the Node.js language host's plugin runner from the repository, in a consumer's working
 * directory. It must serve, over gRPC, the schema the in-process analyzer infers (plugin/schema.json,
 * which test/plugin/schema.test.ts holds to the analyzer) and report package.json's version: what
 * `pulumi package get-schema .` prints and what `pulumi package add` generates an SDK from.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ROOT } from "./support/construct.ts";
import { type RunningPlugin, startPlugin } from "./support/plugin-process.ts";

const packageJson = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

describe("the plugin started as Pulumi's Node.js language host starts it", () => {
  let consumerDir: string;
  let plugin: RunningPlugin;

  beforeAll(async () => {
    consumerDir = mkdtempSync(path.join(tmpdir(), "mtls-pki-consumer-"));
    plugin = await startPlugin(ROOT, consumerDir);
  });
  afterAll(async () => {
    await plugin?.stop();
    rmSync(consumerDir, { recursive: true, force: true });
  });

  it("is declared a nodejs plugin, entered through package.json's main", () => {
    const manifest = parse(readFileSync(path.join(ROOT, "PulumiPlugin.yaml"), "utf8"));
    expect(manifest.runtime.name).toBe("nodejs");
    expect(packageJson.main).toBe("./provider.js");
  });

  it("serves the checked-in schema over gRPC", async () => {
    const served = await plugin.schema();
    expect(served).toEqual(JSON.parse(readFileSync(path.join(ROOT, "plugin/schema.json"), "utf8")));
  }, 120_000);

  it("reports package.json's version", async () => {
    expect(await plugin.version()).toBe(packageJson.version);
  });

  it("writes nothing to stderr while serving (no warning a consumer would see on every run)", () => {
    expect(plugin.stderr()).toBe("");
  });
});
