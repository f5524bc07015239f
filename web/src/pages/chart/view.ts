/**
 * The chart itself: Lightweight Charts with candles on the price pane, volume in its own pane, indicator
 * lines on the price pane (overlays) or in panes of their own (oscillators).
 *
 * Partial bars (not covering their whole period) are drawn hollow and faded. The container element carries
 * what is drawn as data attributes (`data-bars`, `data-oldest`, `data-newest`, `data-last-close`, `data-panes`,
 * `data-lines`: each indicator line as `column@pane:points`), read from the chart's own series, for people
 * inspecting the page and for the browser tests.
 */

import {
  CandlestickSeries,
  type CandlestickData,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type MouseEventParams,
  type UTCTimestamp,
  createChart,
} from "lightweight-charts";
import type { Bar, LiveOutcome } from "../../core/bars";
import type { Point } from "../../core/indicators";

const UP = "#26a69a";
const DOWN = "#ef5350";
const UP_FADED = "rgba(38, 166, 154, 0.45)";
const DOWN_FADED = "rgba(239, 83, 80, 0.45)";
const LINE_COLORS = ["#f5a623", "#4a90e2", "#bd10e0", "#7ed321", "#e86a92", "#50e3c2", "#f8e71c", "#9b9b9b"];
/** How close (in bars) to the oldest bar the view must come before older history is asked for. */
const NEAR_START_BARS = 30;

const at = (time: number) => time as UTCTimestamp;

export function candleOf(bar: Bar): CandlestickData {
  const candle: CandlestickData = { time: at(bar.time), open: bar.open, high: bar.high, low: bar.low, close: bar.close };
  if (bar.partial) {
    const faded = bar.close >= bar.open ? UP_FADED : DOWN_FADED;
    return { ...candle, color: "rgba(0, 0, 0, 0)", borderColor: faded, wickColor: faded };
  }
  return candle;
}

export function volumeOf(bar: Bar): HistogramData {
  const color = bar.partial ? (bar.close >= bar.open ? UP_FADED : DOWN_FADED) : bar.close >= bar.open ? UP : DOWN;
  return { time: at(bar.time), value: bar.volume, color };
}

export interface Hover {
  readonly time: number | null;
  readonly values: ReadonlyMap<string, number>;
}

export class ChartView {
  readonly element: HTMLElement;
  private readonly chart: IChartApi;
  private readonly candles: ISeriesApi<"Candlestick">;
  private readonly volume: ISeriesApi<"Histogram">;
  private readonly lines = new Map<string, ISeriesApi<"Line">>();
  private readonly paneNames = new Map<string, string>(); // column → pane name
  private nearStart: (() => void) | null = null;

