/**
 * History paging: the newest page first, then older pages as the user scrolls left.
 *
 * Two ways to ask for the page before the oldest held bar, whichever the server offers:
 * - a cursor: a response that links to its older neighbour (`Link: <url>; rel="prev"`, or a `prev` link in
 *   the body) is followed as given;
 * - otherwise the range form every server understands: `end=<oldest - 1>&limit=<page size>`.
 * History is exhausted when an older page adds no bar, when a range page comes back short, or when a
 * server that gave cursors stops giving one.
 */

import { type Bar, mergeBars } from "./bars";

export interface Page {
  readonly bars: readonly Bar[];
  readonly olderUrl: string | null;
}

/** Where the next page comes from: query parameters added to the series URL, or a URL given by the server. */
export type PageRequest = { readonly params: Readonly<Record<string, string>> } | { readonly url: string };

export type FetchPage = (request: PageRequest) => Promise<Page>;

export function latestPageRequest(limit: number): PageRequest {
  return { params: { limit: String(limit) } };
}

export function olderPageRequest(oldestTime: number, limit: number, olderUrl: string | null): PageRequest {
  if (olderUrl !== null) return { url: olderUrl };
  return { params: { end: String(oldestTime - 1), limit: String(limit) } };
}

/** The older neighbour's URL from a `Link` header or the body's links, or null. */
export function olderLinkOf(linkHeader: string | null, body: unknown): string | null {
  return linkFromHeader(linkHeader) ?? linkFromBody(body);
}

function linkFromHeader(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const match = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (match && /rel="?(prev|previous)"?/.test(match[2])) return match[1];
  }
  return null;
}

function linkFromBody(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const record = body as Record<string, unknown>;
  const links = (typeof record.links === "object" && record.links !== null ? record.links : record) as Record<
    string,
    unknown
  >;
  const link = links.prev ?? links.previous;
  return typeof link === "string" && link !== "" ? link : null;
}

export class HistoryPager {
  bars: Bar[] = [];
  exhausted = false;
  private olderUrl: string | null = null;
  private usesCursors = false;
  private loading: Promise<number> | null = null;

  constructor(
    private readonly fetchPage: FetchPage,
    private readonly pageSize: number,
  ) {}

  /** Loads (or reloads) the newest page and merges it; returns the number of bars held. */
  async loadLatest(): Promise<number> {
    const page = await this.fetchPage(latestPageRequest(this.pageSize));
    const first = this.bars.length === 0;
    this.bars = mergeBars(this.bars, page.bars);
    if (first) {
      this.usesCursors = page.olderUrl !== null;
      this.olderUrl = page.olderUrl;
      this.exhausted = page.bars.length < this.pageSize && !this.usesCursors;
    }
    return this.bars.length;
  }

  /** Loads the page before the oldest held bar, once at a time; resolves to the number of bars added. */
  loadOlder(): Promise<number> {
    if (this.exhausted || this.bars.length === 0) return Promise.resolve(0);
    this.loading ??= this.fetchOlder().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  get busy(): boolean {
    return this.loading !== null;
  }

  private async fetchOlder(): Promise<number> {
    const before = this.bars.length;
    const page = await this.fetchPage(olderPageRequest(this.bars[0].time, this.pageSize, this.olderUrl));
    this.bars = mergeBars(this.bars, page.bars);
    const added = this.bars.length - before;
    this.olderUrl = page.olderUrl;
    const short = !this.usesCursors && page.bars.length < this.pageSize;
    const cursorEnded = this.usesCursors && page.olderUrl === null;
    this.exhausted = added === 0 || short || cursorEnded;
    return added;
  }
}
