import { describe as suite, expect, it } from "vitest";
import { type ConditionForm, conditionOf, describe, KINDS } from "../src/core/alerts";

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
