import { describe, expect, it } from "vitest";
import { Api, ApiError, renewalMarginMs, withQuery } from "../src/api/client";

function recordingFetch(answers: Array<{ status: number; body: unknown }>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetcher = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const answer = answers.shift()!;
    return new Response(JSON.stringify(answer.body), { status: answer.status });
  }) as unknown as typeof fetch;
  return { fetcher, calls };
}

/** A service with real-shaped auth: tokens `a1`, `a2`, … paired with refresh tokens `r1`, `r2`, …; each
 * refresh token works once (a second use ends the login); `valid` is the access token it accepts. */
function authServer(expiresIn = 3_600) {
  const calls: Array<{ url: string; body: unknown; token: string | null }> = [];
  let issued = 0;
  const usedRefresh = new Set<string>();
  const state = { valid: "", live: true };
  const holds = new Map<string, Promise<void>>();
  /** Keeps the answer to `url` back until released (it is decided when released). */
  const hold = (url: string) => {
    let release = () => undefined as void;
    holds.set(url, new Promise<void>((resolve) => (release = resolve)));
    return () => release();
  };
  const pair = () => {
    issued += 1;
    state.valid = `a${issued}`;
    return { access_token: `a${issued}`, expires_in: expiresIn, refresh_token: `r${issued}`, refresh_expires_in: 86_400, user: { username: "ada", role: "trader" } };
  };
  const json = (status: number, body: unknown) => new Response(body === null ? "" : JSON.stringify(body), { status });
  const fetcher = (async (url: string, init: RequestInit) => {
    const body = init.body ? JSON.parse(String(init.body)) : undefined;
    const auth = (init.headers as Record<string, string>).Authorization ?? null;
    calls.push({ url, body, token: auth });
    await (holds.get(url) ?? Promise.resolve());
    if (url === "/api/v1/auth/login") return body.password === "right" ? json(200, pair()) : json(401, { detail: "wrong credentials" });
    if (url === "/api/v1/auth/logout") {
      state.live = false;
      return json(204, null);
    }
    if (url === "/api/v1/auth/refresh") {
      const token = body.refresh_token as string;
      if (usedRefresh.has(token) || !state.live || token !== `r${issued}`) {
        state.live = false;
        return json(401, { detail: "refresh token no longer holds" });
      }
      usedRefresh.add(token);
      return json(200, pair());
    }
    return auth === `Bearer ${state.valid}` && state.live ? json(200, { ok: url }) : json(401, { detail: "token expired" });
  }) as unknown as typeof fetch;
  return { fetcher, calls, state, hold, dataCalls: () => calls.filter((c) => !c.url.startsWith("/api/v1/auth/")) };
}

describe("Api", () => {
  it("sends the token in the Authorization header only, never in the URL", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    await api.logIn("ada", "right");
    await api.get("/api/v1/market-data/symbols", { q: "btc" });
    expect(server.calls[1].url).toBe("/api/v1/market-data/symbols?q=btc");
    expect(server.calls[1].token).toBe("Bearer a1");
    expect(api.current).toMatchObject({ username: "ada", role: "trader", refreshToken: "r1" });
  });

  it("without a session a 401 tells the app to show the login page", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    let told = 0;
    api.onUnauthorized(() => (told += 1));
    await expect(api.get("/x")).rejects.toMatchObject({ status: 401, message: "token expired" });
    expect(told).toBe(1);
    expect(server.calls.map((c) => c.url)).toEqual(["/x"]);
  });

  it("a wrong password is a failed login, not a trip to the login page", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    let told = 0;
    api.onUnauthorized(() => (told += 1));
    await expect(api.logIn("ada", "wrong")).rejects.toMatchObject({ status: 401 });
    expect([api.current, told]).toEqual([null, 0]);
  });

  it("renews the access token on a 401 and repeats the request once", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    await api.logIn("ada", "right");
    server.state.valid = "a1-expired";
    const answer = await api.get<{ ok: string }>("/data");
    expect(answer.body.ok).toBe("/data");
    expect(server.calls.map((c) => [c.url, c.token])).toEqual([
      ["/api/v1/auth/login", null], ["/data", "Bearer a1"], ["/api/v1/auth/refresh", null], ["/data", "Bearer a2"],
    ]);
    expect(server.calls[2].body).toEqual({ refresh_token: "r1" });
  });

  it("renews once for many requests refused at the same time (each refresh token works once)", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    await api.logIn("ada", "right");
    server.state.valid = "a1-expired";
    const answers = await Promise.all(["/a", "/b", "/c"].map((path) => api.get<{ ok: string }>(path)));
    expect(answers.map((a) => a.body.ok)).toEqual(["/a", "/b", "/c"]);
    expect(server.calls.filter((c) => c.url === "/api/v1/auth/refresh")).toHaveLength(1);
    expect(server.dataCalls().slice(3).map((c) => c.token)).toEqual(["Bearer a2", "Bearer a2", "Bearer a2"]);
  });

  it("repeats a request refused with an older token without renewing again", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    await api.logIn("ada", "right");
    server.state.valid = "a1-expired";
    const release = server.hold("/late");
    const late = api.get<{ ok: string }>("/late"); // goes out with a1, answered after the renewal below
    await api.get("/first"); // 401, renews: a2
    release();
    expect((await late).body.ok).toBe("/late");
    expect(server.calls.map((c) => [c.url, c.token])).toEqual([
      ["/api/v1/auth/login", null], ["/late", "Bearer a1"], ["/first", "Bearer a1"], ["/api/v1/auth/refresh", null],
      ["/first", "Bearer a2"], ["/late", "Bearer a2"],
    ]);
  });

  it("renews before a request when the token is within its margin of expiring", async () => {
    const server = authServer(600); // margin: a tenth of the lifetime, 60 s
    let now = 0;
    const api = new Api(server.fetcher, () => now);
    await api.logIn("ada", "right");
    now = 539_000;
    await api.get("/still-valid");
    now = 541_000;
    await api.get("/renewed-first");
    expect(server.calls.map((c) => [c.url, c.token])).toEqual([
      ["/api/v1/auth/login", null], ["/still-valid", "Bearer a1"], ["/api/v1/auth/refresh", null], ["/renewed-first", "Bearer a2"],
    ]);
    expect(renewalMarginMs(api.current!)).toBe(60_000);
  });

  it("ends the session and asks for a login when the refresh token no longer holds", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    await api.logIn("ada", "right");
    const sessions: Array<string | null> = [];
    api.onSession((s) => sessions.push(s?.accessToken ?? null));
    let told = 0;
    api.onUnauthorized(() => (told += 1));
    server.state.live = false; // the login was ended elsewhere
    await expect(api.get("/data")).rejects.toMatchObject({ status: 401 });
    expect([api.current, told, sessions]).toEqual([null, 1, [null]]);
  });

  it("logging out ends the login at the service with its refresh token and forgets both tokens", async () => {
    const server = authServer();
    const api = new Api(server.fetcher);
    await api.logIn("ada", "right");
    await api.logOut();
    expect(server.calls[1]).toEqual({ url: "/api/v1/auth/logout", body: { refresh_token: "r1" }, token: null });
    expect(api.current).toBeNull();
    await expect(api.get("/data")).rejects.toMatchObject({ status: 401 });
    expect(server.calls.at(-1)!.token).toBeNull();
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
