/**
 * Indicator overlays: the catalog (`GET /api/v1/indicators`) says which indicators exist and how their specs
 * and columns read; the values of the loaded bars come from `GET /api/v1/indicators/{exchange}/{symbol}`.
 * A service without the indicators API (the catalog answered 404 by no route) keeps the toggles hidden.
 */

import { type Api, ApiError } from "../../api/client";
import { type SeriesRef, fetchIndicators, listIndicators } from "../../api/endpoints";
import { IndicatorCatalog, type IndicatorSpec, PRESETS, isSpec, pointsOf, tableOf } from "../../core/indicators";
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
  private catalog = new IndicatorCatalog([]);
  private generation = 0;

  constructor(
    private readonly api: Api,
    private readonly series: SeriesRef,
    private readonly interval: string,
    private readonly view: ChartView,
    private readonly range: () => LoadedRange | null,
  ) {}

  /** Reads the catalog and shows the toggles when the service computes indicators. */
  async probe(): Promise<void> {
    try {
      this.catalog = IndicatorCatalog.of((await listIndicators(this.api)).body);
    } catch (error) {
      this.element.dataset.available = error instanceof ApiError && error.routeMissing ? "no" : "error";
      return;
    }
    const presets = PRESETS.map((text) => this.catalog.parse(text)).filter(isSpec);
    this.element.dataset.available = "yes";
    this.element.classList.remove("hidden");
    this.element.replaceChildren(h("span", { class: "label", text: "Indicators" }), ...presets.map((spec) => this.toggle(spec)), this.customInput(), this.message);
  }

  /** Reads every active indicator again over the loaded bars (after older pages or a closed bar). */
  async refresh(): Promise<void> {
    const range = this.range();
    if (this.active.size === 0 || range === null) return;
    const specs = [...this.active.values()];
    const generation = ++this.generation;
    this.element.dataset.loading = "true";
    try {
      const { body } = await fetchIndicators(this.api, this.series, this.interval, specs.map((s) => s.text), {
        start: range.start, end: range.end, limit: range.count,
      });
      if (generation === this.generation) this.draw(specs, body);
    } catch (error) {
      if (generation === this.generation) this.message.textContent = (error as Error).message;
    } finally {
      if (generation === this.generation) this.element.dataset.loading = "false";
    }
  }

  private draw(specs: readonly IndicatorSpec[], body: unknown): void {
    const table = tableOf(body);
    const missing = specs.flatMap((s) => s.columns).filter((c) => !table.columns.includes(c));
    this.message.textContent = missing.length > 0 ? `The service sent no ${missing.join(", ")}` : "";
    for (const spec of specs) {
      if (!this.active.has(spec.text)) continue;
      for (const column of spec.columns) this.view.setLine(column, spec.pane, pointsOf(table.rows, column));
    }
    this.element.dataset.drawn = [...this.active.keys()].join(",");
  }

  private set(spec: IndicatorSpec, on: boolean): void {
    if (on) {
      this.active.set(spec.text, spec);
      void this.refresh();
    } else {
      this.active.delete(spec.text);
      this.view.removeLines(spec.columns);
      this.element.dataset.drawn = [...this.active.keys()].join(",");
    }
  }

  private toggle(spec: IndicatorSpec): HTMLElement {
    const box = h("input", { attrs: { type: "checkbox" }, data: { spec: spec.text } });
    box.addEventListener("change", () => this.set(spec, box.checked));
    return h("label", { class: "toggle" }, box, spec.text);
  }

  private customInput(): HTMLElement {
    const input = h("input", { class: "custom-spec", attrs: { placeholder: "e.g. sma:100", "aria-label": "Add an indicator" } });
    input.addEventListener("keydown", (event) => {
      if ((event as KeyboardEvent).key !== "Enter") return;
      const parsed = this.catalog.parse(input.value);
      if (!isSpec(parsed)) {
        this.message.textContent = parsed.problem;
        return;
      }
      const existing = this.element.querySelector<HTMLInputElement>(`input[data-spec="${CSS.escape(parsed.text)}"]`);
      const box = existing ?? (this.element.insertBefore(this.toggle(parsed), input).querySelector("input") as HTMLInputElement);
      if (!box.checked) box.click();
      input.value = "";
    });
    return input;
  }
}
