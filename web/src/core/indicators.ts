/**
 * Indicators as the service defines them (`GET /api/v1/indicators`, the catalog) and computes them
 * (`GET /api/v1/indicators/{exchange}/{symbol}`, a table of rows).
 *
 * Rules (the service's, `src/domain/indicators/spec.py`):
 * - A spec is `name[:param...]`; parameters come in the catalog's order, and trailing ones left out take
 *   their defaults (`macd:5` is `macd:5:26:9`); here a bare name is its parameters' defaults (`sma` is
 *   `sma:20`), so every spec the app sends names one set of parameters. Integer parameters must be integers;
 *   every parameter lies within its bounds.
 * - A spec's text writes each parameter the shortest way (`2.0` as `2`), its columns are
 *   `<output>_<params joined by "_">` (`bb_upper_20_2`), or `<output>` without parameters (`vwap`).
 * - Moving averages, bands and VWAP are drawn over the price, `volume_sma` over the volume, every other
 *   indicator in a pane of its own.
 */

export interface ParameterInfo {
  readonly name: string;
  readonly default: number;
  readonly minimum: number;
  readonly maximum: number;
  readonly type: "integer" | "number";
}

export interface IndicatorInfo {
  readonly name: string;
  readonly title: string;
  readonly parameters: readonly ParameterInfo[];
  readonly outputs: readonly string[];
}

export interface IndicatorSpec {
  readonly name: string;
  readonly params: readonly number[];
  readonly text: string;
  readonly columns: readonly string[];
  readonly pane: string;
}

const PRICE_OVERLAYS = new Set(["sma", "ema", "bb", "vwap"]);
const VOLUME_OVERLAYS = new Set(["volume_sma"]);

/** The toggles the chart offers (those the service knows); any other spec can be typed in. */
export const PRESETS: readonly string[] = ["sma:20", "sma:50", "ema:12", "ema:26", "bb:20:2", "vwap", "rsi:14", "macd:12:26:9", "volume_sma:20"];

export class IndicatorCatalog {
  private readonly byName: ReadonlyMap<string, IndicatorInfo>;

  constructor(indicators: readonly IndicatorInfo[]) {
    this.byName = new Map(indicators.map((info) => [info.name, info]));
  }

  /** The catalog from `GET /api/v1/indicators`' body. */
  static of(body: unknown): IndicatorCatalog {
    const list = typeof body === "object" && body !== null ? (body as { indicators?: unknown }).indicators : undefined;
    return new IndicatorCatalog(Array.isArray(list) ? (list as IndicatorInfo[]) : []);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  /** The spec `text` names, or why it names none. */
  parse(text: string): IndicatorSpec | { readonly problem: string } {
    const [rawName, ...rawParams] = text.trim().toLowerCase().split(":");
    const info = this.byName.get(rawName);
    if (info === undefined) return { problem: `unknown indicator '${rawName}'; known: ${this.names.sort().join(", ")}` };
    if (rawParams.length > info.parameters.length) {
      return { problem: `${info.name} takes ${info.parameters.length} parameter${info.parameters.length === 1 ? "" : "s"}` };
    }
    const params: number[] = [];
    for (const [index, parameter] of info.parameters.entries()) {
      const raw = rawParams[index];
      const value = raw === undefined || raw === "" ? parameter.default : Number(raw);
      const problem = parameterProblem(parameter, value, raw);
      if (problem !== null) return { problem: `${info.name}: ${problem}` };
      params.push(value);
    }
    return specOf(info, params);
  }
}

function parameterProblem(parameter: ParameterInfo, value: number, raw: string | undefined): string | null {
  if (!Number.isFinite(value) || (parameter.type === "integer" && !Number.isInteger(value))) {
    return `${parameter.name} must be ${parameter.type === "integer" ? "an integer" : "a finite number"}, got ${raw}`;
  }
  if (value < parameter.minimum || value > parameter.maximum) {
    return `${parameter.name} must be within ${parameter.minimum}..${parameter.maximum}, got ${raw}`;
  }
  return null;
}

function specOf(info: IndicatorInfo, params: readonly number[]): IndicatorSpec {
  const written = params.map(String); // the shortest form that reads back, as the service writes it
  const suffix = written.map((p) => `_${p}`).join("");
  const text = [info.name, ...written].join(":");
  const pane = PRICE_OVERLAYS.has(info.name) ? "price" : VOLUME_OVERLAYS.has(info.name) ? "volume" : text;
  return { name: info.name, params, text, columns: info.outputs.map((output) => output + suffix), pane };
}

export function isSpec(parsed: IndicatorSpec | { readonly problem: string }): parsed is IndicatorSpec {
  return !("problem" in parsed);
}

export interface Point {
  readonly time: number;
  readonly value: number;
}

/** One column of the table's rows as chart points; rows before warm-up (null) are left out. */
export function pointsOf(rows: ReadonlyArray<Record<string, unknown>>, column: string): Point[] {
  const points: Point[] = [];
  for (const row of rows) {
    const value = row[column];
    const time = row.timestamp;
    if (typeof value === "number" && Number.isFinite(value) && typeof time === "number") points.push({ time, value });
  }
  return points;
}

export interface IndicatorTable {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<Record<string, unknown>>;
}

/** `GET /indicators/{exchange}/{symbol}` as JSON: `{"indicators", "columns", "count", "rows": [...]}`. */
export function tableOf(body: unknown): IndicatorTable {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  return {
    columns: Array.isArray(record.columns) ? (record.columns as string[]) : [],
    rows: Array.isArray(record.rows) ? (record.rows as Array<Record<string, unknown>>) : [],
  };
}

/** The rows of a listing: a bare array, or the first array among the usual envelope fields. */
export function rowsOf(body: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(body)) return body as Array<Record<string, unknown>>;
  if (typeof body !== "object" || body === null) return [];
  const record = body as Record<string, unknown>;
  for (const field of ["rows", "values", "data", "indicators", "bars"]) {
    if (Array.isArray(record[field])) return record[field] as Array<Record<string, unknown>>;
  }
  return [];
}
