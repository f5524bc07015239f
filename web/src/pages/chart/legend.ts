/** Crosshair values: the bar under the cursor (or the newest bar) with its indicator values. */

import { formatPrice, formatTime, formatVolume } from "../../core/format";
import { h } from "../../ui/dom";
import type { Hover } from "./view";

const PRICE_FIELDS = ["open", "high", "low", "close"] as const;

export class Legend {
  readonly element = h("div", { class: "legend" });

  show(title: string, hover: Hover): void {
    const parts: Array<Node | string> = [h("strong", { text: title })];
    if (hover.time !== null) parts.push(h("span", { class: "legend-time", text: formatTime(hover.time) }));
    for (const field of PRICE_FIELDS) {
      const value = hover.values.get(field);
      if (value !== undefined) parts.push(h("span", {}, `${field[0].toUpperCase()} `, h("b", { text: formatPrice(value) })));
    }
    const volume = hover.values.get("volume");
    if (volume !== undefined) parts.push(h("span", {}, "V ", h("b", { text: formatVolume(volume) })));
    for (const [column, value] of hover.values) {
      if (column === "volume" || (PRICE_FIELDS as readonly string[]).includes(column)) continue;
      parts.push(h("span", { class: "legend-indicator" }, `${column} `, h("b", { text: formatPrice(value) })));
    }
    this.element.replaceChildren(...parts);
  }
}
