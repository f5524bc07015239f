/**
 * Reconnect delays: exponential from `baseMs`, capped at `capMs`, with "equal jitter" (a delay is uniformly
 * between half and all of the exponential value) so that many browsers cut off at once do not return at once.
 * The count of consecutive failures starts again at 1 only when the lost connection had stayed up for
 * `stableMs`: a server that accepts and drops at once keeps the delays growing.
 */

export interface BackoffPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  readonly stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000, stableMs: 5_000 };

/** The wait before the next try after `failures` (>= 1) consecutive failures; `random` in [0, 1). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: number): number {
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return exponential / 2 + (exponential / 2) * random;
}

/** Consecutive failures once a connection that stayed up `upMs` (null: it never opened) is lost. */
export function failuresAfter(failures: number, upMs: number | null, policy: BackoffPolicy): number {
  if (upMs !== null && upMs >= policy.stableMs) return 1;
  return failures + 1;
}
