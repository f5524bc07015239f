/**
 * Indicator specs as the API takes them (`sma:20`, `bb:20:2`, `macd:12:26:9`) and the columns it answers
 * with: `<output>_<params joined by "_">` (`bb_upper_20_2`, `macd_signal_12_26_9`), `<output>` alone for an
 * indicator without parameters (`vwap`). Integer-valued parameters are written without a decimal point.
 * Overlays share the price pane; oscillators get a pane each.
 */

export interface IndicatorSpec {
  readonly name: string;
  readonly params: readonly number[];
}

const OUTPUTS: Record<string, readonly string[]> = {
  sma: ["sma"],
  ema: ["ema"],
  bb: ["bb_upper", "bb_middle", "bb_lower"],
  vwap: ["vwap"],
  rsi: ["rsi"],
  macd: ["macd", "macd_signal", "macd_hist"],
  stoch: ["stoch_k", "stoch_d"],
  atr: ["atr"],
  adx: ["adx"],
  volume_sma: ["volume_sma"],
};

const OVERLAYS = new Set(["sma", "ema", "bb", "vwap"]);

/** The toggles the chart offers; any other spec can be typed in. */
export const PRESETS: readonly string[] = ["sma:20", "sma:50", "ema:12", "ema:26", "bb:20:2", "vwap", "rsi:14", "macd:12:26:9"];

/** null when the text is not a spec of a known indicator. */
export function parseSpec(text: string): IndicatorSpec | null {
  const [name, ...rest] = text.trim().toLowerCase().split(":");
  if (!(name in OUTPUTS)) return null;
  const params = rest.map(Number);
  if (params.some((p) => !Number.isFinite(p) || p <= 0)) return null;
  return { name, params };
}

export function specText(spec: IndicatorSpec): string {
  return [spec.name, ...spec.params.map(String)].join(":");
}

export function columnsOf(spec: IndicatorSpec): string[] {
  const suffix = spec.params.map((p) => `_${String(p)}`).join("");
  return OUTPUTS[spec.name].map((output) => output + suffix);
}

/** "price" for overlays, else the pane's own name (one pane per oscillator spec). */
export function paneOf(spec: IndicatorSpec): string {
  return OVERLAYS.has(spec.name) ? "price" : specText(spec);
}

export interface Point {
  readonly time: number;
  readonly value: number;
}

/** One column of the API's rows as chart points; rows before warm-up (null) are left out. */
export function pointsOf(rows: ReadonlyArray<Record<string, unknown>>, column: string): Point[] {
  const points: Point[] = [];
  for (const row of rows) {
    const value = row[column];
    const time = row.timestamp;
    if (typeof value === "number" && Number.isFinite(value) && typeof time === "number") points.push({ time, value });
  }
  return points;
}

/** The rows of an indicators response: a bare array, or the first array among the usual envelope fields. */
export function rowsOf(body: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(body)) return body as Array<Record<string, unknown>>;
  if (typeof body !== "object" || body === null) return [];
  const record = body as Record<string, unknown>;
  for (const field of ["rows", "values", "data", "indicators", "bars"]) {
    if (Array.isArray(record[field])) return record[field] as Array<Record<string, unknown>>;
  }
  return [];
}
