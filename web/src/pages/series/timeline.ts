/** One coverage timeline: the stored range as a band, each gap as a red mark you can hover for its dates. */

import { type Axis, type CoverageSpan, axisOf, missingBars, timelineOf } from "../../core/coverage";
import { formatCount, formatTime } from "../../core/format";
import { h } from "../../ui/dom";

function place(element: HTMLElement, left: number, width: number): HTMLElement {
  element.style.left = `${(left * 100).toFixed(3)}%`;
  element.style.width = `${(width * 100).toFixed(3)}%`;
  return element;
}

/** `shared`: the axis every row uses; null: the series' own range. */
export function timelineElement(span: CoverageSpan | null, shared: Axis | null): HTMLElement {
  const track = h("div", { class: "timeline", data: { gaps: String(span?.gaps.length ?? 0) } });
  const axis = shared ?? (span && axisOf([span]));
  if (span === null || axis === null) {
    track.append(h("span", { class: "timeline-empty", text: "no bars stored" }));
    return track;
  }
  const timeline = timelineOf(span, axis);
  track.append(place(h("div", { class: "timeline-band", title: `${formatTime(span.first)} → ${formatTime(span.last)}` }), timeline.band.left, timeline.band.width));
  for (const [index, segment] of timeline.gaps.entries()) {
    const gap = span.gaps[Math.min(index, span.gaps.length - 1)];
    const title = timeline.gaps.length === span.gaps.length
      ? `gap: ${formatTime(gap[0])} → ${formatTime(gap[1])} (${formatCount(missingBars(gap, span.intervalSeconds))} bars missing)`
      : "gaps";
    track.append(place(h("div", { class: "timeline-gap", title }), segment.left, segment.width));
  }
  return track;
}

export function axisElement(axis: Axis | null): HTMLElement {
  if (axis === null) return h("div", { class: "timeline-axis" }, h("span", { text: "first bar" }), h("span", { text: "last bar" }));
  return h("div", { class: "timeline-axis" }, h("span", { text: formatTime(axis.from) }), h("span", { text: formatTime(axis.to) }));
}
