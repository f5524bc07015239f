/** The service's routes the app uses, each a typed function over `Api`. */

import type { ApiBar } from "../core/bars";
import type { SyncStatusBody } from "../core/sync";
import type { Answer, Api, Query } from "./client";

export const API = "/api/v1";
const MARKET = `${API}/market-data`;

export interface SeriesRef {
  readonly source: string;
  readonly exchange: string;
  readonly symbol: string;
}

export interface SymbolMatch extends SeriesRef {
  readonly description: string;
  readonly type: string;
  readonly currency: string;
  readonly country: string;
}

export interface TrackedSymbol extends SeriesRef {
  readonly description: string;
  readonly active: boolean;
  readonly intervals: readonly string[];
}

export interface BarsBody {
  readonly count: number;
  readonly bars: readonly ApiBar[];
  readonly [key: string]: unknown;
}

const path = (s: SeriesRef) => `${encodeURIComponent(s.exchange)}/${encodeURIComponent(s.symbol)}`;

export function ticker(s: SeriesRef): string {
  return `${s.exchange}:${s.symbol}`;
}

export function parseTicker(text: string): { exchange: string; symbol: string } | null {
  const [exchange, symbol] = text.split(":", 2);
  return exchange && symbol ? { exchange, symbol } : null;
}

export const searchSymbols = (api: Api, q: string) =>
  api.get<SymbolMatch[]>(`${MARKET}/symbols/search`, { q });

export function barsUrl(s: SeriesRef, interval: string): string {
  return `${MARKET}/ohlcv/${path(s)}?source=${encodeURIComponent(s.source)}&interval=${encodeURIComponent(interval)}`;
}

export const fetchBars = (api: Api, url: string, query: Query = {}): Promise<Answer<BarsBody>> =>
  api.get<BarsBody>(url, query);

export const listTracked = (api: Api) => api.get<TrackedSymbol[]>(`${MARKET}/symbols`);

export const track = (api: Api, s: SeriesRef, intervals: readonly string[]) =>
  api.post<TrackedSymbol>(`${MARKET}/symbols`, { ...s, intervals });

export const untrack = (api: Api, s: SeriesRef, intervals: readonly string[] = []) =>
  api.delete<TrackedSymbol>(`${MARKET}/symbols/${path(s)}`, { source: s.source, intervals });

export const syncStatuses = (api: Api) => api.get<SyncStatusBody[]>(`${MARKET}/sync-status`);

export const syncStatus = (api: Api, s: SeriesRef, interval: string) =>
  api.get<SyncStatusBody>(`${MARKET}/sync-status/${path(s)}/${encodeURIComponent(interval)}`, { source: s.source });

export interface SyncOptions {
  readonly nBars: number;
  /** Re-fetch the whole window even where bars are stored (the repair option of newer servers). */
  readonly refresh: boolean;
}

export function startSync(api: Api, s: SeriesRef, interval: string, options: SyncOptions) {
  const body: Record<string, unknown> = { ...s, interval, n_bars: options.nBars };
  if (options.refresh) body.refresh = true;
  return api.post<SyncStatusBody>(`${MARKET}/sync/background`, body);
}

export const indicatorsUrl = (s: SeriesRef) => `${API}/indicators/${path(s)}`;

/** The indicators catalog: names, parameters with defaults and bounds, outputs. */
export const listIndicators = (api: Api) => api.get<unknown>(`${API}/indicators`);

export function fetchIndicators(api: Api, s: SeriesRef, interval: string, specs: readonly string[], range: Query) {
  return api.get<unknown>(indicatorsUrl(s), { source: s.source, interval, indicators: specs.join(","), ...range });
}

export const listAlerts = (api: Api) => api.get<unknown>(`${API}/alerts`);

export interface AlertBody {
  readonly id: string;
  readonly source: string;
  readonly symbol: string;
  readonly interval: string | null;
  readonly condition: Record<string, unknown> & { readonly kind: string };
  readonly cooldown_s: number;
  readonly one_time: boolean;
  readonly channels: readonly string[];
  readonly note: string;
  readonly status: string;
  readonly trigger_count: number;
  readonly last_triggered_at: string | null;
}

export interface AlertTrigger {
  readonly triggered_at: string;
  readonly values: Readonly<Record<string, number>>;
  readonly late: boolean;
  readonly trigger_count: number;
}

const alertUrl = (id: string) => `${API}/alerts/${encodeURIComponent(id)}`;
export const createAlert = (api: Api, body: Record<string, unknown>) => api.post<AlertBody>(`${API}/alerts`, body);
/** Replaces every setting of the rule (PUT: the body of a create). */
export const replaceAlert = (api: Api, id: string, body: Record<string, unknown>) =>
  api.request<AlertBody>("PUT", alertUrl(id), body);
export const switchAlert = (api: Api, id: string, on: boolean) =>
  api.post<AlertBody>(`${alertUrl(id)}/${on ? "enable" : "disable"}`, undefined);
export const deleteAlert = (api: Api, id: string) => api.delete<null>(alertUrl(id));
export const alertTriggers = (api: Api, id: string) => api.get<AlertTrigger[]>(`${alertUrl(id)}/events`);