  constructor(container: HTMLElement) {
    this.element = container;
    this.chart = createChart(container, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "#131722" },
        textColor: "#d1d4dc",
        panes: { separatorColor: "#2a2e39" },
        // The logo is drawn with an inline <style>, which the page's CSP refuses; the footer carries the
        // attribution link to TradingView that the library's licence asks for instead.
        attributionLogo: false,
      },
      grid: { vertLines: { color: "#1e222d" }, horzLines: { color: "#1e222d" } },
      crosshair: { mode: CrosshairMode.Normal },
      timeScale: { timeVisible: true, secondsVisible: false, rightOffset: 5 },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP, downColor: DOWN, borderUpColor: UP, borderDownColor: DOWN, wickUpColor: UP, wickDownColor: DOWN,
    });
    this.volume = this.chart.addSeries(HistogramSeries, { priceFormat: { type: "volume" }, lastValueVisible: false }, 1);
    this.chart.panes()[1]?.setStretchFactor(0.25);
    this.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range !== null && range.from < NEAR_START_BARS) this.nearStart?.();
    });
  }

  onNearStart(callback: () => void): void {
    this.nearStart = callback;
  }

  onHover(callback: (hover: Hover) => void): void {
    this.chart.subscribeCrosshairMove((param: MouseEventParams) => callback(this.hoverOf(param)));
  }

  /** Replaces every bar (first load, an older page, a reload after a reconnect), keeping the view's position. */
  setBars(bars: readonly Bar[]): void {
    this.candles.setData(bars.map(candleOf));
    this.volume.setData(bars.map(volumeOf));
    this.describe();
  }

  /** Draws one live bar the way `applyLiveBar` placed it. */
  live(outcome: LiveOutcome, bar: Bar): void {
    if (outcome === "ignore") return;
    const historical = outcome === "replace-older";
    this.candles.update(candleOf(bar), historical);
    this.volume.update(volumeOf(bar), historical);
    // What the update changed, without reading every drawn bar back on each tick.
    const drawn = this.element.dataset;
    if (outcome === "append") drawn.bars = String(Number(drawn.bars) + 1);
    if (outcome !== "replace-older") {
      drawn.newest = String(bar.time);
      drawn.lastClose = String(bar.close);
    }
  }

  setLine(column: string, pane: string, points: readonly Point[]): void {
    const data = points.map((p) => ({ time: at(p.time), value: p.value }));
    let line = this.lines.get(column);
    if (line === undefined) {
      const color = LINE_COLORS[this.lines.size % LINE_COLORS.length];
      line = this.chart.addSeries(LineSeries, { color, lineWidth: 1, priceLineVisible: false, title: column }, this.paneIndex(pane));
      this.lines.set(column, line);
      this.paneNames.set(column, pane);
      if (pane !== "price" && pane !== "volume") line.getPane().setStretchFactor(0.3);
    }
    line.setData(data);
    this.describeLines();
  }

  /** Removes lines; Lightweight Charts drops a pane left empty by itself. */
  removeLines(columns: readonly string[]): void {
    for (const column of columns) {
      const line = this.lines.get(column);
      if (line !== undefined) this.chart.removeSeries(line);
      this.lines.delete(column);
      this.paneNames.delete(column);
    }
    this.describeLines();
  }

  fitRecent(bars: number): void {
    const count = this.candles.data().length;
    this.chart.timeScale().setVisibleLogicalRange({ from: Math.max(0, count - bars), to: count + 5 });
  }

  dispose(): void {
    this.chart.remove();
  }

  /** The index of the pane named `pane`: 0 for the price, 1 for the volume, a new pane after the others when unknown. */
  private paneIndex(pane: string): number {
    if (pane === "price") return 0;
    if (pane === "volume") return 1;
    for (const [column, name] of this.paneNames) {
      const line = this.lines.get(column);
      if (name === pane && line !== undefined) return line.getPane().paneIndex();
    }
    return this.chart.panes().length;
  }

  private hoverOf(param: MouseEventParams): Hover {
    const values = new Map<string, number>();
    const candle = param.seriesData.get(this.candles) as CandlestickData | undefined;
    if (candle !== undefined && "open" in candle) {
      values.set("open", candle.open).set("high", candle.high).set("low", candle.low).set("close", candle.close);
    }
    const volume = param.seriesData.get(this.volume) as HistogramData | undefined;
    if (volume !== undefined && "value" in volume) values.set("volume", volume.value);
    for (const [column, line] of this.lines) {
      const point = param.seriesData.get(line) as { value?: number } | undefined;
      if (point?.value !== undefined) values.set(column, point.value);
    }
    return { time: typeof param.time === "number" ? param.time : null, values };
  }

  private describe(): void {
    const data = this.candles.data();
    const first = data[0];
    const last = data[data.length - 1] as CandlestickData | undefined;
    this.element.dataset.bars = String(data.length);
    this.element.dataset.oldest = first ? String(first.time) : "";
    this.element.dataset.newest = last ? String(last.time) : "";
    this.element.dataset.lastClose = last && "close" in last ? String(last.close) : "";
  }

  /** Only when lines change: a live tick must not pay for reading every line's data. */
  private describeLines(): void {
    this.element.dataset.panes = String(this.chart.panes().length);
    this.element.dataset.lines = [...this.lines].map(([column, line]) => `${column}@${line.getPane().paneIndex()}:${line.data().length}`).join(" ");
  }
}
