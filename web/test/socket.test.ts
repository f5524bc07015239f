import { describe, expect, it } from "vitest";
import type { BackoffPolicy } from "../src/core/backoff";
import { type SocketEnvironment, ReconnectingSocket, type SocketState } from "../src/live/socket";

const POLICY: BackoffPolicy = { baseMs: 500, capMs: 30_000, stableMs: 5_000 };

/** A socket the test opens, closes and reads; the clock and timers are the test's. */
class FakeSocket {
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {}
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    this.readyState = 3;
  }
  accept() {
    this.readyState = 1;
    this.onopen?.();
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

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

describe("ReconnectingSocket", () => {
  it("restores its subscriptions on every reconnect and asks for a reload", () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x/api/v1/ws/quotes", () => null, w.env, POLICY);
    let reloads = 0;
    socket.onReopen(() => (reloads += 1));
    socket.start();
    w.last().accept();
    socket.subscribe({ source: "tradingview", symbols: ["BINANCE:BTCUSDT"], intervals: ["1m"] });
    w.last().drop();
    w.advance(500);
    w.last().accept();
    expect(w.sockets).toHaveLength(2);
    expect(w.last().sent).toEqual([{ action: "subscribe", source: "tradingview", symbols: ["BINANCE:BTCUSDT"], intervals: ["1m"] }]);
    expect(reloads).toBe(1);
  });

  it("waits longer after each failure in a row and counts the reconnects", () => {
    const w = world();
    const states: SocketState[] = [];
    const socket = new ReconnectingSocket("ws://x", () => null, w.env, POLICY);
    socket.onState((s) => states.push(s));
    socket.start();
    const waits: Array<number | null> = [];
    for (let i = 0; i < 4; i += 1) {
      w.last().drop();
      waits.push(socket.current.retryInMs);
      w.advance(socket.current.retryInMs ?? 0);
    }
    expect(waits).toEqual([500, 1_000, 2_000, 4_000]);
    expect(socket.current.reconnects).toBe(4);
    expect(states.map((s) => s.phase)).toContain("waiting");
  });

  it("goes back to the shortest wait after a connection that stayed up", () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", () => null, w.env, POLICY);
    socket.start();
    w.last().drop();
    w.advance(500);
    w.last().drop();
    w.advance(1_000);
    w.last().accept();
    w.advance(60_000);
    w.last().drop();
    expect(socket.current.retryInMs).toBe(500);
  });

  it("does not reconnect once stopped", () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", () => null, w.env, POLICY);
    socket.start();
    w.last().accept();
    socket.stop();
    w.last().drop();
    w.advance(60_000);
    expect(w.sockets).toHaveLength(1);
    expect(socket.current.phase).toBe("closed");
  });

  it("sends the token first when signed in, never in the URL", () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x/api/v1/ws/quotes", () => "t0ken", w.env, POLICY);
    socket.subscribe({ source: "tradingview", symbols: ["FX:EURUSD"], intervals: ["1h"] });
    socket.start();
    w.last().accept();
    expect(w.last().url).not.toContain("t0ken");
    expect(w.last().sent[0]).toEqual({ action: "auth", token: "t0ken" });
    expect(w.last().sent[1]).toMatchObject({ action: "subscribe", symbols: ["FX:EURUSD"] });
  });

  it("unsubscribes a symbol entirely unless another subscription still wants it", () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", () => null, w.env, POLICY);
    socket.start();
    w.last().accept();
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

  it("hands JSON frames to its listeners and skips anything else", () => {
    const w = world();
    const socket = new ReconnectingSocket("ws://x", () => null, w.env, POLICY);
    const frames: unknown[] = [];
    socket.onFrame((f) => frames.push(f));
    socket.start();
    w.last().accept();
    for (const data of ['{"type":"bar","closed":true}', "not json", '{"no":"type"}']) w.last().onmessage?.({ data });
    expect(frames).toEqual([{ type: "bar", closed: true }]);
  });
});
