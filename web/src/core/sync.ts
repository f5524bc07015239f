/**
 * Sync runs as the Series page shows them: start one in the background, poll its status until it ends.
 * Statuses: pending → syncing → completed | error (the service's transition table).
 */

export interface SyncStatusBody {
  readonly source: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly interval: string;
  readonly status: string;
  readonly requested_at: string | null;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly bars_written: number;
  readonly error: string | null;
  readonly coverage?: {
    readonly first_bar_time: string | null;
    readonly last_bar_time: string | null;
    readonly bar_count: number;
    readonly missing_bars: number;
    readonly misplaced_bars?: number;
    readonly gaps: ReadonlyArray<readonly [string, string]>;
  } | null;
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "error"]);

export function isFinished(status: SyncStatusBody): boolean {
  return TERMINAL_STATUSES.has(status.status);
}

/** One line saying where a run stands, e.g. "syncing · 12 s · 4,000 bars written". */
export function progressText(status: SyncStatusBody, nowMs: number): string {
  const parts = [status.status];
  const since = Date.parse(status.started_at ?? status.requested_at ?? "");
  const until = status.finished_at ? Date.parse(status.finished_at) : nowMs;
  if (Number.isFinite(since)) parts.push(`${Math.max(0, Math.round((until - since) / 1000))} s`);
  if (status.status !== "pending") parts.push(`${status.bars_written.toLocaleString("en-US")} bars written`);
  if (status.error) parts.push(status.error);
  return parts.join(" · ");
}

export interface PollOptions {
  readonly everyMs: number;
  readonly timeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** Reads the status until it is finished (or the time is up: then the last status read is returned). */
export async function pollUntilFinished(
  read: () => Promise<SyncStatusBody>,
  onUpdate: (status: SyncStatusBody) => void,
  options: PollOptions,
): Promise<SyncStatusBody> {
  const deadline = options.now() + options.timeoutMs;
  let status = await read();
  onUpdate(status);
  while (!isFinished(status) && options.now() < deadline) {
    await options.sleep(options.everyMs);
    status = await read();
    onUpdate(status);
  }
  return status;
}
