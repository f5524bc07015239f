/**
 * Alert rules as the app shows and builds them (issue 18): the condition a form describes, and a rule's
 * condition in words. Pure functions; the page (`pages/alerts`) renders them.
 */

export type ConditionKind =
  | "price_above" | "price_below" | "price_crosses" | "percent_change" | "volume_spike" | "rsi_above"
  | "rsi_below" | "macd_crosses_signal" | "price_crosses_bollinger" | "price_crosses_ma";

export const KINDS: readonly ConditionKind[] = [
  "price_above", "price_below", "price_crosses", "percent_change", "volume_spike", "rsi_above", "rsi_below",
  "macd_crosses_signal", "price_crosses_bollinger", "price_crosses_ma",
];

/** What the create form holds, as typed (text fields stay text until built). */
export interface ConditionForm {
  readonly kind: ConditionKind;
  readonly value: string; // the level, the percent, or the volume multiplier
  readonly period: string; // optional: the indicator's period, or the percent change's window in seconds
  readonly direction: "up" | "down" | "either";
  readonly option: string; // the Bollinger band (upper | lower) or the moving average (sma | ema)
}

export type Condition = Record<string, unknown> & { readonly kind: string };

function numberOf(text: string): number | string {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed === "" || !Number.isFinite(value) ? trimmed : value;  // the service names a bad value
}

/** The condition's JSON for the API; empty optional fields are left to the service's defaults. */
export function conditionOf(form: ConditionForm): Condition {
  const value = numberOf(form.value);
  const period = form.period.trim() === "" ? {} : { period: numberOf(form.period) };
  switch (form.kind) {
    case "price_above":
    case "price_below":
      return { kind: form.kind, level: value };
    case "price_crosses":
      return { kind: form.kind, level: value, direction: form.direction };
    case "percent_change":
      return { kind: form.kind, percent: value, window_s: numberOf(form.period) };
    case "volume_spike":
      return { kind: form.kind, multiplier: value, ...period };
    case "rsi_above":
    case "rsi_below":
      return { kind: form.kind, level: value, ...period };
    case "macd_crosses_signal":
      return { kind: form.kind, direction: form.direction };
    case "price_crosses_bollinger":
      return { kind: form.kind, band: form.option || "upper", ...period };
    case "price_crosses_ma":
      return { kind: form.kind, average: form.option || "sma", period: numberOf(form.period), direction: form.direction };
  }
}

/** A condition in words: "price crosses up 70000", "RSI(14) above 70". */
export function describe(condition: Condition): string {
  const c = condition as Record<string, unknown>;
  const direction = c.direction === undefined || c.direction === "either" ? "" : ` ${String(c.direction)}`;
  switch (c.kind) {
    case "price_above": return `price above ${String(c.level)}`;
    case "price_below": return `price below ${String(c.level)}`;
    case "price_crosses": return `price crosses${direction} ${String(c.level)}`;
    case "percent_change": return `change of ${String(c.percent)}% within ${String(c.window_s)}s`;
    case "volume_spike": return `volume ≥ ${String(c.multiplier)}× its SMA(${String(c.period)})`;
    case "rsi_above": return `RSI(${String(c.period)}) above ${String(c.level)}`;
    case "rsi_below": return `RSI(${String(c.period)}) below ${String(c.level)}`;
    case "macd_crosses_signal":
      return `MACD(${String(c.fast)},${String(c.slow)},${String(c.signal)}) crosses${direction} its signal`;
    case "price_crosses_bollinger":
      return `close crosses the ${String(c.band)} Bollinger band(${String(c.period)}, ${String(c.stddev)})`;
    case "price_crosses_ma":
      return `close crosses${direction} ${String(c.average).toUpperCase()}(${String(c.period)})`;
    default: return JSON.stringify(condition);
  }
}

function textOf(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/** The form that builds `condition` again: how an existing rule is shown for editing. */
export function formOf(condition: Condition): ConditionForm {
  const c = condition as Record<string, unknown>;
  const kind = (KINDS as readonly string[]).includes(c.kind as string) ? (c.kind as ConditionKind) : "price_above";
  const direction = c.direction === "up" || c.direction === "down" ? c.direction : "either";
  const value = textOf(c.level ?? c.percent ?? c.multiplier);
  const period = textOf(kind === "percent_change" ? c.window_s : c.period);
  return { kind, value, period, direction, option: textOf(c.band ?? c.average) };
}

/** What an `alert` frame of the live socket says, as the notification shows it. */
export interface AlertNotice {
  readonly ruleId: string;
  readonly symbol: string;
  readonly condition: string;
  readonly values: string;
  readonly triggeredAt: string;
  readonly note: string;
  readonly late: boolean;
}

/** The notice of an `alert` frame; null for any other frame or one missing what a notice needs. */
export function alertNotice(frame: Record<string, unknown>): AlertNotice | null {
  const { rule_id: ruleId, symbol, source, condition, values, triggered_at: triggeredAt } = frame;
  if (frame.type !== "alert" || typeof ruleId !== "string" || typeof symbol !== "string") return null;
  if (typeof condition !== "object" || condition === null || typeof triggeredAt !== "string") return null;
  const shown = values !== null && typeof values === "object"
    ? Object.entries(values as Record<string, unknown>).map(([name, value]) => `${name} ${String(value)}`).join(", ")
    : "";
  return {
    ruleId, symbol: typeof source === "string" && source !== "tradingview" ? `${source}:${symbol}` : symbol,
    condition: describe(condition as Condition), values: shown, triggeredAt,
    note: typeof frame.note === "string" ? frame.note : "", late: frame.late === true,
  };
}

/** The notice in one line: "BINANCE:BTCUSDT: price crosses up 100 (price 101, level 100) at 2026-…". */
export function noticeText(notice: AlertNotice): string {
  const values = notice.values === "" ? "" : ` (${notice.values})`;
  const note = notice.note === "" ? "" : ` · ${notice.note}`;
  return `${notice.symbol}: ${notice.condition}${values} at ${notice.triggeredAt}${notice.late ? " (late)" : ""}${note}`;
}
