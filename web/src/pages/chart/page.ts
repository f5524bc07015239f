/**
 * The Chart page: pick a symbol (any source) and an interval; candles and volume from the stored history,
 * older pages as the user scrolls left, live bars over the WebSocket, indicator overlays, crosshair values.
 */

import type { AppContext, PageView } from "../../app/context";
import { type SeriesRef, barsUrl, fetchBars, parseTicker, startSync, syncStatus, ticker } from "../../api/endpoints";
import { applyLiveBar, barOf, type ApiBar } from "../../core/bars";
import { formatCount, formatTime } from "../../core/format";
import { INTERVALS, type IntervalCode, isInterval } from "../../core/intervals";
import { HistoryPager, type Page, olderLinkOf } from "../../core/paging";
import { pollUntilFinished, progressText } from "../../core/sync";
import type { Frame } from "../../live/socket";
import { h } from "../../ui/dom";
import { IndicatorPanel } from "./indicators";
import { Legend } from "./legend";
import { symbolSearch } from "./search";
import { ChartView } from "./view";

export const PAGE_BARS = 5_000;
const DEFAULT_INTERVAL: IntervalCode = "1h";

export function chartPage(context: AppContext, params: Readonly<Record<string, string>>): PageView {
  const interval = isInterval(params.interval ?? "") ? (params.interval as IntervalCode) : DEFAULT_INTERVAL;
  const parsed = parseTicker(params.symbol ?? "");
  const series: SeriesRef | null = parsed && { ...parsed, source: params.source || "tradingview" };
  const open = (next: Record<string, string>) =>
    context.navigate("chart", { symbol: series ? ticker(series) : "", source: series?.source ?? "", interval, ...next });

  const search = symbolSearch(context.api, series ? ticker(series) : "", (m) => open({ symbol: ticker(m), source: m.source }));
  const intervals = h("div", { class: "intervals", attrs: { role: "group", "aria-label": "Interval" } },
    ...INTERVALS.map((code) =>
      h("button", { class: code === interval ? "interval active" : "interval", text: code, data: { interval: code }, on: { click: () => open({ interval: code }) } }),
    ),
  );
  const toolbar = h("div", { class: "toolbar" }, search, intervals);
  const element = h("section", { class: "page chart-page" }, toolbar);
  if (series === null) {
    element.append(h("p", { class: "hint", text: "Search for a symbol to chart it." }));
    return { element, dispose: () => undefined };
  }
  const session = new ChartSession(context, series, interval);
  element.append(session.element);
  toolbar.append(session.indicators.element);
  requestAnimationFrame(() => void session.start());
  return { element, dispose: () => session.dispose() };
}

class ChartSession {
  readonly element: HTMLElement;
  readonly indicators: IndicatorPanel;
  private readonly chartBox = h("div", { class: "chart", data: { bars: "0", liveUpdates: "0", closedBars: "0" } });
  private readonly status = h("div", { class: "chart-status" });
  private readonly legend = new Legend();
  private readonly view: ChartView;
  private readonly pager: HistoryPager;
  private readonly title: string;
  private readonly cleanups: Array<() => void> = [];
  private liveUpdates = 0;
  private closedBars = 0;
  private subscribed = 0;
  private disposed = false;

  constructor(
    private readonly context: AppContext,
    private readonly series: SeriesRef,
    private readonly interval: IntervalCode,
  ) {
    this.title = `${ticker(series)} · ${interval} · ${series.source}`;
    this.element = h("div", { class: "chart-area" }, this.legend.element, this.chartBox, this.status);
    this.view = new ChartView(this.chartBox);
    this.pager = new HistoryPager((url) => this.fetchPage(url));
    this.indicators = new IndicatorPanel(context.api, series, interval, this.view, () => this.loadedRange());
    this.view.onHover((hover) => this.legend.show(this.title, hover.time === null ? this.newestHover() : hover));
    this.view.onNearStart(() => void this.loadOlder());
  }

  async start(): Promise<void> {
    try {
      await this.pager.loadLatest();
    } catch (error) {
      return this.say(`Could not load ${this.title}: ${(error as Error).message}`);
    }
    if (this.disposed) return;
    if (this.pager.bars.length === 0) return this.offerSync();
    this.view.setBars(this.pager.bars);
    this.view.fitRecent(150);
    this.describe();
    this.markReady();
    this.goLive();
    void this.indicators.probe();
  }

  dispose(): void {
    this.disposed = true;
    for (const cleanup of this.cleanups) cleanup();
    this.view.dispose();
  }

  /** The newest page (`url` null) or one the service linked to. */
  private async fetchPage(url: string | null): Promise<Page> {
    const { body, response } = await fetchBars(this.context.api, url ?? barsUrl(this.series, this.interval), url === null ? { limit: PAGE_BARS } : {});
    return { bars: body.bars.map(barOf), olderUrl: olderLinkOf(response.headers.get("Link"), body) };
  }

