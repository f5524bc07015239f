import { describe, expect, it } from "vitest";
import type { Bar } from "../src/core/bars";
import { type Page, HistoryPager, olderLinkOf } from "../src/core/paging";

const bar = (time: number): Bar => ({ time, open: 1, high: 1, low: 1, close: 1, volume: 1, partial: false });

/**
 * `GET /ohlcv` paging as the service documents it (bar_pages.py), written here from that text: a page holds
 * the newest `limit` bars at or before its bound; when bars lie before it, `next` is the same URL with
 * `before=<its oldest bar>` (the page then ends at that time minus one).
 */
function ohlcvServer(stored: number[], limit: number) {
  const urls: Array<string | null> = [];
  const fetch = async (url: string | null): Promise<Page> => {
    urls.push(url);
    const before = url === null ? Infinity : Number(new URL(url, "http://x").searchParams.get("before"));
    const upTo = stored.filter((t) => t <= before - 1);
    const page = upTo.slice(Math.max(0, upTo.length - limit));
    const more = page.length > 0 && stored[0] < page[0];
    return { bars: page.map(bar), olderUrl: more ? `/api/v1/market-data/ohlcv/X/Y?interval=1m&limit=${limit}&before=${page[0]}` : null };
  };
  return { fetch, urls };
}

const minutes = (n: number) => Array.from({ length: n }, (_, i) => 1_700_000_000 + i * 60);

describe("olderLinkOf", () => {
  it("reads rel=next from a Link header among other links", () => {
    const header = '</ohlcv?before=3&limit=5>; rel="next", </docs>; rel="help"';
    expect(olderLinkOf(header, null)).toBe("/ohlcv?before=3&limit=5");
  });

  it("reads the body's next when there is no header, and nothing on the last page", () => {
    expect(olderLinkOf(null, { count: 2, bars: [], next: "/a?before=1" })).toBe("/a?before=1");
    expect(olderLinkOf(null, { count: 2, bars: [], next: null })).toBeNull();
    expect(olderLinkOf('</x>; rel="nextish"', {})).toBeNull();
  });
});

describe("HistoryPager", () => {
  it("loads the newest page first, then follows the cursor back to the first bar, each page once", async () => {
    const stored = minutes(1_234);
    const server = ohlcvServer(stored, 500);
    const pager = new HistoryPager(server.fetch);
    await pager.loadLatest();
    expect(pager.bars.map((b) => b.time)).toEqual(stored.slice(-500));
    expect(pager.exhausted).toBe(false);
    while (!pager.exhausted) await pager.loadOlder();
    expect(pager.bars.map((b) => b.time)).toEqual(stored);
    expect(server.urls.map((u) => u && new URL(u, "http://x").searchParams.get("before"))).toEqual([
      null, String(stored[734]), String(stored[234]),
    ]);
    expect(await pager.loadOlder()).toBe(0);
    expect(server.urls).toHaveLength(3);
  });

  it("knows at once that a series shorter than a page has no older bars", async () => {
    const pager = new HistoryPager(ohlcvServer(minutes(10), 500).fetch);
    await pager.loadLatest();
    expect(pager.exhausted).toBe(true);
  });

  it("runs one older load at a time however often the user scrolls", async () => {
    const server = ohlcvServer(minutes(3_000), 1_000);
    const pager = new HistoryPager(server.fetch);
    await pager.loadLatest();
    const [a, b, c] = await Promise.all([pager.loadOlder(), pager.loadOlder(), pager.loadOlder()]);
    expect([a, b, c]).toEqual([1_000, 1_000, 1_000]);
    expect(server.urls).toHaveLength(2);
  });

  it("stops when following the cursor adds nothing new", async () => {
    const stored = minutes(800);
    const stuck = async (): Promise<Page> => ({ bars: stored.slice(-500).map(bar), olderUrl: "/same" });
    const pager = new HistoryPager(stuck);
    await pager.loadLatest();
    expect(await pager.loadOlder()).toBe(0);
    expect(pager.exhausted).toBe(true);
  });

  it("merges a reload of the newest page and scrolls on from the oldest page held", async () => {
    const stored = minutes(1_500);
    const server = ohlcvServer(stored, 500);
    const pager = new HistoryPager(server.fetch);
    await pager.loadLatest();
    await pager.loadOlder();
    stored.push(stored[stored.length - 1] + 60);
    await pager.loadLatest();
    expect(pager.bars.map((b) => b.time)).toEqual(stored.slice(-1_001));
    await pager.loadOlder();
    expect(pager.bars.map((b) => b.time)).toEqual(stored);
    expect(pager.exhausted).toBe(true);
  });
});
