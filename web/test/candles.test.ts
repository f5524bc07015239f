import { describe, expect, it } from "vitest";
import type { Bar } from "../src/core/bars";
import { candleOf, volumeOf } from "../src/pages/chart/view";

const bar = (partial: boolean, open = 1, close = 2): Bar => ({ time: 60, open, high: 3, low: 0.5, close, volume: 7, partial });

describe("how bars are drawn", () => {
  it("draws a complete bar with the series' own colours", () => {
    expect(candleOf(bar(false))).toEqual({ time: 60, open: 1, high: 3, low: 0.5, close: 2 });
  });

  it("draws a partial bar hollow, with a faded outline and wick in its direction's colour", () => {
    const up = candleOf(bar(true, 1, 2));
    const down = candleOf(bar(true, 2, 1));
    expect(up.color).toBe("rgba(0, 0, 0, 0)");
    expect(up.borderColor).toBe(up.wickColor);
    expect(down.borderColor).not.toBe(up.borderColor);
    expect(up.borderColor).toMatch(/rgba\(.*0\.45\)/);
  });

  it("fades the volume of a partial bar too", () => {
    expect(volumeOf(bar(false)).color).toBe("#26a69a");
    expect(volumeOf(bar(true)).color).toMatch(/0\.45\)$/);
    expect(volumeOf(bar(true)).value).toBe(7);
  });
});
