/**
 * Upgrading a sidecar stack from the shared-namespace wiring (a pause container owning each
 * workload's network namespace, the sidecars and the app joined to it) to the private networks,
 * in one `up`. The program of the last release with that wiring (commit 3e1113a: index.ts,
 * components/, services/ and examples/demo-app as they were) deploys Pulumi.sidecar.yaml, then
 * today's program runs on the same (emulated) state and the same engine. The steps it takes are
 * the ones docs/OPERATIONS.md ("Upgrading a sidecar stack") lists; afterwards the workloads serve
 * on the new wiring, and a second `up` changes nothing.
 *
 * Needs the git history (the old commit) and a Docker engine; under CI=true either missing fails.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appCalls, waitForAppRecovery } from "../e2e/app-calls.ts";
import { dockerSkipReason, ensureBaseImage } from "../support/docker-available.ts";
import { stackConfig } from "../support/stack-files.ts";
import { freeSubnetPool } from "../support/subnet-pool.ts";
import { type Deployment, deploy, newStack, wholeProgram } from "./deploy.ts";
import { missingRelease, type ProgramTree, releaseTree } from "./program-tree.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The last commit whose MtlsWorkload shared a pause container's network namespace. */
const OLD_COMMIT = "3e1113a";

const CONTAINER = "docker:index/container:Container";
const skip = missingRelease(OLD_COMMIT) ?? (await dockerSkipReason());

describe.skipIf(skip)(
  `upgrading the sidecar stack from the shared-namespace wiring (commit ${OLD_COMMIT})`,
  () => {
    let release: ProgramTree;
    let config: Record<string, string>;
    const stack = newStack();
    let upgraded: Deployment | undefined;
    let old: Deployment | undefined;

    beforeAll(async () => {
      release = releaseTree(OLD_COMMIT);
      const file = stackConfig("sidecar");
      const workloads = (JSON.parse(file.workloads!) as Record<string, unknown>[]).map((w) =>
        w.role === "client" ? { ...w, env: { DEMO_INTERVAL_MS: "200" } } : w,
      );
      // The old release reads workloads without env; it deploys them without it. The pool is a key
      // it does not know (and ignores); today's program takes the workloads' subnets from it.
      const { workloads: _ours, ...rest } = file;
      const oldConfig = { ...rest, baseImage: await ensureBaseImage(), workloads: file.workloads! };
      config = {
        ...oldConfig,
        workloads: JSON.stringify(workloads),
        workloadSubnetPool: await freeSubnetPool(),
      };
      // The old program resolves its paths against its working directory, as `pulumi up` from its
      // project directory would.
      process.chdir(release.dir);
      try {
        old = await deploy("sidecar", oldConfig, { stack, program: release.program });
      } finally {
        process.chdir(ROOT);
      }
    });

    afterAll(async () => {
      try {
        await (upgraded ?? old)?.destroy();
      } finally {
        release?.remove();
      }
    });

    it("the old release ran its workloads in pause containers' namespaces", () => {
      const pauses = old!.run.ops.filter((op) => op.type === CONTAINER && op.name.endsWith("-pause"));
      expect(pauses.map((op) => `${op.op} ${op.name}`).sort()).toEqual([
        "create caller-pause",
        "create hello-pause",
      ]);
    });

    it("moves to private networks in one up: creates the networks, replaces the sidecars and apps, deletes the pause containers, keeps the PKI", async () => {
      upgraded = await deploy("sidecar", config, { stack, program: wholeProgram });
      const steps = upgraded.run.ops
        .filter((op) => op.op !== "same")
        .map((op) => `${op.op} ${op.name} (${[...(op.changed ?? [])].sort().join(", ")})`)
        .sort();
      console.log(`upgrade steps:\n${steps.join("\n")}`);
      expect(steps).toEqual(
        [
          "create caller-net ()",
          "create hello-net ()",
          "delete caller-pause ()",
          "delete hello-pause ()",
          "replace caller-app (envs, image, networkMode, networksAdvanced, readOnly, user)",
          "replace caller-to-hello (destroyGraceSeconds, envs, image, networkMode, networksAdvanced, sysctls)",
          "replace client-a (destroyGraceSeconds, image)",
          "replace client-a-delivery (image)",
          "replace hello-app (image, networkMode, networksAdvanced, readOnly, user)",
          "replace hello-sidecar (destroyGraceSeconds, envs, image, networkMode, networksAdvanced, sysctls)",
          "replace mtls-server (destroyGraceSeconds, image)",
          "replace mtls-server-delivery (image)",
          // The services' and the demo app's code changed; the base-only delivery image did not,
          // so the sidecars' delivery containers (which run it) stay as they are.
          "update demo-app-image (build)",
          "update services-image (build)",
        ].sort(),
      );
      // No certificate, key or CA is touched: the identities carry over.
      expect(upgraded.run.ops.filter((op) => op.type.startsWith("tls:") && op.op !== "same")).toEqual([]);
    });

    it("serves on the new wiring right after: the caller app's calls reach hello through the tunnel", async () => {
      const outputs = upgraded!.run.exports as {
        workloadContainers: Record<string, { app: string; network: string }>;
      };
      const app = outputs.workloadContainers.caller!.app;
      await waitForAppRecovery(app, 0, { timeoutMs: 60_000 });
      expect((await appCalls(app)).some((c) => c.ok && c.body?.includes("demo-server"))).toBe(true);
    });

    it("changes nothing on the next up", async () => {
      upgraded = await deploy("sidecar", config, { stack, program: wholeProgram });
      expect(upgraded.run.ops.filter((op) => op.op !== "same")).toEqual([]);
    });
  },
);
