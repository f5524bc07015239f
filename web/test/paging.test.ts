import { describe, expect, it } from "vitest";
import type { Bar } from "../src/core/bars";
import { type Page, type PageRequest, HistoryPager, olderLinkOf, olderPageRequest } from "../src/core/paging";

const bar = (time: number): Bar => ({ time, open: 1, high: 1, low: 1, close: 1, volume: 1, partial: false });

/** The API's range form, written from its documentation: the newest `limit` bars with time <= `end`. */
function rangeServer(stored: readonly number[]) {
  const requests: PageRequest[] = [];
  const fetch = async (request: PageRequest): Promise<Page> => {
    requests.push(request);
    if (!("params" in request)) throw new Error("the range server gives no cursors");
    const end = request.params.end === undefined ? Infinity : Number(request.params.end);
    const limit = Number(request.params.limit);
    const upToEnd = stored.filter((t) => t <= end);
    return { bars: upToEnd.slice(Math.max(0, upToEnd.length - limit)).map(bar), olderUrl: null };
  };
  return { fetch, requests };
}

/** A cursor server: each page links to the page before it until the first one. */
function cursorServer(stored: readonly number[], pageSize: number) {
  const pageAt = (endIndex: number): Page => {
    const start = Math.max(0, endIndex - pageSize);
    return { bars: stored.slice(start, endIndex).map(bar), olderUrl: start > 0 ? `/older?before=${start}` : null };
  };
  const fetch = async (request: PageRequest): Promise<Page> =>
    "url" in request ? pageAt(Number(request.url.split("=")[1])) : pageAt(stored.length);
  return { fetch };
}

const minutes = (n: number) => Array.from({ length: n }, (_, i) => 1_700_000_000 + i * 60);

describe("olderPageRequest", () => {
  it("asks for the bars ending just before the oldest held bar when the server gives no cursor", () => {
    expect(olderPageRequest(6_000, 500, null)).toEqual({ params: { end: "5999", limit: "500" } });
  });

  it("follows the server's link when it gives one", () => {
    expect(olderPageRequest(6_000, 500, "/api/x?before=abc")).toEqual({ url: "/api/x?before=abc" });
  });
});

describe("olderLinkOf", () => {
  it("reads rel=prev from a Link header among other links", () => {
    const header = '</ohlcv?after=9>; rel="next", </ohlcv?before=3&limit=5>; rel="prev"';
    expect(olderLinkOf(header, null)).toBe("/ohlcv?before=3&limit=5");
  });

  it("reads a prev link from the body when there is no header", () => {
    expect(olderLinkOf(null, { links: { prev: "/a?before=1" } })).toBe("/a?before=1");
    expect(olderLinkOf(null, { previous: "/b" })).toBe("/b");
  });

  it("finds nothing in today's response (no header, bars only)", () => {
    expect(olderLinkOf(null, { count: 2, bars: [] })).toBeNull();
    expect(olderLinkOf('</x>; rel="next"', {})).toBeNull();
  });
});

describe("HistoryPager over the range form", () => {
  it("loads the newest page first, then every older page once, and stops at the first bar", async () => {
    const stored = minutes(1_234);
    const server = rangeServer(stored);
    const pager = new HistoryPager(server.fetch, 500);
    await pager.loadLatest();
    expect(pager.bars.map((b) => b.time)).toEqual(stored.slice(-500));
    while (!pager.exhausted) await pager.loadOlder();
    expect(pager.bars.map((b) => b.time)).toEqual(stored);
    expect(server.requests).toHaveLength(3);
    expect(await pager.loadOlder()).toBe(0);
    expect(server.requests).toHaveLength(3);
  });

  it("knows at once that a series shorter than a page has no older bars", async () => {
    const pager = new HistoryPager(rangeServer(minutes(10)).fetch, 500);
    await pager.loadLatest();
    expect(pager.exhausted).toBe(true);
  });

  it("runs one older load at a time however often the user scrolls", async () => {
    const server = rangeServer(minutes(3_000));
    const pager = new HistoryPager(server.fetch, 1_000);
    await pager.loadLatest();
    const [a, b, c] = await Promise.all([pager.loadOlder(), pager.loadOlder(), pager.loadOlder()]);
    expect([a, b, c]).toEqual([1_000, 1_000, 1_000]);
    expect(server.requests).toHaveLength(2);
  });

  it("stops when a page adds nothing new (a server that ignores the range)", async () => {
    const stored = minutes(800);
    const ignoring = async (): Promise<Page> => ({ bars: stored.slice(-500).map(bar), olderUrl: null });
    const pager = new HistoryPager(ignoring, 500);
    await pager.loadLatest();
    expect(await pager.loadOlder()).toBe(0);
    expect(pager.exhausted).toBe(true);
  });

  it("merges a reload of the newest page into the held history", async () => {
    const stored = minutes(1_500);
    const server = rangeServer(stored);
    const pager = new HistoryPager(server.fetch, 500);
    await pager.loadLatest();
    await pager.loadOlder();
    stored.push(stored[stored.length - 1] + 60);
    await pager.loadLatest();
    expect(pager.bars.map((b) => b.time)).toEqual(stored.slice(-1_001));
  });
});

describe("HistoryPager over cursors", () => {
  it("follows the links back to the first bar and then stops", async () => {
    const stored = minutes(1_100);
    const pager = new HistoryPager(cursorServer(stored, 500).fetch, 500);
    await pager.loadLatest();
    expect(pager.exhausted).toBe(false);
    while (!pager.exhausted) await pager.loadOlder();
    expect(pager.bars.map((b) => b.time)).toEqual(stored);
  });
});
