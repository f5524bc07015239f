/**
 * Bars as the chart holds them: sorted by `time` (epoch seconds, the bar's open), unique per time.
 *
 * Rules:
 * - A page from the API merges into the held bars by time; where both have a bar, the page's wins (it was
 *   read later).
 * - A live bar newer than the newest held bar is appended; one at the newest time replaces it in place (the
 *   forming bar moving); one at an older held time replaces that bar; one older than the newest and not
 *   held is ignored (the next history load brings it).
 */

export interface Bar {
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly partial: boolean;
}

/** One bar as the API sends it (REST rows and WebSocket `bar` frames share this shape). */
export interface ApiBar {
  readonly timestamp: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly partial?: boolean;
}

export function barOf(row: ApiBar): Bar {
  return {
    time: row.timestamp,
    open: row.open,
    high: row.high,
    low: row.low,
    close: row.close,
    volume: row.volume,
    partial: row.partial === true,
  };
}

/** Both inputs sorted ascending and unique by time; the result too. */
export function mergeBars(held: readonly Bar[], page: readonly Bar[]): Bar[] {
  if (page.length === 0) return held.slice();
  if (held.length === 0) return page.slice();
  if (page[page.length - 1].time < held[0].time) return page.concat(held);
  if (page[0].time > held[held.length - 1].time) return held.concat(page);
  return mergeSorted(held, page);
}

function mergeSorted(held: readonly Bar[], page: readonly Bar[]): Bar[] {
  const merged: Bar[] = [];
  let i = 0;
  let j = 0;
  while (i < held.length || j < page.length) {
    const a = held[i];
    const b = page[j];
    if (b === undefined || (a !== undefined && a.time < b.time)) {
      merged.push(a);
      i += 1;
    } else {
      if (a !== undefined && a.time === b.time) i += 1;
      merged.push(b);
      j += 1;
    }
  }
  return merged;
}

export type LiveOutcome = "append" | "replace-last" | "replace-older" | "ignore";

/** Applies a live bar to `bars` in place and says what changed, so the chart can do the same cheaply. */
export function applyLiveBar(bars: Bar[], bar: Bar): LiveOutcome {
  const last = bars[bars.length - 1];
  if (last === undefined || bar.time > last.time) {
    bars.push(bar);
    return "append";
  }
  if (bar.time === last.time) {
    bars[bars.length - 1] = bar;
    return "replace-last";
  }
  const index = indexOfTime(bars, bar.time);
  if (index < 0) return "ignore";
  bars[index] = bar;
  return "replace-older";
}

/** Binary search; -1 when no bar has that time. */
export function indexOfTime(bars: readonly Bar[], time: number): number {
  let lo = 0;
  let hi = bars.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = bars[mid].time;
    if (t === time) return mid;
    if (t < time) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
