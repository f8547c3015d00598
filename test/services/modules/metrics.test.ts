/** The Prometheus text format of services/src/metrics.ts. */
import { describe, expect, it } from "vitest";
import { Registry } from "../../../services/src/metrics.ts";

describe("metrics text format", () => {
  it("renders HELP, TYPE and labelled samples, escaping label values", () => {
    const registry = new Registry();
    const counter = registry.counter("x_total", "Things.", ["reason"]);
    counter.touch({ reason: "a" });
    counter.inc({ reason: 'b"\\' }, 2);
    registry.gauge("y", "A gauge.", () => 1.5);
    registry.gauge("z", "Unknown yet.", () => undefined);
    expect(registry.render()).toBe(
      '# HELP x_total Things.\n# TYPE x_total counter\nx_total{reason="a"} 0\nx_total{reason="b\\"\\\\"} 2\n' +
        "# HELP y A gauge.\n# TYPE y gauge\ny 1.5\n# HELP z Unknown yet.\n# TYPE z gauge\n",
    );
  });
});
