import { describe, expect, it } from "vitest";
import type { BackoffPolicy } from "../src/core/backoff";
import { NO_AUTH, ReconnectingSocket, type SocketAuth, type SocketEnvironment, type SocketState } from "../src/live/socket";

const POLICY: BackoffPolicy = { baseMs: 500, capMs: 30_000, stableMs: 5_000 };

/** A socket the test opens, closes and reads; the clock and timers are the test's. */
class FakeSocket {
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  constructor(readonly url: string) {}
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  /** Opens the socket and lets the client's (asynchronous) opening steps run. */
  async accept() {
    this.readyState = 1;
    this.onopen?.();
    await settle();
  }
  async drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
    await settle();
  }
  receive(frame: unknown) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function world() {
  const sockets: FakeSocket[] = [];
  const timers: Array<{ at: number; run: () => void }> = [];
  let now = 0;
  const env: SocketEnvironment = {
    open: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket as unknown as WebSocket;
    },
    now: () => now,
    setTimeout: (run, ms) => timers.push({ at: now + ms, run }),
    clearTimeout: () => timers.splice(0),
    random: () => 0.999_999,
  };
  const advance = (ms: number) => {
    now += ms;
    for (const timer of timers.splice(0)) {
      if (timer.at <= now) timer.run();
      else timers.push(timer);
    }
  };
  return { env, sockets, advance, last: () => sockets[sockets.length - 1] };
}

/** A session whose token is `tokens[0]`, then the next one after each refusal; refusals past the last fail. */
function tokenAuth(...tokens: string[]): SocketAuth & { refusals: number } {
  const auth = {
    refusals: 0,
    token: async () => tokens[Math.min(auth.refusals, tokens.length - 1)],
    refused: async () => {
      auth.refusals += 1;
      return auth.refusals < tokens.length;
    },
  };
  return auth;
}

/** A started socket, its first connection accepted, with the frames its listeners heard. */
async function listening(auth: SocketAuth) {
  const w = world();
  const socket = new ReconnectingSocket("ws://x", auth, w.env, POLICY);
  const frames: unknown[] = [];
  socket.onFrame((f) => frames.push(f));
  socket.start();
  await w.last().accept();
  return { w, socket, frames };
}

