/**
 * History paging as `GET /market-data/ohlcv` offers it: the newest page first, then older pages as the user
 * scrolls left, by following the service's cursor.
 *
 * Rules:
 * - The chart asks for pages counted from the newest end (no `start`), so the page the service calls `next`
 *   (`Link: <…&before=T>; rel="next"`, and `next` in the body) holds the bars just before the page's oldest:
 *   the older neighbour. It is followed as given.
 * - History is exhausted when a page has no `next` (nothing is stored before it), or when following one
 *   adds no bar (a guard against a cursor that does not move).
 * - Reloading the newest page (after a reconnect) merges it into the held bars and keeps the cursor of the
 *   oldest page held, so scrolling back goes on where it stopped.
 */

import { type Bar, mergeBars } from "./bars";

export interface Page {
  readonly bars: readonly Bar[];
  /** The URL of the page before this one, or null on the page holding the first stored bar. */
  readonly olderUrl: string | null;
}

/** `null`: the newest page of the series; a URL: a page the service linked to. */
export type FetchPage = (url: string | null) => Promise<Page>;

/** The older neighbour's URL from the `Link` header (`rel="next"`) or the body's `next`, or null. */
export function olderLinkOf(linkHeader: string | null, body: unknown): string | null {
  return linkFromHeader(linkHeader) ?? linkFromBody(body);
}

function linkFromHeader(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (match && /rel="?next"?(\s|;|$)/.test(match[2])) return match[1];
  }
  return null;
}

function linkFromBody(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const link = (body as Record<string, unknown>).next;
  return typeof link === "string" && link !== "" ? link : null;
}

export class HistoryPager {
  bars: Bar[] = [];
  exhausted = false;
  private olderUrl: string | null = null;
  private loading: Promise<number> | null = null;

  constructor(private readonly fetchPage: FetchPage) {}

  /** Loads (or reloads) the newest page and merges it; returns the number of bars held. */
  async loadLatest(): Promise<number> {
    const page = await this.fetchPage(null);
    const first = this.bars.length === 0;
    this.bars = mergeBars(this.bars, page.bars);
    if (first) {
      this.olderUrl = page.olderUrl;
      this.exhausted = page.olderUrl === null;
    }
    return this.bars.length;
  }

  /** Loads the page before the oldest held bar, once at a time; resolves to the number of bars added. */
  loadOlder(): Promise<number> {
    if (this.exhausted || this.olderUrl === null) return Promise.resolve(0);
    this.loading ??= this.fetchOlder(this.olderUrl).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  get busy(): boolean {
    return this.loading !== null;
  }

  private async fetchOlder(url: string): Promise<number> {
    const before = this.bars.length;
    const page = await this.fetchPage(url);
    this.bars = mergeBars(this.bars, page.bars);
    const added = this.bars.length - before;
    this.olderUrl = page.olderUrl;
    this.exhausted = added === 0 || page.olderUrl === null;
    return added;
  }
}
