/** The symbol picker: a search box asking every source (`GET /market-data/symbols/search?q=`), results to pick. */

import type { Api } from "../../api/client";
import { type SymbolMatch, searchSymbols, ticker } from "../../api/endpoints";
import { clear, debounce, h } from "../../ui/dom";

export function symbolSearch(api: Api, initial: string, pick: (match: SymbolMatch) => void): HTMLElement {
  const input = h("input", { class: "search-input", attrs: { type: "search", placeholder: "Search symbols (all sources)", "aria-label": "Search symbols" } });
  input.value = initial;
  const results = h("ul", { class: "search-results", attrs: { role: "listbox" } });
  let asked = 0;

  const show = (matches: readonly SymbolMatch[], forQuery: number) => {
    if (forQuery !== asked) return; // an answer to an older query
    clear(results);
    for (const match of matches.slice(0, 30)) {
      const choose = () => {
        clear(results);
        input.value = ticker(match);
        pick(match);
      };
      results.append(
        h("li", { class: "search-result", attrs: { role: "option" }, data: { ticker: ticker(match), source: match.source }, on: { click: choose } },
          h("span", { class: "ticker", text: ticker(match) }),
          h("span", { class: "description", text: match.description }),
          h("span", { class: "badge", text: match.source }),
        ),
      );
    }
    if (matches.length === 0) results.append(h("li", { class: "search-empty", text: "No match" }));
  };

  const run = debounce(async (query: string) => {
    const forQuery = ++asked;
    if (query.length === 0) return clear(results);
    try {
      show((await searchSymbols(api, query)).body, forQuery);
    } catch (error) {
      clear(results);
      results.append(h("li", { class: "search-empty", text: `Search failed: ${(error as Error).message}` }));
    }
  }, 200);

  input.addEventListener("input", () => run(input.value.trim()));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") clear(results);
  });
  return h("div", { class: "search" }, input, results);
}
