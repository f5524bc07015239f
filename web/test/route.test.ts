import { describe, expect, it } from "vitest";
import { formatRoute, parseRoute } from "../src/core/route";

describe("routes", () => {
  it("round-trip a page and its parameters through the fragment", () => {
    const hash = formatRoute("chart", { symbol: "BINANCE:BTCUSDT", source: "tradingview", interval: "1m" });
    expect(hash).toBe("#/chart?symbol=BINANCE%3ABTCUSDT&source=tradingview&interval=1m");
    expect(parseRoute(hash)).toEqual({ page: "chart", params: { symbol: "BINANCE:BTCUSDT", source: "tradingview", interval: "1m" } });
  });

  it("open the chart for an empty or unknown fragment", () => {
    expect(parseRoute("").page).toBe("chart");
    expect(parseRoute("#/nowhere?x=1")).toEqual({ page: "chart", params: { x: "1" } });
  });

  it("leave out empty parameters", () => {
    expect(formatRoute("series", { symbol: "" })).toBe("#/series");
  });
});
