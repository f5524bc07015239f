import { describe, expect, it } from "vitest";
import { Api, ApiError, withQuery } from "../src/api/client";

function recordingFetch(answers: Array<{ status: number; body: unknown }>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const answer = answers.shift()!;
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as unknown as typeof fetch;
  return { fetcher, calls };
}

describe("Api", () => {
  it("sends the token in the Authorization header only, never in the URL", async () => {
    const server = recordingFetch([{ status: 200, body: [] }]);
    const api = new Api(server.fetcher);
    api.signIn("secret-token");
    await api.get("/api/v1/market-data/symbols", { q: "btc" });
    expect(server.calls[0].url).toBe("/api/v1/market-data/symbols?q=btc");
    expect((server.calls[0].init.headers as Record<string, string>).Authorization).toBe("Bearer secret-token");
  });

  it("forgets the token and tells the app on a 401", async () => {
    const server = recordingFetch([{ status: 401, body: { type: "about:blank", status: 401, detail: "token expired" } }]);
    const api = new Api(server.fetcher);
    api.signIn("old");
    let told = 0;
    api.onUnauthorized(() => (told += 1));
    await expect(api.get("/x")).rejects.toMatchObject({ status: 401, message: "token expired" });
    expect(api.accessToken).toBeNull();
    expect(told).toBe(1);
  });

  it("tells a missing route from a missing resource", async () => {
    const server = recordingFetch([
      { status: 404, body: { type: "about:blank", detail: "no route matches /api/v1/indicators/X/Y" } },
      { status: 404, body: { type: "https://pocketquant.dev/problems/not-found", detail: "unknown symbol" } },
    ]);
    const api = new Api(server.fetcher);
    const first = await api.get("/a").catch((e: ApiError) => e);
    const second = await api.get("/b").catch((e: ApiError) => e);
    expect([(first as ApiError).routeMissing, (second as ApiError).routeMissing]).toEqual([true, false]);
  });

  it("sends JSON bodies", async () => {
    const server = recordingFetch([{ status: 202, body: { status: "pending" } }]);
    const answer = await new Api(server.fetcher).post<{ status: string }>("/sync", { n_bars: 5 });
    expect(answer.body.status).toBe("pending");
    expect(server.calls[0].init.body).toBe('{"n_bars":5}');
    expect(server.calls[0].init.method).toBe("POST");
  });
});

describe("withQuery", () => {
  it("repeats array values, leaves out undefined ones and extends an existing query", () => {
    expect(withQuery("/s", { intervals: ["1m", "5m"], source: "tradingview", x: undefined })).toBe("/s?intervals=1m&intervals=5m&source=tradingview");
    expect(withQuery("/s?source=a", { interval: "1m" })).toBe("/s?source=a&interval=1m");
    expect(withQuery("/s", {})).toBe("/s");
  });
});
