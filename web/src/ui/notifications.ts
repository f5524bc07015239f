/**
 * Alert notifications: each `alert` frame of the live socket (a rule of the signed-in user with the websocket
 * channel fired) shows a toast with the rule, its symbol, the condition in words, the values and the time. Other
 * frames pass by, so a server without alerts changes nothing.
 */

import { alertNotice, noticeText } from "../core/alerts";
import type { ReconnectingSocket } from "../live/socket";
import { h } from "./dom";

const SHOWN_AT_MOST = 5;
const SHOWN_FOR_MS = 30_000;

export function alertNotifications(socket: ReconnectingSocket): HTMLElement {
  const element = h("div", { class: "notifications", attrs: { role: "alert", "aria-live": "assertive" } });
  socket.onFrame((frame) => {
    const notice = alertNotice(frame);
    if (notice === null) return;
    const toast = h("div", { class: "notification", data: { rule: notice.ruleId } },
      h("strong", { text: "Alert fired" }), h("span", { class: "notification-text", text: noticeText(notice) }),
      h("small", { text: `rule ${notice.ruleId}` }),
      h("button", { class: "link", text: "Dismiss", on: { click: () => toast.remove() } }));
    element.prepend(toast);
    while (element.children.length > SHOWN_AT_MOST) element.lastElementChild?.remove();
    window.setTimeout(() => toast.remove(), SHOWN_FOR_MS);
  });
  return element;
}
