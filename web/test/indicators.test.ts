import { describe, expect, it } from "vitest";
import { IndicatorCatalog, PRESETS, isSpec, pointsOf, tableOf } from "../src/core/indicators";
import reference from "./fixtures/indicators.json";

// The service's own catalog and its readings of specs (tests/unit/web/test_indicator_fixture.py keeps them current).
const catalog = IndicatorCatalog.of(reference.catalog);

describe("IndicatorCatalog.parse", () => {
  it("reads every spec as the service reads it: normalised text and columns, or refused", () => {
    for (const example of reference.examples) {
      const parsed = catalog.parse(example.spec);
      expect(isSpec(parsed), example.spec).toBe(example.valid);
      if (isSpec(parsed)) expect([parsed.text, parsed.columns], example.spec).toEqual([example.text, example.columns]);
    }
  });

  it("names the columns of every default spec exactly as the catalog lists them", () => {
    const defaults = reference.catalog.indicators.flatMap((i) => i.defaults);
    expect(defaults.length).toBeGreaterThan(10);
    for (const d of defaults) {
      const parsed = catalog.parse(d.spec);
      expect(isSpec(parsed) && parsed.columns, d.spec).toEqual(d.columns);
    }
  });

  it("takes a bare name as its parameters' defaults, and says what is wrong otherwise", () => {
    expect(catalog.parse("rsi")).toMatchObject({ text: "rsi:14", columns: ["rsi_14"] });
    expect(catalog.parse("macd")).toMatchObject({ text: "macd:12:26:9" });
    expect(catalog.parse("foo:3")).toEqual({ problem: expect.stringContaining("unknown indicator 'foo'") });
    expect(catalog.parse("sma:1")).toEqual({ problem: "sma: period must be within 2..5000, got 1" });
    expect(catalog.parse("sma:20.5")).toEqual({ problem: "sma: period must be an integer, got 20.5" });
  });

  it("offers every preset the service knows", () => {
    expect(PRESETS.map((t) => catalog.parse(t)).filter(isSpec).map((s) => s.text)).toEqual(PRESETS);
    expect(IndicatorCatalog.of({}).parse("sma:20")).toMatchObject({ problem: expect.any(String) });
  });
});

describe("panes", () => {
  it("draws moving averages, bands and VWAP over the price, volume's average over the volume, oscillators alone", () => {
    const pane = (t: string) => {
      const parsed = catalog.parse(t);
      return isSpec(parsed) ? parsed.pane : null;
    };
    expect(["sma:20", "ema:12", "bb:20:2", "vwap"].map(pane)).toEqual(["price", "price", "price", "price"]);
    expect(pane("volume_sma:20")).toBe("volume");
    expect(["rsi:14", "macd:12:26:9", "stoch:14:3:3"].map(pane)).toEqual(["rsi:14", "macd:12:26:9", "stoch:14:3:3"]);
  });
});

describe("tableOf and pointsOf", () => {
  it("read the service's table and leave out the rows before warm-up (null)", () => {
    const body = {
      source: "tradingview", exchange: "X", symbol: "Y", interval: "1m", indicators: ["sma:2"], columns: ["sma_2"], count: 3,
      rows: [
        { time: "1970-01-01T00:01:00Z", timestamp: 60, sma_2: null },
        { time: "1970-01-01T00:02:00Z", timestamp: 120, sma_2: 1.5 },
        { time: "1970-01-01T00:03:00Z", timestamp: 180, sma_2: 2.5 },
      ],
    };
    const table = tableOf(body);
    expect(table.columns).toEqual(["sma_2"]);
    expect(pointsOf(table.rows, "sma_2")).toEqual([{ time: 120, value: 1.5 }, { time: 180, value: 2.5 }]);
    expect(pointsOf(table.rows, "ema_2")).toEqual([]);
    expect(tableOf(null)).toEqual({ columns: [], rows: [] });
  });
});
