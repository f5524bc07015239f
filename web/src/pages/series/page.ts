/**
 * The Series page: tracked symbols and synced series with per-interval coverage (first/last bar, count,
 * gaps on a shared time line), sync status with errors, "sync now" and "repair" with progress, track/untrack.
 */

import type { AppContext, PageView } from "../../app/context";
import { type SeriesRef, listTracked, parseTicker, startSync, syncStatus, syncStatuses, ticker, track, untrack } from "../../api/endpoints";
import { axisOf } from "../../core/coverage";
import { formatCount, formatTime } from "../../core/format";
import { INTERVALS } from "../../core/intervals";
import { type IntervalRow, type SymbolRow, spanOf, symbolRows } from "../../core/series";
import { type SyncStatusBody, isFinished, pollUntilFinished, progressText } from "../../core/sync";
import { h } from "../../ui/dom";
import { axisElement, timelineElement } from "./timeline";

const POLL = { everyMs: 500, timeoutMs: 15 * 60_000, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), now: () => Date.now() };

export function seriesPage(context: AppContext): PageView {
  const page = new SeriesPage(context);
  void page.load();
  return { element: page.element, dispose: () => page.dispose() };
}

class SeriesPage {
  readonly element: HTMLElement;
  private readonly table = h("div", { class: "series-table" });
  private readonly message = h("p", { class: "series-message" });
  private readonly nBars = h("input", { attrs: { type: "number", min: "1", max: "100000", value: "5000", "aria-label": "Bars per sync" } });
  private readonly axisMode = h("select", { attrs: { "aria-label": "Time line scale" } },
    h("option", { text: "time line per series", attrs: { value: "own" } }), h("option", { text: "one time line for all", attrs: { value: "shared" } }));
  private rows: readonly SymbolRow[] = [];
  /** The last progress line of each series' sync, kept across re-renders. */
  private readonly progress = new Map<string, { text: string; status: string }>();
  private running = 0;
  private disposed = false;
  private followUp: number | undefined;

  constructor(private readonly context: AppContext) {
    const refresh = h("button", { text: "Refresh", on: { click: () => void this.load() } });
    this.axisMode.addEventListener("change", () => this.render(this.rows));
    this.element = h("section", { class: "page series-page" },
      h("div", { class: "toolbar" }, h("h2", { text: "Series" }), refresh, h("label", { class: "inline" }, "Bars per sync ", this.nBars), this.axisMode),
      this.trackForm(), this.message, this.table);
  }

  dispose(): void {
    this.disposed = true;
    window.clearTimeout(this.followUp);
  }

  /** Reads every row again; while a run started elsewhere (the scheduler, another user) is on, every 2 s. */
  async load(): Promise<void> {
    window.clearTimeout(this.followUp);
    try {
      const [tracked, statuses] = await Promise.all([listTracked(this.context.api), syncStatuses(this.context.api)]);
      if (this.disposed) return;
      this.render(symbolRows(tracked.body, statuses.body));
      if (this.running === 0 && statuses.body.some((s) => !isFinished(s))) this.followUp = window.setTimeout(() => void this.load(), 2_000);
    } catch (error) {
      this.say(`Could not load series: ${(error as Error).message}`);
    }
  }

  /** Each series on its own time line (gaps stand out), or all on one (history depths compare). */
  private render(rows: readonly SymbolRow[]): void {
    this.rows = rows;
    const spans = rows.flatMap((r) => r.intervals.flatMap((i) => (i.status ? [spanOf(i.status)] : []))).filter((s) => s !== null);
    const axis = this.axisMode.value === "shared" ? axisOf(spans) : null;
    const header = h("div", { class: "series-row series-head" },
      ...["Interval", "Status", "First bar", "Last bar", "Bars", "Missing"].map((t) => h("span", { text: t })), axisElement(axis), h("span"));
    const blocks = rows.map((row) => this.symbolBlock(row, axis));
    this.table.replaceChildren(header, ...blocks);
    if (rows.length === 0) this.say("Nothing tracked or synced yet: track a symbol above, or open one on the Chart page.");
  }

  private symbolBlock(row: SymbolRow, axis: ReturnType<typeof axisOf>): HTMLElement {
    const ref: SeriesRef = row.key;
    const untrackAll = h("button", { class: "link", text: "untrack", data: { action: "untrack" }, on: { click: () => void this.act(() => untrack(this.context.api, ref)) } });
    const chart = h("a", { class: "link", text: "chart", attrs: { href: `#/chart?symbol=${encodeURIComponent(ticker(ref))}&source=${encodeURIComponent(ref.source)}` } });
    const title = h("div", { class: "symbol-title" },
      h("strong", { text: ticker(ref) }), h("span", { class: "badge", text: ref.source }), h("span", { class: "description", text: row.description }),
      row.tracked ? h("span", { class: "tag", text: "tracked" }) : h("span", { class: "tag muted", text: "not tracked" }), chart, row.tracked ? untrackAll : null);
    return h("div", { class: "symbol-block", data: { ticker: ticker(ref), source: ref.source } }, title, ...row.intervals.map((i) => this.intervalLine(ref, i, axis)));
  }

