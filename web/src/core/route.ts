/**
 * Routes live in the URL's fragment (`#/chart?symbol=BINANCE:BTCUSDT&interval=1m&source=tradingview`), so the
 * service serves one page at `/` and a reload keeps the view. Only view state goes there, never a token.
 */

export const PAGES = ["chart", "series", "alerts", "login"] as const;
export type PageName = (typeof PAGES)[number];

export interface Route {
  readonly page: PageName;
  readonly params: Readonly<Record<string, string>>;
}

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const [path, query = ""] = text.split("?", 2);
  const page = (PAGES as readonly string[]).includes(path) ? (path as PageName) : "chart";
  return { page, params: Object.fromEntries(new URLSearchParams(query)) };
}

export function formatRoute(page: PageName, params: Readonly<Record<string, string>> = {}): string {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "")).toString();
  return `#/${page}${query ? `?${query}` : ""}`;
}
