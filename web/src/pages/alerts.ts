/**
 * The Alerts page, against `/api/v1/alerts` (issue 18): your rules (an admin's: everyone's) with their state and
 * trigger count, a form to create one or edit one (the same condition builder, prefilled; saved with PUT),
 * enable / disable / delete, and a rule's trigger history. A server without that route gets a page saying so.
 * What the service refuses is shown as it says it (the field named). When one of the user's rules fires (an
 * `alert` frame on the live socket), the list and the history shown are reloaded.
 */

import type { AppContext, PageView } from "../app/context";
import { ApiError } from "../api/client";
import {
  type AlertBody, alertTriggers, createAlert, deleteAlert, listAlerts, replaceAlert, switchAlert,
} from "../api/endpoints";
import { type ConditionKind, alertNotice, conditionOf, describe, formOf, KINDS } from "../core/alerts";
import { h } from "../ui/dom";

const CHANNELS = ["log", "websocket", "webhook"] as const;

export function alertsPage(context: AppContext): PageView {
  const page = new AlertsPage(context);
  const stopHearing = context.socket.onFrame((frame) => {
    if (alertNotice(frame) !== null) void page.refresh();
  });
  return { element: page.element, dispose: () => void stopHearing() };
}

class AlertsPage {
  readonly element: HTMLElement;
  private readonly body = h("div", { class: "alerts-body", text: "Loading…" });
  private readonly history = h("div", { class: "alerts-history" });
  private readonly message = h("p", { class: "alerts-message", attrs: { role: "status" } });
  private readonly fields = {
    symbol: h("input", { attrs: { placeholder: "BINANCE:BTCUSDT", "aria-label": "Symbol" } }),
    source: h("input", { attrs: { value: "tradingview", "aria-label": "Source" } }),
    kind: h("select", { attrs: { "aria-label": "Condition" } }, ...KINDS.map((k) => h("option", { text: k, attrs: { value: k } }))),
    value: h("input", { attrs: { placeholder: "level / % / multiplier", "aria-label": "Value" } }),
    period: h("input", { attrs: { placeholder: "period / window s", "aria-label": "Period" } }),
    direction: h("select", { attrs: { "aria-label": "Direction" } },
      ...["either", "up", "down"].map((d) => h("option", { text: d, attrs: { value: d } }))),
    option: h("input", { attrs: { placeholder: "upper|lower, sma|ema", "aria-label": "Band or average" } }),
    interval: h("input", { attrs: { placeholder: "1m, 1h… (bar conditions)", "aria-label": "Interval" } }),
    cooldown: h("input", { attrs: { type: "number", min: "0", value: "0", "aria-label": "Cooldown seconds" } }),
    oneTime: h("input", { attrs: { type: "checkbox", "aria-label": "One time" } }),
    note: h("input", { attrs: { placeholder: "note", "aria-label": "Note" } }),
  };
  private readonly channels = CHANNELS.map((name) =>
    h("input", { attrs: { type: "checkbox", value: name, "aria-label": `Channel ${name}`, ...(name === "log" ? { checked: "" } : {}) } }));
  private readonly submit = h("button", { text: "Create", attrs: { type: "submit" } });
  private readonly cancel = h("button", { class: "hidden", text: "Cancel", attrs: { type: "button" }, on: { click: () => this.stopEditing() } });
  private readonly form: HTMLFormElement;
  /** The rule the form edits; null while it creates one. */
  private editing: AlertBody | null = null;
  private historyShown: AlertBody | null = null;

