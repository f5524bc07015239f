/**
 * The one way the app talks HTTP to the service, and the keeper of the login.
 *
 * Rules:
 * - The tokens (access and refresh) live in this object only (memory): never in localStorage, cookies or
 *   URLs, so closing or reloading the tab ends the session.
 * - An access token about to expire (within a tenth of its lifetime, at most `REFRESH_MARGIN_S`) is renewed
 *   before a request goes out; a 401 to a request made with a token renews it once and repeats the request.
 * - Renewals are single-flight: every request waiting for a new token waits for the same
 *   `POST /auth/refresh`, because each refresh token works once and a second use ends the login.
 * - A request that failed with an older token than the one now held is repeated without renewing again.
 * - When renewing fails the session ends and the app is told (it shows the login page).
 */

export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly field?: string;
  readonly [key: string]: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
  }

  /** True when no route answers the path at all (a feature this server does not have yet). */
  get routeMissing(): boolean {
    return this.status === 404 && (this.problem.type === undefined || this.problem.type === "about:blank");
  }
}

export type Query = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

export interface Answer<T> {
  readonly body: T;
  readonly response: Response;
}

/** What `POST /auth/login` and `POST /auth/refresh` answer. */
export interface TokenAnswer {
  readonly access_token: string;
  readonly expires_in: number;
  readonly refresh_token: string;
  readonly refresh_expires_in?: number;
  readonly user?: { readonly username: string; readonly role: string };
}

export interface Session {
  readonly accessToken: string;
  readonly refreshToken: string;
  /** When the access token was issued and when it stops working, on the clock given to `Api` (ms). */
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  readonly username: string | null;
  readonly role: string | null;
}

/** Renew an access token this long (s) before it expires, at most a tenth of its lifetime. */
export const REFRESH_MARGIN_S = 60;

const AUTH = "/api/v1/auth";

export class Api {
  private session: Session | null = null;
  private renewal: Promise<boolean> | null = null;
  private readonly unauthorizedListeners = new Set<() => void>();
  private readonly sessionListeners = new Set<(session: Session | null) => void>();

  constructor(
    private readonly fetcher: typeof fetch = (input, init) => fetch(input, init),
    private readonly now: () => number = () => Date.now(),
  ) {}

  get accessToken(): string | null {
    return this.session?.accessToken ?? null;
  }

  get current(): Session | null {
    return this.session;
  }

  /** Signs in with a username and password; resolves to the new session (rejects with the ApiError). */
  async logIn(username: string, password: string): Promise<Session> {
    const { body } = await this.send<TokenAnswer>("POST", `${AUTH}/login`, { username, password }, null);
    return this.begin(body);
  }

  /** Ends the login at the service (its refresh token stops working) and forgets it here. */
  async logOut(): Promise<void> {
    const ending = this.session;
    this.end();
    if (ending === null) return;
    try {
      await this.send("POST", `${AUTH}/logout`, { refresh_token: ending.refreshToken }, null);
    } catch {
      // Forgotten here either way; the refresh token expires on its own.
    }
  }

  /** The access token to present now (renewed first when about to expire), or null without a session. */
  async freshAccessToken(): Promise<string | null> {
    const session = this.session;
    if (session === null) return null;
    if (this.now() < session.expiresAtMs - renewalMarginMs(session)) return session.accessToken;
    return (await this.renew()) ? this.accessToken : null;
  }

  /** Exchanges the refresh token for a new pair, once however many callers ask at the same time. */
  renew(): Promise<boolean> {
    this.renewal ??= this.exchange().finally(() => {
      this.renewal = null;
    });
    return this.renewal;
  }

  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  /** Hears every sign-in, renewal and sign-out (null). */
  onSession(listener: (session: Session | null) => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  get<T>(path: string, query: Query = {}): Promise<Answer<T>> {
    return this.request<T>("GET", withQuery(path, query));
  }

  post<T>(path: string, body: unknown, query: Query = {}): Promise<Answer<T>> {
    return this.request<T>("POST", withQuery(path, query), body);
  }

  delete<T>(path: string, query: Query = {}): Promise<Answer<T>> {
    return this.request<T>("DELETE", withQuery(path, query));
  }

  async request<T>(method: string, url: string, body?: unknown): Promise<Answer<T>> {
    const token = await this.freshAccessToken();
    try {
      return await this.send<T>(method, url, body, token);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      if (token !== null && (this.accessToken !== token || (await this.renew()))) {
        return this.retry<T>(method, url, body);
      }
      this.requireLogin();
      throw error;
    }
  }

  private async retry<T>(method: string, url: string, body: unknown): Promise<Answer<T>> {
    try {
      return await this.send<T>(method, url, body, this.accessToken);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.requireLogin();
      throw error;
    }
  }

  private async exchange(): Promise<boolean> {
    const session = this.session;
    if (session === null) return false;
    try {
      const { body } = await this.send<TokenAnswer>("POST", `${AUTH}/refresh`, { refresh_token: session.refreshToken }, null);
      if (this.session !== session) return this.session !== null; // signed out or in again meanwhile
      this.begin(body, session);
      return true;
    } catch (error) {
      if (this.session === session && error instanceof ApiError && error.status === 401) this.end();
      return false;
    }
  }

  private begin(answer: TokenAnswer, previous: Session | null = null): Session {
    const now = this.now();
    this.session = {
      issuedAtMs: now,
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token,
      expiresAtMs: now + answer.expires_in * 1000,
      username: answer.user?.username ?? previous?.username ?? null,
      role: answer.user?.role ?? previous?.role ?? null,
    };
    for (const listener of this.sessionListeners) listener(this.session);
    return this.session;
  }

  private end(): void {
    if (this.session === null) return;
    this.session = null;
    for (const listener of this.sessionListeners) listener(null);
  }

  /** A 401 that renewing cannot cure: the session (if any) is over and the app must ask for a login. */
  requireLogin(): void {
    this.end();
    for (const listener of this.unauthorizedListeners) listener();
  }

  private async send<T>(method: string, url: string, body: unknown, token: string | null): Promise<Answer<T>> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await this.fetcher(url, init);
    const parsed = await parseBody(response);
    if (!response.ok) throw new ApiError(response.status, problemOf(parsed));
    return { body: parsed as T, response };
  }
}

export function renewalMarginMs(session: Session): number {
  return Math.min(REFRESH_MARGIN_S * 1000, (session.expiresAtMs - session.issuedAtMs) / 10);
}

function problemOf(parsed: unknown): Problem {
  return typeof parsed === "object" && parsed !== null ? (parsed as Problem) : { detail: String(parsed) };
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `path?a=1&b=x&b=y`; undefined values are left out, arrays repeat the key. */
export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, String(item));
    else params.append(key, String(value));
  }
  const text = params.toString();
  if (text === "") return path;
  return `${path}${path.includes("?") ? "&" : "?"}${text}`;
}
