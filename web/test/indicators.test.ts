import { describe, expect, it } from "vitest";
import { columnsOf, paneOf, parseSpec, pointsOf, rowsOf, specText } from "../src/core/indicators";

const columns = (text: string) => columnsOf(parseSpec(text)!);

describe("indicator columns", () => {
  it("are named like the API names them: output, then each parameter", () => {
    expect(columns("sma:20")).toEqual(["sma_20"]);
    expect(columns("ema:12")).toEqual(["ema_12"]);
    expect(columns("bb:20:2")).toEqual(["bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2"]);
    expect(columns("rsi:14")).toEqual(["rsi_14"]);
    expect(columns("macd:12:26:9")).toEqual(["macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"]);
  });

  it("keep a fractional parameter's decimals and name a parameterless indicator by its output", () => {
    expect(columns("bb:20:2.5")).toEqual(["bb_upper_20_2.5", "bb_middle_20_2.5", "bb_lower_20_2.5"]);
    expect(columns("vwap")).toEqual(["vwap"]);
  });
});

describe("parseSpec", () => {
  it("refuses unknown indicators and bad parameters", () => {
    expect(parseSpec("foo:3")).toBeNull();
    expect(parseSpec("sma:x")).toBeNull();
    expect(parseSpec("sma:-5")).toBeNull();
  });

  it("reads what it writes", () => {
    for (const text of ["sma:20", "bb:20:2", "macd:12:26:9", "vwap"]) expect(specText(parseSpec(text)!)).toBe(text);
  });
});

describe("paneOf", () => {
  it("draws moving averages and bands over the price and oscillators in panes of their own", () => {
    expect(["sma:20", "ema:12", "bb:20:2", "vwap"].map((t) => paneOf(parseSpec(t)!))).toEqual(["price", "price", "price", "price"]);
    expect(paneOf(parseSpec("rsi:14")!)).toBe("rsi:14");
    expect(paneOf(parseSpec("macd:12:26:9")!)).toBe("macd:12:26:9");
  });
});

describe("pointsOf", () => {
  it("leaves out the rows before warm-up (null) and keeps each value at its bar's time", () => {
    const rows = [
      { time: "a", timestamp: 60, sma_2: null },
      { time: "b", timestamp: 120, sma_2: 1.5 },
      { time: "c", timestamp: 180, sma_2: 2.5 },
    ];
    expect(pointsOf(rows, "sma_2")).toEqual([{ time: 120, value: 1.5 }, { time: 180, value: 2.5 }]);
    expect(pointsOf(rows, "ema_2")).toEqual([]);
  });
});

describe("rowsOf", () => {
  it("reads a bare array or the rows of an envelope", () => {
    const rows = [{ timestamp: 1 }];
    expect(rowsOf(rows)).toBe(rows);
    expect(rowsOf({ source: "tradingview", rows })).toBe(rows);
    expect(rowsOf({ count: 1, values: rows })).toBe(rows);
    expect(rowsOf({ nothing: true })).toEqual([]);
  });
});
