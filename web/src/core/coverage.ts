/**
 * Coverage timelines: a series' stored range and its gaps laid on a shared time axis, as fractions of the
 * axis width (0 = the axis' start, 1 = its end) that the page turns into percentages.
 *
 * Rules:
 * - The axis spans every series in view (earliest first bar to latest bar end), so rows compare at a glance.
 * - A bar covers [open, open + interval): a series' band ends where its last bar ends; a gap of missing bars
 *   (first, last) covers [first, last + interval).
 * - A gap is never drawn narrower than `minWidth`, so a single missing bar on a year-long axis stays visible;
 *   gaps that touch or overlap once widened are drawn as one.
 * - Everything is clamped to the axis.
 */

export interface CoverageSpan {
  readonly first: number;
  readonly last: number;
  readonly intervalSeconds: number;
  readonly gaps: ReadonlyArray<readonly [number, number]>;
}

export interface Axis {
  readonly from: number;
  readonly to: number;
}

export interface Segment {
  readonly left: number;
  readonly width: number;
}

export interface Timeline {
  readonly band: Segment;
  readonly gaps: readonly Segment[];
}

export const MIN_GAP_WIDTH = 0.004;

export function axisOf(spans: readonly CoverageSpan[]): Axis | null {
  if (spans.length === 0) return null;
  const from = Math.min(...spans.map((s) => s.first));
  const to = Math.max(...spans.map((s) => s.last + s.intervalSeconds));
  return { from, to: Math.max(to, from + 1) };
}

export function timelineOf(span: CoverageSpan, axis: Axis, minWidth = MIN_GAP_WIDTH): Timeline {
  const band = segment(span.first, span.last + span.intervalSeconds, axis, 0);
  const gaps = span.gaps.map(([first, last]) => segment(first, last + span.intervalSeconds, axis, minWidth));
  return { band, gaps: joined(gaps) };
}

function fraction(time: number, axis: Axis): number {
  return clamp((time - axis.from) / (axis.to - axis.from));
}

function segment(start: number, end: number, axis: Axis, minWidth: number): Segment {
  const left = fraction(start, axis);
  const width = Math.max(fraction(end, axis) - left, minWidth);
  const clampedLeft = Math.min(left, 1 - width);
  return { left: Math.max(0, clampedLeft), width: Math.min(width, 1) };
}

function joined(segments: readonly Segment[]): Segment[] {
  const sorted = segments.slice().sort((a, b) => a.left - b.left);
  const out: Segment[] = [];
  for (const s of sorted) {
    const previous = out[out.length - 1];
    if (previous !== undefined && s.left <= previous.left + previous.width) {
      const right = Math.max(previous.left + previous.width, s.left + s.width);
      out[out.length - 1] = { left: previous.left, width: right - previous.left };
    } else {
      out.push(s);
    }
  }
  return out;
}

function clamp(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** The number of bars a gap (first, last) misses, both ends included. */
export function missingBars(gap: readonly [number, number], intervalSeconds: number): number {
  return Math.floor((gap[1] - gap[0]) / intervalSeconds) + 1;
}
