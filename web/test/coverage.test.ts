import { describe, expect, it } from "vitest";
import { type CoverageSpan, MIN_GAP_WIDTH, axisOf, missingBars, timelineOf } from "../src/core/coverage";

const HOUR = 3_600;
const span = (first: number, last: number, gaps: Array<[number, number]> = []): CoverageSpan => ({ first, last, intervalSeconds: HOUR, gaps });

describe("axisOf", () => {
  it("spans from the earliest first bar to the end of the latest last bar", () => {
    expect(axisOf([span(10 * HOUR, 20 * HOUR), span(0, 5 * HOUR)])).toEqual({ from: 0, to: 21 * HOUR });
  });

  it("is null without series", () => {
    expect(axisOf([])).toBeNull();
  });
});

describe("timelineOf", () => {
  it("places the band and a gap as fractions of the axis", () => {
    // 100 hourly bars on [0, 100h); bars 40..49 missing: the gap covers [40h, 50h).
    const s = span(0, 99 * HOUR, [[40 * HOUR, 49 * HOUR]]);
    const t = timelineOf(s, { from: 0, to: 100 * HOUR });
    expect(t.band).toEqual({ left: 0, width: 1 });
    expect(t.gaps).toHaveLength(1);
    expect(t.gaps[0].left).toBeCloseTo(0.4, 12);
    expect(t.gaps[0].width).toBeCloseTo(0.1, 12);
  });

  it("lays a shorter series where it sits on a shared axis", () => {
    const t = timelineOf(span(50 * HOUR, 74 * HOUR), { from: 0, to: 100 * HOUR });
    expect(t.band.left).toBeCloseTo(0.5, 12);
    expect(t.band.width).toBeCloseTo(0.25, 12);
  });

  it("widens a single missing bar on a long axis so that it stays visible", () => {
    const s = span(0, 9_999 * HOUR, [[5_000 * HOUR, 5_000 * HOUR]]);
    const [gap] = timelineOf(s, { from: 0, to: 10_000 * HOUR }).gaps;
    expect(gap.width).toBe(MIN_GAP_WIDTH);
    expect(gap.left).toBeCloseTo(0.5, 12);
  });

  it("draws gaps that overlap once widened as one", () => {
    const s = span(0, 9_999 * HOUR, [[5_000 * HOUR, 5_000 * HOUR], [5_002 * HOUR, 5_003 * HOUR]]);
    const gaps = timelineOf(s, { from: 0, to: 10_000 * HOUR }).gaps;
    expect(gaps).toHaveLength(1);
    expect(gaps[0].left).toBeCloseTo(0.5, 12);
    expect(gaps[0].left + gaps[0].width).toBeCloseTo(0.5002 + MIN_GAP_WIDTH, 12);
  });

  it("keeps every segment inside the axis", () => {
    const s = span(0, 99 * HOUR, [[99 * HOUR, 99 * HOUR], [0, 0]]);
    for (const g of timelineOf(s, { from: 0, to: 100 * HOUR }, 0.05).gaps) {
      expect(g.left).toBeGreaterThanOrEqual(0);
      expect(g.left + g.width).toBeLessThanOrEqual(1 + 1e-12);
    }
  });
});

describe("missingBars", () => {
  it("counts both ends of a gap", () => {
    expect(missingBars([40 * HOUR, 49 * HOUR], HOUR)).toBe(10);
    expect(missingBars([5 * HOUR, 5 * HOUR], HOUR)).toBe(1);
  });
});
