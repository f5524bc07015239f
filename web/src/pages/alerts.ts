/**
 * The Alerts page, against `GET /api/v1/alerts` (issue 18). A server without that route gets a page saying
 * so; a server with it gets its rules listed. Creating and editing rules waits for that API's final shape.
 */

import type { AppContext, PageView } from "../app/context";
import { ApiError } from "../api/client";
import { listAlerts } from "../api/endpoints";
import { rowsOf } from "../core/indicators";
import { h } from "../ui/dom";

const COLUMNS = ["id", "symbol", "source", "interval", "condition", "state", "note"] as const;

export function alertsPage(context: AppContext): PageView {
  const body = h("div", { class: "alerts-body", text: "Loading…" });
  const element = h("section", { class: "page alerts-page" }, h("h2", { text: "Alerts" }), body);
  void load(context, body);
  return { element, dispose: () => undefined };
}

async function load(context: AppContext, body: HTMLElement): Promise<void> {
  try {
    const { body: answer } = await listAlerts(context.api);
    body.replaceChildren(table(rowsOf(answer)));
    body.dataset.available = "yes";
  } catch (error) {
    const missing = error instanceof ApiError && error.routeMissing;
    body.dataset.available = missing ? "no" : "error";
    body.textContent = missing ? "This server has no alerts API yet." : `Could not load alerts: ${(error as Error).message}`;
  }
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function table(rows: ReadonlyArray<Record<string, unknown>>): HTMLElement {
  if (rows.length === 0) return h("p", { text: "No alert rules yet." });
  return h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ...COLUMNS.map((c) => h("th", { text: c })))),
    h("tbody", {}, ...rows.map((row) => h("tr", {}, ...COLUMNS.map((c) => h("td", { text: cell(row[c]) }))))),
  );
}
