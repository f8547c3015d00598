/**
 * The sidecar stack's config as the Docker tests deploy it: Pulumi.sidecar.yaml with the local base
 * image, the client workloads calling every 200 ms (so a test sees a recovery within a second, not
 * the demo's default interval), and a subnet pool free on this engine.
 */
import { stackConfig } from "./stack-files.ts";
import { freeSubnetPool } from "./subnet-pool.ts";

export async function sidecarTestConfig(baseImage: string): Promise<Record<string, string>> {
  const file = stackConfig("sidecar");
  const workloads = (JSON.parse(file.workloads!) as Record<string, unknown>[]).map((w) =>
    w.role === "client" ? { ...w, env: { DEMO_INTERVAL_MS: "200" } } : w,
  );
  return {
    ...file,
    baseImage,
    workloads: JSON.stringify(workloads),
    workloadSubnetPool: await freeSubnetPool(),
  };
}
