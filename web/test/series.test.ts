import { describe, expect, it } from "vitest";
import { spanOf, symbolRows } from "../src/core/series";
import type { SyncStatusBody } from "../src/core/sync";

const status = (symbol: string, interval: string, coverage: SyncStatusBody["coverage"] = null): SyncStatusBody => ({
  source: "tradingview", exchange: "BINANCE", symbol, interval, status: "completed",
  requested_at: null, started_at: null, finished_at: null, bars_written: 0, error: null, coverage,
});
const tracked = (symbol: string, intervals: string[], active = true) => ({ source: "tradingview", exchange: "BINANCE", symbol, description: symbol, active, intervals });

describe("symbolRows", () => {
  it("joins tracked intervals and synced series per symbol, intervals in their natural order", () => {
    const rows = symbolRows([tracked("BTCUSDT", ["1d", "1m"])], [status("BTCUSDT", "1h"), status("ETHUSDT", "5m")]);
    expect(rows.map((r) => [r.key.symbol, r.tracked, r.intervals.map((i) => `${i.interval}:${i.tracked ? "t" : "-"}:${i.status ? "s" : "-"}`)])).toEqual([
      ["BTCUSDT", true, ["1m:t:-", "1h:-:s", "1d:t:-"]],
      ["ETHUSDT", false, ["5m:-:s"]],
    ]);
  });

  it("leaves out symbols that are no longer tracked and never synced", () => {
    expect(symbolRows([tracked("XRPUSDT", ["1d"], false)], [])).toEqual([]);
  });
});

describe("spanOf", () => {
  it("turns the coverage's ISO times into epoch seconds with the interval's length", () => {
    const coverage = { first_bar_time: "2024-01-01T00:00:00Z", last_bar_time: "2024-01-01T01:39:00Z", bar_count: 95, missing_bars: 5,
      gaps: [["2024-01-01T00:10:00Z", "2024-01-01T00:14:00Z"]] as Array<[string, string]> };
    expect(spanOf(status("BTCUSDT", "1m", coverage))).toEqual({
      first: 1_704_067_200, last: 1_704_073_140, intervalSeconds: 60, gaps: [[1_704_067_800, 1_704_068_040]],
    });
  });

  it("is null for a series with nothing stored", () => {
    expect(spanOf(status("BTCUSDT", "1m", null))).toBeNull();
    const empty = { first_bar_time: null, last_bar_time: null, bar_count: 0, missing_bars: 0, gaps: [] };
    expect(spanOf(status("BTCUSDT", "1m", empty))).toBeNull();
  });
});
