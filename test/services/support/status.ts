/**
 * Reading a service's status listener from tests: /readyz, /metrics parsed into samples (counters
 * are updated when the server has processed an event, which can be a moment after the client saw
 * its side of it: wait for them with `eventually`, re-exported here).
 */
export { eventually } from "../../support/eventually.ts";

export async function getStatus(statusUrl: string, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${statusUrl}${path}`);
  return { status: response.status, body: await response.text() };
}

export type Samples = Map<string, number>;

/** `name{a="x",b="y"}` → value, labels in the order the service writes them. */
export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

export async function getMetrics(statusUrl: string): Promise<Samples> {
  const { status, body } = await getStatus(statusUrl, "/metrics");
  if (status !== 200) throw new Error(`/metrics answered ${status}`);
  return parseMetrics(body);
}

export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const labelText = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(",");
  const key = labelText === "" ? name : `${name}{${labelText}}`;
  const value = samples.get(key);
  if (value === undefined)
    throw new Error(`no sample ${key} in /metrics; have: ${[...samples.keys()].join(", ")}`);
  return value;
}

export async function metric(
  statusUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return sample(await getMetrics(statusUrl), name, labels);
}

export function handshakeFailures(statusUrl: string, reason: string): Promise<number> {
  return metric(statusUrl, "mtls_handshake_failures_total", { reason });
}
