/** The 13 intervals the API knows, with their lengths in seconds (a month counts 31 days on a time axis). */

export const INTERVALS = ["1m", "3m", "5m", "15m", "30m", "45m", "1h", "2h", "3h", "4h", "1d", "1w", "1M"] as const;

export type IntervalCode = (typeof INTERVALS)[number];

const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3_600, d: 86_400, w: 604_800, M: 2_678_400 };

export function isInterval(code: string): code is IntervalCode {
  return (INTERVALS as readonly string[]).includes(code);
}

export function intervalSeconds(code: IntervalCode): number {
  return Number(code.slice(0, -1)) * UNIT_SECONDS[code.slice(-1)];
}
