/**
 * One WebSocket to `/api/v1/ws/quotes` that reconnects by itself (backoff in `core/backoff`) and restores its
 * subscriptions after every reconnect. Listeners hear frames and state changes; the state carries the
 * number of reconnects so the connection indicator can show them.
 *
 * Authentication: with a signed-in user, the first message on every connection is
 * `{"action": "auth", "token": ...}` (browsers cannot set headers, and a token never goes in the URL), sent
 * before the subscriptions. Its answer — `authenticated`, or an error from a service that takes no in-band
 * authentication or has authentication off — is the next frame and is consumed here. A close with 4401
 * (token refused) renews the token and reconnects, or stops when the session is over.
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

export interface SocketAuth {
  /** The access token to authenticate with; null without a session (or with authentication off). */
  token(): Promise<string | null>;
  /** The service refused the token (close 4401): renew it; false when the session is over. */
  refused(): Promise<boolean>;
}

export const NO_AUTH: SocketAuth = { token: async () => null, refused: async () => false };

/** The close code of a socket whose credentials did not hold. */
export const UNAUTHENTICATED = 4401;

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
  /** Set once the socket may carry subscriptions (after its auth message, if any). */
  private ready = false;
  private awaitingAuthAnswer = false;
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
    private readonly auth: SocketAuth,
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
    this.ready = false;
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
    this.ready = false;
    socket.onopen = () => void this.opened(socket);
    socket.onmessage = (event: MessageEvent) => this.received(event.data);
    socket.onclose = (event: CloseEvent) => void this.closed(socket, event?.code);
  }

  private async opened(socket: WebSocket): Promise<void> {
    const token = await this.auth.token();
    if (socket !== this.socket || socket.readyState !== 1) return;
    const reopened = this.state.reconnects > 0;
    this.openedAt = this.env.now();
    this.ready = true;
    this.awaitingAuthAnswer = token !== null;
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
    if (typeof frame !== "object" || frame === null || typeof (frame as Frame).type !== "string") return;
    const type = (frame as Frame).type;
    if (this.awaitingAuthAnswer) {
      this.awaitingAuthAnswer = false;
      if (type === "authenticated" || type === "error") return;
    }
    for (const listener of this.frameListeners) listener(frame as Frame);
  }

  private async closed(socket: WebSocket, code: number | undefined): Promise<void> {
    if (socket !== this.socket || this.stopped) return;
    this.socket = null;
    this.ready = false;
    const upMs = this.openedAt === null ? null : this.env.now() - this.openedAt;
    this.openedAt = null;
    if (code === UNAUTHENTICATED && !(await this.auth.refused())) return this.stop();
    if (this.stopped || this.socket !== null) return;
    this.failures = failuresAfter(this.failures, upMs, this.policy);
    const delay = Math.round(backoffDelay(this.failures, this.policy, this.env.random()));
    this.setState({ phase: "waiting", retryInMs: delay, reconnects: this.state.reconnects + 1 });
    this.timer = this.env.setTimeout(() => this.connect(), delay);
  }

  private send(message: Record<string, unknown>): void {
    if (this.ready && this.socket !== null && this.socket.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  private setState(change: Partial<SocketState>): void {
    this.state = { ...this.state, ...change };
    for (const listener of this.stateListeners) listener(this.state);
  }
}

function keyOf(subscription: Subscription): string {
  return `${subscription.source}|${subscription.symbols.join(",")}|${subscription.intervals.join(",")}`;
}
