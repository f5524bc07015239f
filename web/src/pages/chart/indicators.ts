/**
 * Indicator overlays from `GET /api/v1/indicators/{exchange}/{symbol}`. The toggles appear only when the
 * service has that route: a probe answered 404 by no route (an older server) keeps them hidden.
 */

import { type Api, ApiError } from "../../api/client";
import { type SeriesRef, fetchIndicators } from "../../api/endpoints";
import { type IndicatorSpec, PRESETS, columnsOf, paneOf, parseSpec, pointsOf, rowsOf, specText } from "../../core/indicators";
import { h } from "../../ui/dom";
import type { ChartView } from "./view";

export interface LoadedRange {
  readonly start: number;
  readonly end: number;
  readonly count: number;
}

export class IndicatorPanel {
  readonly element = h("div", { class: "indicators hidden", data: { available: "unknown" } });
  private readonly active = new Map<string, IndicatorSpec>();
  private readonly message = h("span", { class: "indicator-message" });
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly series: SeriesRef,
    private readonly interval: string,
    private readonly view: ChartView,
    private readonly range: () => LoadedRange | null,
  ) {}

  /** Shows the toggles when the service computes indicators. */
  async probe(): Promise<void> {
    try {
      await fetchIndicators(this.api, this.series, this.interval, ["sma:20"], { limit: 1 });
    } catch (error) {
      if (error instanceof ApiError && error.routeMissing) {
        this.element.dataset.available = "no";
        return;
      }
    }
    this.element.dataset.available = "yes";
    this.element.classList.remove("hidden");
    this.element.replaceChildren(h("span", { class: "label", text: "Indicators" }), ...PRESETS.map((t) => this.toggle(t)), this.customInput(), this.message);
  }

  /** Reads every active indicator again over the loaded bars (after older pages or a closed bar). */
  async refresh(): Promise<void> {
    const range = this.range();
    if (this.active.size === 0 || range === null) return;
    const specs = [...this.active.values()];
    const generation = ++this.generation;
    try {
      const { body } = await fetchIndicators(this.api, this.series, this.interval, specs.map(specText), {
        start: range.start, end: range.end, limit: range.count,
      });
      if (generation === this.generation) this.draw(specs, rowsOf(body));
    } catch (error) {
      this.message.textContent = (error as Error).message;
    }
  }

  private draw(specs: readonly IndicatorSpec[], rows: Array<Record<string, unknown>>): void {
    this.message.textContent = "";
    for (const spec of specs) {
      if (!this.active.has(specText(spec))) continue;
      for (const column of columnsOf(spec)) this.view.setLine(column, paneOf(spec), pointsOf(rows, column));
    }
  }

  private set(spec: IndicatorSpec, on: boolean): void {
    const text = specText(spec);
    if (on) {
      this.active.set(text, spec);
      void this.refresh();
    } else {
      this.active.delete(text);
      this.view.removeLines(columnsOf(spec));
    }
  }

  private toggle(text: string): HTMLElement {
    const spec = parseSpec(text) as IndicatorSpec;
    const box = h("input", { attrs: { type: "checkbox" }, data: { spec: text } });
    box.addEventListener("change", () => this.set(spec, box.checked));
    return h("label", { class: "toggle" }, box, text);
  }

  private customInput(): HTMLElement {
    const input = h("input", { class: "custom-spec", attrs: { placeholder: "e.g. sma:100", "aria-label": "Add an indicator" } });
    input.addEventListener("keydown", (event) => {
      if ((event as KeyboardEvent).key !== "Enter") return;
      const spec = parseSpec(input.value);
      if (spec === null) {
        this.message.textContent = `Unknown indicator: ${input.value}`;
        return;
      }
      this.element.insertBefore(this.toggle(specText(spec)), input);
      (input.previousElementSibling?.querySelector("input") as HTMLInputElement).click();
      input.value = "";
    });
    return input;
  }
}
