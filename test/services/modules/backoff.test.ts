/** The client's backoff (services/src/client/backoff.ts). */
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../services/src/client/backoff.ts";

describe("backoff", () => {
  it("doubles per failure, stays within [half, all] of the step, and is capped", () => {
    expect(backoffDelay(1, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(1, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(2000);
    expect(backoffDelay(30, 500, 30_000, () => 0)).toBe(15_000);
    expect(backoffDelay(1000, 500, 30_000, () => 1)).toBe(30_000);
  });
});
