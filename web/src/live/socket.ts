/**
 * One WebSocket to `/api/v1/ws/quotes` that reconnects by itself (backoff in `core/backoff`) and restores its
 * subscriptions after every reconnect. Listeners hear frames and state changes; the state carries the
 * number of reconnects so the connection indicator can show them.
 */

import { type BackoffPolicy, DEFAULT_BACKOFF, backoffDelay, failuresAfter } from "../core/backoff";

export type SocketPhase = "connecting" | "open" | "waiting" | "closed";

export interface SocketState {
  readonly phase: SocketPhase;
  readonly reconnects: number;
  readonly retryInMs: number | null;
}

export interface Subscription {
  readonly source: string;
  readonly symbols: readonly string[];
  readonly intervals: readonly string[];
}

export type Frame = Record<string, unknown> & { readonly type: string };

/** What the socket needs from its surroundings; the browser's by default, fakes in tests. */
export interface SocketEnvironment {
  open(url: string): WebSocket;
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

export const BROWSER: SocketEnvironment = {
  open: (url) => new WebSocket(url),
  now: () => performance.now(),
  setTimeout: (callback, ms) => window.setTimeout(callback, ms),
  clearTimeout: (handle) => window.clearTimeout(handle as number),
  random: () => Math.random(),
};

export class ReconnectingSocket {
  private socket: WebSocket | null = null;
  private subscriptions = new Map<string, Subscription>();
  private failures = 0;
  private openedAt: number | null = null;
  private timer: unknown = null;
  private stopped = true;
  private state: SocketState = { phase: "closed", reconnects: 0, retryInMs: null };
  private readonly frameListeners = new Set<(frame: Frame) => void>();
  private readonly stateListeners = new Set<(state: SocketState) => void>();
  private readonly reopenListeners = new Set<() => void>();

  constructor(
    private readonly url: string,
    private readonly token: () => string | null,
    private readonly env: SocketEnvironment = BROWSER,
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
  ) {}

  get current(): SocketState {
    return this.state;
  }

  onFrame(listener: (frame: Frame) => void): () => void {
    this.frameListeners.add(listener);
    return () => this.frameListeners.delete(listener);
  }

  onState(listener: (state: SocketState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  /** Called after a reconnect (not the first connect): what was missed meanwhile must be reloaded. */
  onReopen(listener: () => void): () => void {
    this.reopenListeners.add(listener);
    return () => this.reopenListeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.env.clearTimeout(this.timer);
    this.timer = null;
    this.socket?.close(1000);
    this.socket = null;
    this.setState({ phase: "closed", retryInMs: null });
  }

  subscribe(subscription: Subscription): void {
    this.subscriptions.set(keyOf(subscription), subscription);
    this.send({ action: "subscribe", ...subscription });
  }

  /** Drops the subscription's intervals, or its symbols entirely when no other subscription wants them. */
  unsubscribe(subscription: Subscription): void {
    if (!this.subscriptions.delete(keyOf(subscription))) return;
    const wanted = new Set([...this.subscriptions.values()].filter((s) => s.source === subscription.source).flatMap((s) => s.symbols));
    const gone = subscription.symbols.filter((symbol) => !wanted.has(symbol));
    const kept = subscription.symbols.filter((symbol) => wanted.has(symbol));
    if (gone.length > 0) this.send({ action: "unsubscribe", source: subscription.source, symbols: gone });
    if (kept.length > 0) this.send({ action: "unsubscribe", source: subscription.source, symbols: kept, intervals: subscription.intervals });
  }

  private connect(): void {
    this.setState({ phase: "connecting", retryInMs: null });
    const socket = this.env.open(this.url);
    this.socket = socket;
    socket.onopen = () => this.opened(socket);
    socket.onmessage = (event: MessageEvent) => this.received(event.data);
    socket.onclose = () => this.closed(socket);
  }

  private opened(socket: WebSocket): void {
    if (socket !== this.socket) return;
    const reopened = this.state.reconnects > 0;
    this.openedAt = this.env.now();
    const token = this.token();
    if (token !== null) this.send({ action: "auth", token });
    for (const subscription of this.subscriptions.values()) this.send({ action: "subscribe", ...subscription });
    this.setState({ phase: "open", retryInMs: null });
    if (reopened) for (const listener of this.reopenListeners) listener();
  }

  private received(data: unknown): void {
    if (typeof data !== "string") return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof frame === "object" && frame !== null && typeof (frame as Frame).type === "string") {
      for (const listener of this.frameListeners) listener(frame as Frame);
    }
  }

  private closed(socket: WebSocket): void {
    if (socket !== this.socket || this.stopped) return;
    this.socket = null;
    const upMs = this.openedAt === null ? null : this.env.now() - this.openedAt;
    this.openedAt = null;
    this.failures = failuresAfter(this.failures, upMs, this.policy);
    const delay = Math.round(backoffDelay(this.failures, this.policy, this.env.random()));
    this.setState({ phase: "waiting", retryInMs: delay, reconnects: this.state.reconnects + 1 });
    this.timer = this.env.setTimeout(() => this.connect(), delay);
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket !== null && this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  private setState(change: Partial<SocketState>): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.stateListeners) listener(this.state);
  }
}

function keyOf(subscription: Subscription): string {
  return `${subscription.source}|${subscription.symbols.join(",")}|${subscription.intervals.join(",")}`;
}
