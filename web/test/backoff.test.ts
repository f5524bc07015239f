import { describe, expect, it } from "vitest";
import { type BackoffPolicy, backoffDelay, failuresAfter } from "../src/core/backoff";

const POLICY: BackoffPolicy = { baseMs: 500, capMs: 30_000, stableMs: 5_000 };

describe("backoffDelay", () => {
  it("doubles with each consecutive failure up to the cap", () => {
    const upper = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoffDelay(n, POLICY, 0.999_999));
    expect(upper.map(Math.round)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("waits between half and all of the exponential value, by the jitter", () => {
    for (const failures of [1, 4, 12]) {
      const full = Math.min(POLICY.capMs, POLICY.baseMs * 2 ** (failures - 1));
      expect(backoffDelay(failures, POLICY, 0)).toBe(full / 2);
      expect(backoffDelay(failures, POLICY, 0.5)).toBe(full * 0.75);
    }
  });
});

describe("failuresAfter", () => {
  it("starts counting again after a connection that stayed up long enough", () => {
    expect(failuresAfter(6, 5_000, POLICY)).toBe(1);
  });

  it("keeps counting when the connection never opened or dropped at once", () => {
    expect(failuresAfter(2, null, POLICY)).toBe(3);
    expect(failuresAfter(2, 100, POLICY)).toBe(3);
  });
});
