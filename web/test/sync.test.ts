import { describe, expect, it } from "vitest";
import { type SyncStatusBody, pollUntilFinished, progressText } from "../src/core/sync";

const status = (s: string, extra: Partial<SyncStatusBody> = {}): SyncStatusBody => ({
  source: "tradingview", exchange: "BINANCE", symbol: "BTCUSDT", interval: "1m", status: s,
  requested_at: "2024-01-01T00:00:00Z", started_at: null, finished_at: null, bars_written: 0, error: null, ...extra,
});

function clock() {
  let now = 0;
  return { now: () => now, sleep: async (ms: number) => void (now += ms) };
}

describe("pollUntilFinished", () => {
  it("reads until the run completes and reports every status read", async () => {
    const answers = [status("pending"), status("syncing"), status("syncing", { bars_written: 10 }), status("completed", { bars_written: 20 })];
    const seen: string[] = [];
    const c = clock();
    const done = await pollUntilFinished(async () => answers.shift()!, (s) => seen.push(s.status), { everyMs: 500, timeoutMs: 60_000, ...c });
    expect(done.status).toBe("completed");
    expect(seen).toEqual(["pending", "syncing", "syncing", "completed"]);
    expect(c.now()).toBe(1_500);
  });

  it("ends with an error status as finished", async () => {
    const done = await pollUntilFinished(async () => status("error", { error: "upstream refused" }), () => undefined, { everyMs: 500, timeoutMs: 60_000, ...clock() });
    expect(done.error).toBe("upstream refused");
  });

  it("gives up at the deadline and returns the last status read", async () => {
    const c = clock();
    const done = await pollUntilFinished(async () => status("syncing"), () => undefined, { everyMs: 1_000, timeoutMs: 5_000, ...c });
    expect(done.status).toBe("syncing");
    expect(c.now()).toBe(5_000);
  });
});

describe("progressText", () => {
  it("says the status, the time since the run started and the bars written", () => {
    const s = status("syncing", { started_at: "2024-01-01T00:00:00Z", bars_written: 4_000 });
    expect(progressText(s, Date.parse("2024-01-01T00:00:12Z"))).toBe("syncing · 12 s · 4,000 bars written");
  });

  it("measures a finished run to its end and shows its error", () => {
    const s = status("error", { started_at: "2024-01-01T00:00:00Z", finished_at: "2024-01-01T00:00:03Z", error: "timeout" });
    expect(progressText(s, Date.parse("2024-01-01T01:00:00Z"))).toBe("error · 3 s · 0 bars written · timeout");
  });

  it("says nothing about bars before a pending run starts", () => {
    expect(progressText(status("pending", { requested_at: "2024-01-01T00:00:00Z" }), Date.parse("2024-01-01T00:00:02Z"))).toBe("pending · 2 s");
  });
});
