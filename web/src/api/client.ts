/**
 * The one way the app talks HTTP to the service. The access token lives in this object only (memory): never
 * in localStorage, cookies or URLs, so closing the tab ends the session. A 401 clears it and tells the app,
 * which shows the login page.
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

export class Api {
  private token: string | null = null;
  private readonly unauthorizedListeners = new Set<() => void>();

  constructor(private readonly fetcher: typeof fetch = (input, init) => fetch(input, init)) {}

  get accessToken(): string | null {
    return this.token;
  }

  signIn(token: string): void {
    this.token = token;
  }

  signOut(): void {
    this.token = null;
  }

  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
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
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token !== null) headers.Authorization = `Bearer ${this.token}`;
    const init: RequestInit = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await this.fetcher(url, init);
    const parsed = await parseBody(response);
    if (!response.ok) throw this.failure(response.status, parsed);
    return { body: parsed as T, response };
  }

  private failure(status: number, parsed: unknown): ApiError {
    if (status === 401) {
      this.token = null;
      for (const listener of this.unauthorizedListeners) listener();
    }
    const problem = typeof parsed === "object" && parsed !== null ? (parsed as Problem) : { detail: String(parsed) };
    return new ApiError(status, problem);
  }
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
