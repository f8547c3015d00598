/**
 * Terraform-style label lists (`[{ label, value }]`, as docker.Network/Volume/Container take them)
 * to and from the Engine API's label maps; the run label is added to every object created.
 */
import { RUN_LABEL } from "./naming.ts";

export interface LabelEntry {
  label: string;
  value: string;
}

export function labelMap(labels: unknown, runId: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of (labels ?? []) as LabelEntry[]) map[entry.label] = entry.value;
  map[RUN_LABEL] = runId;
  return map;
}