  constructor(private readonly context: AppContext) {
    const f = this.fields;
    const form = h("form", { class: "alerts-form", on: { submit: (event) => { event.preventDefault(); void this.save(); } } },
      f.symbol, f.source, f.kind, f.value, f.period, f.direction, f.option, f.interval,
      h("label", {}, "cooldown s ", f.cooldown), h("label", {}, f.oneTime, " one time"),
      ...this.channels.map((box) => h("label", {}, box, ` ${box.value}`)), f.note,
      this.submit, this.cancel);
    this.form = form;
    this.element = h("section", { class: "page alerts-page" }, h("h2", { text: "Alerts" }), form, this.message,
      this.body, this.history);
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      const { body } = await listAlerts(this.context.api);
      this.body.replaceChildren(this.table(body as AlertBody[]));
      this.body.dataset.available = "yes";
    } catch (error) {
      const missing = error instanceof ApiError && error.routeMissing;
      this.body.dataset.available = missing ? "no" : "error";
      this.body.textContent = missing ? "This server has no alerts API yet." : `Could not load alerts: ${(error as Error).message}`;
    }
  }

  /** After a trigger: the rules' counts and states, and the history shown, as they are now. */
  async refresh(): Promise<void> {
    await this.load();
    if (this.historyShown !== null) await this.showHistory(this.historyShown);
  }

  private edit(rule: AlertBody): void {
    const f = this.fields;
    const form = formOf(rule.condition);
    this.editing = rule;
    f.symbol.value = rule.symbol;
    f.source.value = rule.source;
    f.kind.value = form.kind;
    f.value.value = form.value;
    f.period.value = form.period;
    f.direction.value = form.direction;
    f.option.value = form.option;
    f.interval.value = rule.interval ?? "";
    f.cooldown.value = String(rule.cooldown_s);
    f.oneTime.checked = rule.one_time;
    f.note.value = rule.note;
    for (const box of this.channels) box.checked = rule.channels.includes(box.value);
    this.form.dataset.editing = rule.id;
    this.submit.textContent = "Save";
    this.cancel.classList.remove("hidden");
    this.message.textContent = `Editing ${rule.symbol}: ${describe(rule.condition)}`;
    delete this.message.dataset.outcome;
  }

  private stopEditing(): void {
    this.editing = null;
    delete this.form.dataset.editing;
    this.submit.textContent = "Create";
    this.cancel.classList.add("hidden");
  }

  private async save(): Promise<void> {
    const f = this.fields;
    const kind = f.kind.value as ConditionKind;
    const body: Record<string, unknown> = {
      symbol: f.symbol.value.trim(), source: f.source.value.trim() || "tradingview",
      condition: conditionOf({ kind, value: f.value.value, period: f.period.value,
        direction: f.direction.value as "up" | "down" | "either", option: f.option.value.trim() }),
      cooldown_s: Number(f.cooldown.value || "0"), one_time: f.oneTime.checked, note: f.note.value,
      channels: this.channels.filter((box) => box.checked).map((box) => box.value),
    };
    if (f.interval.value.trim() !== "") body.interval = f.interval.value.trim();  // bar conditions: the service says if missing
    const editing = this.editing;
    await this.act(async () => {
      if (editing === null) {
        await createAlert(this.context.api, body);
        return "Created.";
      }
      await replaceAlert(this.context.api, editing.id, body);
      this.stopEditing();
      return "Saved.";
    });
  }

  private async act(action: () => Promise<string>): Promise<void> {
    try {
      this.message.textContent = await action();
      this.message.dataset.outcome = "ok";
    } catch (error) {
      const problem = error instanceof ApiError ? error.problem : null;
      const field = problem?.field ? `${problem.field}: ` : "";
      this.message.textContent = `${field}${problem?.detail ?? (error as Error).message}`;
      this.message.dataset.outcome = "error";
    }
    await this.load();
  }

  private async showHistory(rule: AlertBody): Promise<void> {
    const { body } = await alertTriggers(this.context.api, rule.id);
    this.historyShown = rule;
    this.history.dataset.rule = rule.id;
    this.history.dataset.triggers = String(body.length);
    this.history.replaceChildren(h("h3", { text: `Triggers of ${rule.symbol}: ${describe(rule.condition)}` }),
      body.length === 0 ? h("p", { text: "Not triggered yet." }) : h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ...["#", "triggered at", "values", "late"].map((c) => h("th", { text: c })))),
        h("tbody", {}, ...body.map((t) => h("tr", {},
          h("td", { text: String(t.trigger_count) }), h("td", { text: t.triggered_at }),
          h("td", { text: Object.entries(t.values).map(([k, v]) => `${k} ${v}`).join(", ") }),
          h("td", { text: t.late ? "late" : "" }))))));
  }

  private table(rules: readonly AlertBody[]): HTMLElement {
    if (rules.length === 0) return h("p", { text: "No alert rules yet." });
    const heads = ["symbol", "condition", "interval", "status", "triggers", "channels", "note", ""];
    return h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ...heads.map((c) => h("th", { text: c })))),
      h("tbody", {}, ...rules.map((rule) => h("tr", { data: { rule: rule.id } },
        h("td", { text: `${rule.source}:${rule.symbol}` }), h("td", { text: describe(rule.condition) }),
        h("td", { text: rule.interval ?? "" }), h("td", { text: rule.status }),
        h("td", { text: String(rule.trigger_count) }), h("td", { text: rule.channels.join(", ") }),
        h("td", { text: rule.note }),
        h("td", {},
          h("button", { text: "History", on: { click: () => void this.showHistory(rule) } }),
          h("button", { text: "Edit", on: { click: () => this.edit(rule) } }),
          h("button", { text: rule.status === "disabled" ? "Enable" : "Disable", on: { click: () => void this.act(async () => {
            await switchAlert(this.context.api, rule.id, rule.status === "disabled");
            return rule.status === "disabled" ? "Enabled." : "Disabled.";
          }) } }),
          h("button", { text: "Delete", on: { click: () => void this.act(async () => {
            await deleteAlert(this.context.api, rule.id);
            return "Deleted.";
          }) } }))))));
  }
}
