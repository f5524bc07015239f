import { describe, expect, it } from "vitest";
import { type Bar, applyLiveBar, barOf, indexOfTime, mergeBars } from "../src/core/bars";
import { seeded } from "./random";

const bar = (time: number, close = time, partial = false): Bar => ({ time, open: close, high: close, low: close, close, volume: 1, partial });
const times = (bars: readonly Bar[]) => bars.map((b) => b.time);

/** The rule written plainly: a map by time where the page's bars overwrite, read back in time order. */
function referenceMerge(held: readonly Bar[], page: readonly Bar[]): Bar[] {
  const byTime = new Map<number, Bar>();
  for (const b of held) byTime.set(b.time, b);
  for (const b of page) byTime.set(b.time, b);
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

function randomBars(random: () => number, tag: number): Bar[] {
  const chosen = new Set<number>();
  const count = Math.floor(random() * 30);
  for (let i = 0; i < count; i += 1) chosen.add(Math.floor(random() * 60) * 60);
  return [...chosen].sort((a, b) => a - b).map((t) => bar(t, tag));
}

describe("barOf", () => {
  it("takes the epoch timestamp as the bar time and a missing partial flag as false", () => {
    const row = { time: "2024-01-01T00:00:00Z", timestamp: 1_704_067_200, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 };
    expect(barOf(row)).toEqual({ time: 1_704_067_200, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, partial: false });
    expect(barOf({ ...row, partial: true }).partial).toBe(true);
  });
});

describe("mergeBars", () => {
  it("puts an older page before the held bars", () => {
    expect(times(mergeBars([bar(300), bar(360)], [bar(180), bar(240)]))).toEqual([180, 240, 300, 360]);
  });

  it("keeps one bar per time and lets the page's bar win where both have one", () => {
    const merged = mergeBars([bar(60, 1), bar(120, 1)], [bar(120, 2), bar(180, 2)]);
    expect(merged.map((b) => [b.time, b.close])).toEqual([[60, 1], [120, 2], [180, 2]]);
  });

  it("equals the plain map-by-time merge on random interleaved inputs", () => {
    const random = seeded(21);
    for (let round = 0; round < 500; round += 1) {
      const held = randomBars(random, 1);
      const page = randomBars(random, 2);
      expect(mergeBars(held, page)).toEqual(referenceMerge(held, page));
    }
  });

  it("never changes its inputs", () => {
    const held = [bar(60)];
    const page = [bar(0)];
    mergeBars(held, page);
    expect(times(held)).toEqual([60]);
    expect(times(page)).toEqual([0]);
  });
});

describe("applyLiveBar", () => {
  it("appends a bar newer than the newest held bar (a bar closed, the next one forms)", () => {
    const bars = [bar(60), bar(120)];
    expect(applyLiveBar(bars, bar(180))).toBe("append");
    expect(times(bars)).toEqual([60, 120, 180]);
  });

  it("replaces the newest bar in place when the forming bar moves", () => {
    const bars = [bar(60), bar(120, 5)];
    expect(applyLiveBar(bars, bar(120, 7))).toBe("replace-last");
    expect(bars.map((b) => b.close)).toEqual([60, 7]);
  });

  it("replaces an older held bar at its place", () => {
    const bars = [bar(60), bar(120), bar(180)];
    expect(applyLiveBar(bars, bar(120, 9, true))).toBe("replace-older");
    expect(bars[1]).toEqual(bar(120, 9, true));
    expect(times(bars)).toEqual([60, 120, 180]);
  });

  it("ignores a bar older than the newest that is not held", () => {
    const bars = [bar(60), bar(180)];
    expect(applyLiveBar(bars, bar(120))).toBe("ignore");
    expect(times(bars)).toEqual([60, 180]);
  });

  it("starts an empty chart with the live bar", () => {
    const bars: Bar[] = [];
    expect(applyLiveBar(bars, bar(60))).toBe("append");
    expect(times(bars)).toEqual([60]);
  });

  it("keeps bars sorted and unique under any sequence of live bars", () => {
    const random = seeded(7);
    const bars: Bar[] = [];
    for (let i = 0; i < 2_000; i += 1) applyLiveBar(bars, bar(Math.floor(random() * 100) * 60 + (i > 1000 ? 6_000 : 0)));
    const sorted = [...new Set(times(bars))].sort((a, b) => a - b);
    expect(times(bars)).toEqual(sorted);
  });
});

describe("indexOfTime", () => {
  it("finds every held time and nothing else", () => {
    const bars = [0, 60, 180, 240, 600].map((t) => bar(t));
    for (const [i, b] of bars.entries()) expect(indexOfTime(bars, b.time)).toBe(i);
    for (const t of [-60, 120, 300, 660]) expect(indexOfTime(bars, t)).toBe(-1);
  });
});
