"""Refusals made from a request's head, before anything else runs (one pass over the headers; the
outermost middleware runs the guard, one layer fewer on every request):

- `Host` not among the trusted hosts → 400 (DNS rebinding: a hostile page that resolves its own name to
  127.0.0.1 would otherwise talk to a service on loopback).
- A state-changing request (not GET/HEAD/OPTIONS) that a browser made from another site → 403 (CSRF).
  The check is Go's `http.CrossOriginProtection`: `Sec-Fetch-Site` when the browser sends it (same-origin
  or none pass), else `Origin` compared with `Host`; origins listed in CORS_ORIGINS pass; a request with
  neither header is not from a browser and passes. WebSocket handshakes are checked the same way.
- A body larger than the limit → 413, at once when `Content-Length` says so, else as soon as the bytes
  received pass it (chunked bodies): the body is never buffered past the limit.
"""

from collections.abc import Iterable

from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from src.infrastructure.http.problems import problem_body, send_problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BROWSER_SAME_SITE = frozenset({b"same-origin", b"none"})


class BodyTooLarge(HTTPException):
    """Raised from `receive` once the body passes the limit; a 413 problem wherever it surfaces."""

    slug = "request-too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class HostRules:
    """Host names (`api.example.com`), wildcard subdomains (`*.example.com`), addresses, or `*` for any."""

    def __init__(self, patterns: Iterable[str]) -> None:
        names = {p.lower() for p in patterns}
        self.any = "*" in names
        self._exact = names | {f"[{n}]" for n in names if ":" in n and not n.startswith("[")}
        self._suffixes = tuple(n[1:] for n in names if n.startswith("*."))  # ".example.com"
        self._seen: dict[bytes, bool] = {}

    def allows(self, host_header: bytes) -> bool:
        if self.any:
            return True
        known = self._seen.get(host_header)
        if known is None:
            known = self._match(_host_name(host_header.decode("latin-1").lower()))
            if len(self._seen) < 1024:  # a flood of invented names must not grow this without bound
                self._seen[host_header] = known
        return known

    def _match(self, name: str) -> bool:
        return name in self._exact or any(name.endswith(s) and len(name) > len(s) for s in self._suffixes)


def _host_name(host: str) -> str:
    """`host[:port]` or `[v6][:port]` without the port."""
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.partition(":")[0]


Refusal = tuple[int, str, str]  # status, problem slug, detail


class RequestGuard:
    """Run by the outermost middleware (`correlation_middleware`) before anything else: `check` answers
    with a refusal or None, `limited` counts the body as it arrives."""

    def __init__(self, *, max_body_bytes: int, trusted_hosts: HostRules, trusted_origins: Iterable[str] = ()) -> None:
        self.max_body_bytes = max_body_bytes
        self.hosts = trusted_hosts
        origins = {o.rstrip("/").lower() for o in trusted_origins}
        self.any_origin = "*" in origins
        self.origins = frozenset(o.encode("latin-1") for o in origins)

    def check(self, scope: Scope) -> tuple[Refusal | None, bool]:
        """(the refusal or None, whether the request has a body to count)."""
        head = _Head(scope["headers"])
        if not self.hosts.any and (head.host is None or not self.hosts.allows(head.host)):
            return (400, "untrusted-host", "the Host header names a host this service does not answer for"), False
        changes_state = scope["type"] == "websocket" or scope["method"] not in SAFE_METHODS
        if changes_state and self._cross_site(head):
            return (403, "cross-origin-refused", "cross-origin requests that change state are refused"), False
        length = head.length
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return (413, "request-too-large", f"request bodies are limited to {self.max_body_bytes} bytes"), False
        return None, head.has_body

    def _cross_site(self, head: "_Head") -> bool:
        if self.any_origin or head.fetch_site in _BROWSER_SAME_SITE:
            return False
        if head.origin is None:
            return head.fetch_site is not None  # a browser said cross-site (or same-site) without an Origin
        origin = head.origin.lower()
        if origin in self.origins:
            return False
        return head.host is None or origin.partition(b"://")[2] != head.host.lower()

    def limited(self, receive: Receive) -> Receive:
        """`receive`, raising BodyTooLarge once the body passes the limit (never buffering past it)."""
        received = 0
        limit = self.max_body_bytes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        return counting_receive

    @staticmethod
    async def refuse(scope: Scope, send: Send, refusal: Refusal) -> None:
        status, slug, detail = refusal
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
            return
        title = {400: "Bad Request", 403: "Forbidden", 413: "Content Too Large"}[status]
        await send_problem(send, status, problem_body(status, slug=slug, title=title, detail=detail,
                                                      instance=scope["path"]))


class _Head:
    """The request headers the guard reads, found in one pass."""

    __slots__ = ("fetch_site", "has_body", "host", "length", "origin")

    def __init__(self, headers: Iterable[tuple[bytes, bytes]]) -> None:
        self.host: bytes | None = None
        self.origin: bytes | None = None
        self.fetch_site: bytes | None = None
        self.length: bytes | None = None
        self.has_body = False
        for name, value in headers:
            if name == b"host":
                self.host = value
            elif name == b"origin":
                self.origin = value
            elif name == b"sec-fetch-site":
                self.fetch_site = value
            elif name == b"content-length":
                self.length = value
                self.has_body = value != b"0"
            elif name == b"transfer-encoding":
                self.has_body = True