describe("ReconnectingSocket", () => {
  it("restores its subscriptions on every reconnect and asks for a reload", async () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x/api/v1/ws/quotes", NO_AUTH, w.env, POLICY);
    let reloads = 0;
    socket.onReopen(() => (reloads += 1));
    socket.start();
    await w.last().accept();
    socket.subscribe({ source: "tradingview", symbols: ["BINANCE:BTCUSDT"], intervals: ["1m"] });
    await w.last().drop();
    w.advance(500);
    await w.last().accept();
    expect(w.sockets).toHaveLength(2);
    expect(w.last().sent).toEqual([{ action: "subscribe", source: "tradingview", symbols: ["BINANCE:BTCUSDT"], intervals: ["1m"] }]);
    expect(reloads).toBe(1);
  });

  it("waits longer after each failure in a row and counts the reconnects", async () => {
    const w = world();
    const states: SocketState[] = [];
    const socket = new ReconnectingSocket("ws://x", NO_AUTH, w.env, POLICY);
    socket.onState((s) => states.push(s));
    socket.start();
    const waits: Array<number | null> = [];
    for (let i = 0; i < 4; i += 1) {
      await w.last().drop();
      waits.push(socket.current.retryInMs);
      w.advance(socket.current.retryInMs ?? 0);
    }
    expect(waits).toEqual([500, 1_000, 2_000, 4_000]);
    expect(socket.current.reconnects).toBe(4);
    expect(states.map((s) => s.phase)).toContain("waiting");
  });

  it("goes back to the shortest wait after a connection that stayed up", async () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", NO_AUTH, w.env, POLICY);
    socket.start();
    await w.last().drop();
    w.advance(500);
    await w.last().drop();
    w.advance(1_000);
    await w.last().accept();
    w.advance(60_000);
    await w.last().drop();
    expect(socket.current.retryInMs).toBe(500);
  });

  it("does not reconnect once stopped", async () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", NO_AUTH, w.env, POLICY);
    socket.start();
    await w.last().accept();
    socket.stop();
    await w.last().drop();
    w.advance(60_000);
    expect(w.sockets).toHaveLength(1);
    expect(socket.current.phase).toBe("closed");
  });

  it("sends the token first when signed in, never in the URL", async () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x/api/v1/ws/quotes", tokenAuth("t0ken"), w.env, POLICY);
    socket.subscribe({ source: "tradingview", symbols: ["FX:EURUSD"], intervals: ["1h"] });
    socket.start();
    await w.last().accept();
    expect(w.last().url).not.toContain("t0ken");
    expect(w.last().sent[0]).toEqual({ action: "auth", token: "t0ken" });
    expect(w.last().sent[1]).toMatchObject({ action: "subscribe", symbols: ["FX:EURUSD"] });
  });

  it("unsubscribes a symbol entirely unless another subscription still wants it", async () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", NO_AUTH, w.env, POLICY);
    socket.start();
    await w.last().accept();
    const minute = { source: "tradingview", symbols: ["BINANCE:BTCUSDT"], intervals: ["1m"] };
    const hour = { source: "tradingview", symbols: ["BINANCE:BTCUSDT"], intervals: ["1h"] };
    socket.subscribe(minute);
    socket.subscribe(hour);
    socket.unsubscribe(minute);
    socket.unsubscribe(hour);
    expect(w.last().sent.slice(2)).toEqual([
      { action: "unsubscribe", source: "tradingview", symbols: ["BINANCE:BTCUSDT"], intervals: ["1m"] },
      { action: "unsubscribe", source: "tradingview", symbols: ["BINANCE:BTCUSDT"] },
    ]);
  });

  it("hands JSON frames to its listeners and skips anything else", async () => {
    const { w, frames } = await listening(NO_AUTH);
    for (const data of ['{"type":"bar","closed":true}', "not json", '{"no":"type"}']) w.last().onmessage?.({ data });
    expect(frames).toEqual([{ type: "bar", closed: true }]);
  });

  it("consumes the answer to its auth message, whether accepted or not understood", async () => {
    for (const answer of [{ type: "authenticated", user: "ada", role: "viewer" }, { type: "error", error: "BadMessage", detail: "'action' must be 'subscribe'" }]) {
      const { w, frames } = await listening(tokenAuth("t0ken"));
      w.last().receive(answer);
      w.last().receive({ type: "error", error: "SymbolNotFound" });
      expect(frames).toEqual([{ type: "error", error: "SymbolNotFound" }]);
    }
  });

  it("hands every frame on when it sent no auth message (nobody signed in)", async () => {
    const { w, frames } = await listening(NO_AUTH);
    w.last().receive({ type: "error", error: "BadMessage" });
    expect(frames).toEqual([{ type: "error", error: "BadMessage" }]);
    expect(w.last().sent).toEqual([]);
  });

  it("holds a subscription made while the token is still being renewed until the auth message went out", async () => {
    const w = world();
    let release: (token: string) => void = () => undefined;
    const slow: SocketAuth = { token: () => new Promise((resolve) => (release = resolve)), refused: async () => false };
    const socket = new ReconnectingSocket("ws://x", slow, w.env, POLICY);
    socket.start();
    const opening = w.last().accept();
    socket.subscribe({ source: "tradingview", symbols: ["FX:EURUSD"], intervals: ["1h"] });
    expect(w.last().sent).toEqual([]);
    release("renewed");
    await opening;
    await settle();
    expect(w.last().sent).toEqual([{ action: "auth", token: "renewed" }, { action: "subscribe", source: "tradingview", symbols: ["FX:EURUSD"], intervals: ["1h"] }]);
    expect(socket.current.phase).toBe("open");
  });

  it("renews the token after a 4401 close and reconnects with the new one", async () => {
    const w = world();
    const auth = tokenAuth("expired", "renewed");
    const socket = new ReconnectingSocket("ws://x", auth, w.env, POLICY);
    socket.start();
    await w.last().accept();
    await w.last().drop(4401);
    expect(auth.refusals).toBe(1);
    expect(socket.current.phase).toBe("waiting");
    w.advance(socket.current.retryInMs ?? 0);
    await w.last().accept();
    expect(w.sockets).toHaveLength(2);
    expect(w.last().sent[0]).toEqual({ action: "auth", token: "renewed" });
  });

  it("stops after a 4401 close when the session cannot be renewed", async () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", tokenAuth("expired"), w.env, POLICY);
    socket.start();
    await w.last().accept();
    await w.last().drop(4401);
    w.advance(60_000);
    expect(w.sockets).toHaveLength(1);
    expect(socket.current.phase).toBe("closed");
  });
});
