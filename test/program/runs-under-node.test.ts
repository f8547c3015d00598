/**
 * Guards the way Pulumi runs this program, which vitest (with its own TypeScript transform) cannot
 * see: Pulumi.yaml sets `typescript: false`, so Pulumi's Node language host imports index.ts as an
 * ES module and Node's own type stripping must accept every file the program loads. A non-erasable
 * construct (enum, namespace, parameter property) or an import without its `.ts` extension would
 * pass every other test and break a real `pulumi up`.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { parse } from "yaml";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

it("is declared to run without ts-node, as an ES module, from index.ts", () => {
  const project = parse(readFileSync(`${ROOT}/Pulumi.yaml`, "utf8"));
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8"));
  expect(project.runtime).toMatchObject({ name: "nodejs", options: { typescript: false } });
  expect(project.main).toBe("index.ts");
  expect(pkg.type).toBe("module");
  // If ts-node were ever switched back on, it would compile with this package: it must have a
  // compiler API, which typescript@7 does not.
  expect(Number(pkg.devDependencies.typescript.replace(/^[~^]/, "").split(".")[0])).toBeLessThan(7);
});

it("loads the whole program with plain Node, as Pulumi's language host imports it", async () => {
  // Echo mocks: this checks that Node can load and run the module graph, not provider behaviour.
  const script = `
    import * as pulumi from "@pulumi/pulumi";
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: a.name + "-id", state: a.inputs }), call: (a) => a.inputs },
      "mtls-pki", "dev", true);
    const program = await import(${JSON.stringify(`${ROOT}index.ts`)});
    console.log(JSON.stringify(Object.keys(program).sort()));
  `;
  const { stdout, stderr } = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
  });
  expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual([
    "ca",
    "caCertificatePem",
    "clientCredentials",
    "clients",
    "containerNames",
    "kubernetes",
    "networkName",
    "nextRenewalDueAt",
    "server",
    "serverUrl",
    "serviceNames",
    "workloadContainers",
  ]);
  expect(stderr).not.toMatch(/ExperimentalWarning|SyntaxError|ERR_/);
});
