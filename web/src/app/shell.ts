/**
 * The app: a header (pages, connection indicator, who is signed in, sign-out), the current page below it, and
 * the router that swaps pages when the URL fragment changes. The live socket is held on every page but the login
 * page (alert notifications arrive on it wherever the user is) and closed on sign-out. A 401 that renewing the token cannot cure sends
 * the user to the login page (and closes the live socket, which carried the old session).
 */

import { Api } from "../api/client";
import { API } from "../api/endpoints";
import { type PageName, formatRoute, parseRoute } from "../core/route";
import { ReconnectingSocket } from "../live/socket";
import { alertsPage } from "../pages/alerts";
import { chartPage } from "../pages/chart/page";
import { loginPage } from "../pages/login";
import { seriesPage } from "../pages/series/page";
import { connectionIndicator } from "../ui/connection";
import { h } from "../ui/dom";
import { alertNotifications } from "../ui/notifications";
import type { AppContext, PageFactory, PageView } from "./context";

const PAGES: Record<PageName, PageFactory> = { chart: chartPage, series: seriesPage, alerts: alertsPage, login: loginPage };
const NAV: ReadonlyArray<[PageName, string]> = [["chart", "Chart"], ["series", "Series"], ["alerts", "Alerts"]];

function socketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${API}/ws/quotes`;
}

export function startApp(root: HTMLElement): void {
  const api = new Api();
  const socket = new ReconnectingSocket(socketUrl(), {
    token: () => api.freshAccessToken(),
    refused: async () => {
      if (await api.renew()) return true;
      api.requireLogin();
      return false;
    },
  });
  const context: AppContext = { api, socket, navigate: (page, params = {}) => (location.hash = formatRoute(page, params)) };
  const links = NAV.map(([page, label]) => h("a", { class: "nav-link", text: label, data: { page }, attrs: { href: formatRoute(page) } }));
  const user = h("span", { class: "user hidden" });
  const signOut = h("button", { class: "link hidden", text: "Sign out", data: { action: "sign-out" } });
  const header = h("header", { class: "app-header" }, h("span", { class: "brand", text: "PocketQuant" }), h("nav", {}, ...links), h("span", { class: "spacer" }), connectionIndicator(socket), user, signOut);
  const main = h("main", { class: "app-main" });
  const tradingView = h("a", { text: "TradingView", attrs: { href: "https://www.tradingview.com/", rel: "noopener noreferrer", target: "_blank" } });
  const footer = h("footer", { class: "app-footer" }, "Charts by ", tradingView, " Lightweight Charts™ · API docs at ", h("a", { text: "/api/v1/docs", attrs: { href: "/api/v1/docs" } }));
  root.replaceChildren(header, alertNotifications(socket), main, footer);
  let current: PageView | null = null;

  const show = () => {
    const route = parseRoute(location.hash);
    current?.dispose();
    current = PAGES[route.page](context, route.params);
    main.replaceChildren(current.element);
    if (route.page !== "login") socket.start();
    for (const link of links) link.classList.toggle("active", link.dataset.page === route.page);
  };
  api.onSession((session) => {
    user.textContent = session?.username ? `${session.username}${session.role ? ` · ${session.role}` : ""}` : "";
    user.classList.toggle("hidden", session === null);
    signOut.classList.toggle("hidden", session === null);
    if (session === null) socket.stop();
  });
  api.onUnauthorized(() => {
    socket.stop();
    const here = parseRoute(location.hash);
    if (here.page !== "login") context.navigate("login", { next: location.hash });
  });
  signOut.addEventListener("click", async () => {
    await api.logOut();
    context.navigate("login");
  });
  window.addEventListener("hashchange", show);
  show();
}