  private intervalLine(ref: SeriesRef, row: IntervalRow, axis: ReturnType<typeof axisOf>): HTMLElement {
    const s = row.status;
    const coverage = s?.coverage ?? null;
    const id = `${ref.source}|${ticker(ref)}|${row.interval}`;
    const last = this.progress.get(id);
    const progress = h("span", { class: "progress", text: last?.text ?? (s?.error ? `error: ${s.error}` : "") });
    if (last) progress.dataset.status = last.status;
    const sync = h("button", { text: "Sync now", data: { action: "sync" } });
    const repair = h("button", { text: "Repair", data: { action: "repair" }, title: "Fetch the whole window again, even where bars are stored" });
    const line = h("div", { class: "series-row", data: { interval: row.interval, status: s?.status ?? "none" } },
      h("span", { class: "interval-code", text: row.interval }),
      h("span", { class: `status status-${s?.status ?? "none"}`, text: s?.status ?? "never synced" }),
      h("span", { text: coverage?.first_bar_time ? formatTime(Date.parse(coverage.first_bar_time) / 1000) : "—" }),
      h("span", { text: coverage?.last_bar_time ? formatTime(Date.parse(coverage.last_bar_time) / 1000) : "—" }),
      h("span", { class: "num", text: coverage ? formatCount(coverage.bar_count) : "—" }),
      h("span", { class: "num", text: coverage ? formatCount(coverage.missing_bars) : "—" },
        coverage?.misplaced_bars ? h("span", { class: "tag warn", text: `${formatCount(coverage.misplaced_bars)} misplaced: repair`, title: "bars stored at no bar open of the symbol's trading calendar; Repair replaces them" }) : null),
      timelineElement(s ? spanOf(s) : null, axis),
      h("span", { class: "actions" }, sync, repair, row.tracked ? h("button", { class: "link", text: "untrack", on: { click: () => void this.act(() => untrack(this.context.api, ref, [row.interval])) } }) : null, progress),
    );
    sync.addEventListener("click", () => void this.runSync(ref, row.interval, false, [sync, repair], progress, id));
    repair.addEventListener("click", () => void this.runSync(ref, row.interval, true, [sync, repair], progress, id));
    return line;
  }

  private async runSync(ref: SeriesRef, interval: string, refresh: boolean, buttons: HTMLButtonElement[], progress: HTMLElement, id: string): Promise<void> {
    for (const b of buttons) b.disabled = true;
    this.running += 1;
    const say = (text: string, status: string) => {
      progress.textContent = text;
      progress.dataset.status = status;
      this.progress.set(id, { text, status });
    };
    const show = (status: SyncStatusBody) => say(`${refresh ? "repair: " : ""}${progressText(status, Date.now())}`, status.status);
    try {
      const started = await startSync(this.context.api, ref, interval, { nBars: Number(this.nBars.value) || 5000, refresh });
      show(started.body);
      const done = await pollUntilFinished(async () => (await syncStatus(this.context.api, ref, interval)).body, show, POLL);
      if (!isFinished(done)) say(`still ${done.status} after ${POLL.timeoutMs / 60_000} min; refresh later`, done.status);
    } catch (error) {
      say(`failed: ${(error as Error).message}`, "failed");
    } finally {
      this.running -= 1;
      for (const b of buttons) b.disabled = false;
    }
    if (this.running === 0) await this.load();
  }

  private async act(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
      await this.load();
    } catch (error) {
      this.say((error as Error).message);
    }
  }

  private trackForm(): HTMLElement {
    const symbol = h("input", { attrs: { placeholder: "EXCHANGE:SYMBOL", "aria-label": "Symbol to track" } });
    const source = h("input", { attrs: { value: "tradingview", "aria-label": "Source", size: "10" } });
    const boxes = INTERVALS.map((code) => h("input", { attrs: { type: "checkbox", value: code } }));
    boxes[INTERVALS.indexOf("1d")].checked = true;
    const submit = h("button", { class: "primary", text: "Track" });
    const form = h("form", { class: "track-form" }, symbol, source,
      h("span", { class: "interval-boxes" }, ...boxes.map((box) => h("label", {}, box, box.value))), submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const parsed = parseTicker(symbol.value.trim().toUpperCase());
      const intervals = boxes.filter((b) => b.checked).map((b) => b.value);
      if (parsed === null || intervals.length === 0) return this.say("Give EXCHANGE:SYMBOL and at least one interval.");
      void this.act(() => track(this.context.api, { ...parsed, source: source.value.trim() || "tradingview" }, intervals));
    });
    return form;
  }

  private say(text: string): void {
    this.message.textContent = text;
  }
}
