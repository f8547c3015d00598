/**
 * Names and labels of the Docker objects the emulation creates.
 *
 * Autonaming follows Pulumi's default for the docker provider: `<logical name>-<7 random hex>`.
 * Every object also carries the label `mtls-pki.test-run=<run id>` (an emulation addition, kept out
 * of the resource state), so that `cleanupRun` can find and remove all of a run's objects even
 * after a crash.
 */
import { randomBytes } from "node:crypto";

export const RUN_LABEL = "mtls-pki.test-run";

export function autoname(logicalName: string): string {
  return `${logicalName}-${randomBytes(4).toString("hex").slice(0, 7)}`;
}

/** A fresh run id: short, unique, and safe in a label value and a Docker object name. */
export function newRunId(): string {
  return `run-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
}

/** Terraform-style label lists (`[{ label, value }]`) as the Engine API's map, plus the run label. */
export function labelMap(labels: unknown, runId: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of (labels ?? []) as { label: string; value: string }[]) map[entry.label] = entry.value;
  map[RUN_LABEL] = runId;
  return map;
}
