import { describe as suite, expect, it } from "vitest";
import { type ConditionForm, alertNotice, conditionOf, describe, formOf, KINDS, noticeText } from "../src/core/alerts";

const FORM: ConditionForm = { kind: "price_crosses", value: "70000", period: "", direction: "up", option: "" };

suite("alert conditions", () => {
  it("build the API's condition from the form, numbers as numbers", () => {
    expect(conditionOf(FORM)).toEqual({ kind: "price_crosses", level: 70000, direction: "up" });
    expect(conditionOf({ ...FORM, kind: "rsi_above", value: "70", period: "21" }))
      .toEqual({ kind: "rsi_above", level: 70, period: 21 });
    expect(conditionOf({ ...FORM, kind: "percent_change", value: "-2.5", period: "600" }))
      .toEqual({ kind: "percent_change", percent: -2.5, window_s: 600 });
    expect(conditionOf({ ...FORM, kind: "price_crosses_ma", period: "50", option: "ema", direction: "either" }))
      .toEqual({ kind: "price_crosses_ma", average: "ema", period: 50, direction: "either" });
  });

  it("leave optional fields to the service's defaults and bad numbers for it to name", () => {
    expect(conditionOf({ ...FORM, kind: "volume_spike", value: "3" })).toEqual({ kind: "volume_spike", multiplier: 3 });
    expect(conditionOf({ ...FORM, kind: "price_above", value: "high" })).toEqual({ kind: "price_above", level: "high" });
    expect(conditionOf({ ...FORM, kind: "price_crosses_bollinger", option: "" }))
      .toEqual({ kind: "price_crosses_bollinger", band: "upper" });
  });

  it("say every kind in words", () => {
    expect(describe({ kind: "price_crosses", level: 100, direction: "either" })).toBe("price crosses 100");
    expect(describe({ kind: "price_crosses", level: 100, direction: "down" })).toBe("price crosses down 100");
    expect(describe({ kind: "rsi_below", level: 30, period: 14 })).toBe("RSI(14) below 30");
    expect(describe({ kind: "price_crosses_ma", average: "sma", period: 50, direction: "up" }))
      .toBe("close crosses up SMA(50)");
    for (const kind of KINDS) expect(describe({ kind })).not.toContain("{");
  });
});

suite("editing a rule", () => {
  it("fills the form that builds the rule's condition again", () => {
    const forms: ConditionForm[] = [
      FORM,
      { ...FORM, kind: "rsi_above", value: "70", period: "21", direction: "either" },
      { ...FORM, kind: "percent_change", value: "-2.5", period: "600", direction: "either" },
      { ...FORM, kind: "volume_spike", value: "3", period: "20", direction: "either" },
      { ...FORM, kind: "price_crosses_ma", value: "", period: "50", option: "ema", direction: "down" },
      { ...FORM, kind: "price_crosses_bollinger", value: "", period: "20", option: "lower", direction: "either" },
    ];
    for (const form of forms) expect(conditionOf(formOf(conditionOf(form)))).toEqual(conditionOf(form));
    expect(formOf({ kind: "price_crosses", level: 70000, direction: "up" }))
      .toEqual({ kind: "price_crosses", value: "70000", period: "", direction: "up", option: "" });
    expect(formOf({ kind: "percent_change", percent: 5, window_s: 60 }).period).toBe("60");
  });
});

const FRAME = {
  type: "alert", rule_id: "r1", owner: "u1", source: "tradingview", symbol: "BINANCE:BTCUSDT", interval: null,
  condition: { kind: "price_crosses", level: 100, direction: "up" }, values: { price: 101.5, level: 100 },
  triggered_at: "2026-11-29T22:30:00Z", late: false, trigger_count: 1, channels: ["websocket"], note: "breakout",
};

suite("alert notifications", () => {
  it("read an alert frame: the rule, symbol, condition in words, values and time", () => {
    const notice = alertNotice(FRAME);
    expect(notice).toEqual({
      ruleId: "r1", symbol: "BINANCE:BTCUSDT", condition: "price crosses up 100", values: "price 101.5, level 100",
      triggeredAt: "2026-11-29T22:30:00Z", note: "breakout", late: false,
    });
    expect(noticeText(notice!)).toBe("BINANCE:BTCUSDT: price crosses up 100 (price 101.5, level 100) at 2026-11-29T22:30:00Z · breakout");
    expect(noticeText(alertNotice({ ...FRAME, values: {}, note: "", late: true, source: "binance" })!))
      .toBe("binance:BINANCE:BTCUSDT: price crosses up 100 at 2026-11-29T22:30:00Z (late)");
  });

  it("ignore other frames and alert frames missing what a notice needs", () => {
    expect(alertNotice({ type: "tick", symbol: "BINANCE:BTCUSDT", price: 1 })).toBeNull();
    expect(alertNotice({ ...FRAME, rule_id: undefined })).toBeNull();
    expect(alertNotice({ ...FRAME, condition: "price" })).toBeNull();
    expect(alertNotice({ ...FRAME, triggered_at: 5 })).toBeNull();
  });
});
