/**
 * A tiny metrics registry that renders the Prometheus text exposition format (version 0.0.4):
 * counters with labels and gauges (set directly or computed at scrape time). The services may use
 * Node built-ins only, hence no client library.
 */

type Labels = Record<string, string>;

interface Metric {
  render(): string;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return parts.length > 0 ? `{${parts.join(",")}}` : "";
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${type}\n`;
}

export class Counter<L extends string = string> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  inc(labels: Partial<Record<L, string>> = {}, by = 1): void {
    const ordered: Labels = {};
    for (const name of this.labelNames) ordered[name] = labels[name] ?? "";
    const key = JSON.stringify(ordered);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels: ordered, value: by });
  }

  /** Makes a series visible at 0 before it first happens, so dashboards and alerts see it. */
  touch(labels: Partial<Record<L, string>>): void {
    this.inc(labels, 0);
  }

  get(labels: Partial<Record<L, string>> = {}): number {
    const ordered: Labels = {};
    for (const name of this.labelNames) ordered[name] = labels[name] ?? "";
    return this.#values.get(JSON.stringify(ordered))?.value ?? 0;
  }

  render(): string {
    let text = header(this.name, this.help, "counter");
    for (const { labels, value } of this.#values.values()) {
      text += `${this.name}${labelText(labels)} ${formatValue(value)}\n`;
    }
    return text;
  }
}

export class Gauge implements Metric {
  readonly name: string;
  readonly help: string;
  #value = 0;
  readonly #collect: (() => number | undefined) | undefined;

  /** With `collect`, the value is computed at each scrape; `undefined` from it omits the sample. */
  constructor(name: string, help: string, collect?: () => number | undefined) {
    this.name = name;
    this.help = help;
    this.#collect = collect;
  }

  set(value: number): void {
    this.#value = value;
  }

  inc(by = 1): void {
    this.#value += by;
  }

  dec(by = 1): void {
    this.#value -= by;
  }

  get(): number | undefined {
    return this.#collect ? this.#collect() : this.#value;
  }

  render(): string {
    const value = this.get();
    return (
      header(this.name, this.help, "gauge") +
      (value === undefined ? "" : `${this.name} ${formatValue(value)}\n`)
    );
  }
}

/** A gauge with labels, computed at each scrape: one sample per label set `collect` returns. */
export class GaugeFamily<L extends string = string> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly #collect: () => ReadonlyArray<{ labels: Record<L, string>; value: number }>;

  constructor(
    name: string,
    help: string,
    collect: () => ReadonlyArray<{ labels: Record<L, string>; value: number }>,
  ) {
    this.name = name;
    this.help = help;
    this.#collect = collect;
  }

  render(): string {
    let text = header(this.name, this.help, "gauge");
    for (const { labels, value } of this.#collect()) {
      text += `${this.name}${labelText(labels)} ${formatValue(value)}\n`;
    }
    return text;
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const metric = new Counter<L>(name, help, labelNames);
    this.#metrics.push(metric);
    return metric;
  }

  gauge(name: string, help: string, collect?: () => number | undefined): Gauge {
    const metric = new Gauge(name, help, collect);
    this.#metrics.push(metric);
    return metric;
  }

  gaugeFamily<L extends string>(
    name: string,
    help: string,
    collect: () => ReadonlyArray<{ labels: Record<L, string>; value: number }>,
  ): GaugeFamily<L> {
    const metric = new GaugeFamily<L>(name, help, collect);
    this.#metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.#metrics.map((metric) => metric.render()).join("");
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * The metrics both services have: expiry of their own certificate, reloads by result, readiness.
 * Returns the reload counter for the hot reload to feed.
 */
export function registerIdentityMetrics(
  registry: Registry,
  certificateNotAfter: () => Date | undefined,
  ready: () => boolean,
): Counter<"result"> {
  registry.gauge(
    "mtls_certificate_expiry_seconds",
    "Seconds until the service's own certificate expires.",
    () => {
      const notAfter = certificateNotAfter();
      return notAfter ? Math.floor((notAfter.getTime() - Date.now()) / 1000) : undefined;
    },
  );
  const reloads = registry.counter("mtls_reloads_total", "Identity reloads by result (success or failure).", [
    "result",
  ]);
  for (const result of ["success", "failure"]) reloads.touch({ result });
  registry.gauge("mtls_ready", "1 when /readyz answers 200, else 0.", () => (ready() ? 1 : 0));
  return reloads;
}
