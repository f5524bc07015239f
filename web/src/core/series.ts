/**
 * The Series page's rows: every tracked symbol and every series with a recorded sync, grouped by symbol,
 * one line per interval (tracked intervals and synced ones alike), intervals in their natural order.
 */

import type { CoverageSpan } from "./coverage";
import { INTERVALS, type IntervalCode, intervalSeconds, isInterval } from "./intervals";
import type { SyncStatusBody } from "./sync";

export interface SymbolKey {
  readonly source: string;
  readonly exchange: string;
  readonly symbol: string;
}

export interface TrackedInput extends SymbolKey {
  readonly description: string;
  readonly active: boolean;
  readonly intervals: readonly string[];
}

export interface IntervalRow {
  readonly interval: IntervalCode;
  readonly tracked: boolean;
  readonly status: SyncStatusBody | null;
}

export interface SymbolRow {
  readonly key: SymbolKey;
  readonly description: string;
  readonly tracked: boolean;
  readonly intervals: readonly IntervalRow[];
}

const idOf = (k: SymbolKey) => `${k.source}|${k.exchange}|${k.symbol}`;

export function symbolRows(tracked: readonly TrackedInput[], statuses: readonly SyncStatusBody[]): SymbolRow[] {
  const rows = new Map<string, { key: SymbolKey; description: string; tracked: Set<string>; statuses: Map<string, SyncStatusBody> }>();
  const rowOf = (k: SymbolKey) => {
    const id = idOf(k);
    let row = rows.get(id);
    if (row === undefined) {
      row = { key: { source: k.source, exchange: k.exchange, symbol: k.symbol }, description: "", tracked: new Set(), statuses: new Map() };
      rows.set(id, row);
    }
    return row;
  };
  for (const t of tracked.filter((t) => t.active)) {
    const row = rowOf(t);
    row.description = t.description;
    for (const interval of t.intervals) row.tracked.add(interval);
  }
  for (const s of statuses) rowOf(s).statuses.set(s.interval, s);
  return [...rows.values()]
    .sort((a, b) => idOf(a.key).localeCompare(idOf(b.key)))
    .map((row) => ({
      key: row.key,
      description: row.description,
      tracked: row.tracked.size > 0,
      intervals: INTERVALS.filter((i) => row.tracked.has(i) || row.statuses.has(i)).map((interval) => ({
        interval,
        tracked: row.tracked.has(interval),
        status: row.statuses.get(interval) ?? null,
      })),
    }));
}

/** The stored range and gaps of a series, in epoch seconds; null when nothing is stored. */
export function spanOf(status: SyncStatusBody): CoverageSpan | null {
  const coverage = status.coverage;
  if (!coverage || coverage.first_bar_time === null || coverage.last_bar_time === null) return null;
  if (!isInterval(status.interval)) return null;
  return {
    first: seconds(coverage.first_bar_time),
    last: seconds(coverage.last_bar_time),
    intervalSeconds: intervalSeconds(status.interval),
    gaps: coverage.gaps.map(([a, b]) => [seconds(a), seconds(b)] as const),
  };
}

function seconds(iso: string): number {
  return Math.round(Date.parse(iso) / 1000);
}
