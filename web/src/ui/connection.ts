/** The connection indicator in the header: live, connecting, or reconnecting (with the count of reconnects). */

import type { ReconnectingSocket, SocketState } from "../live/socket";
import { h } from "./dom";

export function stateText(state: SocketState): string {
  const reconnects = state.reconnects > 0 ? ` · ${state.reconnects} reconnect${state.reconnects === 1 ? "" : "s"}` : "";
  switch (state.phase) {
    case "open":
      return `live${reconnects}`;
    case "connecting":
      return `connecting${reconnects}`;
    case "waiting":
      return `reconnecting in ${Math.ceil((state.retryInMs ?? 0) / 1000)} s${reconnects}`;
    default:
      return "quotes idle";
  }
}

export function connectionIndicator(socket: ReconnectingSocket): HTMLElement {
  const dot = h("span", { class: "dot" });
  const label = h("span", { class: "connection-label" });
  const element = h("div", { class: "connection", attrs: { role: "status", "aria-live": "polite" } }, dot, label);
  socket.onState((state) => {
    element.dataset.phase = state.phase;
    element.dataset.reconnects = String(state.reconnects);
    label.textContent = stateText(state);
  });
  return element;
}