  private async loadOlder(): Promise<void> {
    if (this.pager.busy || this.pager.exhausted) return;
    this.say("Loading older bars…");
    try {
      const added = await this.pager.loadOlder();
      if (this.disposed) return;
      if (added > 0) {
        this.view.setBars(this.pager.bars);
        void this.indicators.refresh();
      }
      this.describe();
    } catch (error) {
      this.say(`Could not load older bars: ${(error as Error).message}`);
    }
  }

  private goLive(): void {
    const socket = this.context.socket;
    const subscription = { source: this.series.source, symbols: [ticker(this.series)], intervals: [this.interval] };
    this.cleanups.push(socket.onFrame((frame) => this.onFrame(frame)));
    this.cleanups.push(socket.onReopen(() => void this.reload()));
    this.cleanups.push(() => socket.unsubscribe(subscription));
    socket.start();
    socket.subscribe(subscription);
  }

  private onFrame(frame: Frame): void {
    if (frame.type === "error") return this.say(`Live: ${String(frame.detail ?? frame.error)}`);
    if (frame.type === "subscribed" && Array.isArray(frame.symbols) && frame.symbols.includes(ticker(this.series))) {
      this.subscribed += 1; // the service follows this symbol upstream from now on
      this.chartBox.dataset.subscribed = String(this.subscribed);
      return;
    }
    if (frame.symbol !== ticker(this.series) || frame.source !== this.series.source) return;
    if (frame.type === "bar") return this.onBar(frame);
    // Right after `subscribed`: the forming bars the service holds, so the chart has them before the next tick.
    if (frame.type === "snapshot" && Array.isArray(frame.bars)) for (const bar of frame.bars as Frame[]) this.onBar(bar);
  }

  private onBar(frame: Frame): void {
    if (frame.interval !== this.interval) return;
    const bar = barOf(frame as unknown as ApiBar);
    this.view.live(applyLiveBar(this.pager.bars, bar), bar);
    this.liveUpdates += 1;
    this.chartBox.dataset.liveUpdates = String(this.liveUpdates);
    if (frame.closed === true) {
      this.closedBars += 1;
      this.chartBox.dataset.closedBars = String(this.closedBars);
      void this.indicators.refresh();
    }
    this.legend.show(this.title, this.newestHover());
  }

  /** After a reconnect: what closed meanwhile comes from the store. */
  private async reload(): Promise<void> {
    try {
      await this.pager.loadLatest();
      if (!this.disposed) this.view.setBars(this.pager.bars);
    } catch (error) {
      this.say(`Could not reload after reconnecting: ${(error as Error).message}`);
    }
  }

  private offerSync(): void {
    const button = h("button", { class: "primary", text: `Sync ${formatCount(PAGE_BARS)} bars`, data: { action: "sync-empty" } });
    button.addEventListener("click", () => void this.syncThenLoad(button));
    this.status.replaceChildren(`No stored bars for ${this.title}. `, button);
  }

  private async syncThenLoad(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await startSync(this.context.api, this.series, this.interval, { nBars: PAGE_BARS, refresh: false });
      const done = await pollUntilFinished(
        async () => (await syncStatus(this.context.api, this.series, this.interval)).body,
        (status) => this.say(`Sync: ${progressText(status, Date.now())}`),
        { everyMs: 500, timeoutMs: 600_000, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now() },
      );
      if (done.status === "completed") await this.start();
    } catch (error) {
      this.say(`Sync failed: ${(error as Error).message}`);
      button.disabled = false;
    }
  }

  private loadedRange() {
    const bars = this.pager.bars;
    if (bars.length === 0) return null;
    return { start: bars[0].time, end: bars[bars.length - 1].time, count: bars.length };
  }

  private newestHover() {
    const last = this.pager.bars[this.pager.bars.length - 1];
    if (last === undefined) return { time: null, values: new Map<string, number>() };
    const values = new Map([["open", last.open], ["high", last.high], ["low", last.low], ["close", last.close], ["volume", last.volume]]);
    return { time: last.time, values };
  }

  private describe(): void {
    const bars = this.pager.bars;
    const oldest = bars[0];
    const more = this.pager.exhausted ? "all history loaded" : "scroll left for older bars";
    this.say(`${formatCount(bars.length)} bars from ${oldest ? formatTime(oldest.time) : "—"} · ${more}`);
    this.chartBox.dataset.exhausted = String(this.pager.exhausted);
    this.legend.show(this.title, this.newestHover());
  }

  /** A mark on the Performance timeline once the first bars are drawn (the frame after `setData`). */
  private markReady(): void {
    const bars = this.pager.bars.length;
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        performance.mark("pq-chart-ready", { detail: { bars } });
        this.chartBox.dataset.ready = "true";
      }),
    );
  }

  private say(text: string): void {
    this.status.textContent = text;
  }
}
