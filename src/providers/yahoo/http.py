"""Yahoo Finance over HTTP as yfinance speaks it: the cookie/crumb handshake, the source's shared request
budget, and Yahoo's answers turned into the application's errors.

Rules:
- The handshake is done once and kept: a page of the cookie host sets the cookie (answered 404 by Yahoo, which
  is expected), then `GET /v1/test/getcrumb` with that cookie answers the crumb, sent as `crumb=` on every request.
- `401` (`Invalid Crumb` / `Invalid Cookie`) forgets the crumb and retries once with a new handshake.
- `429` blocks the source in every worker for its `Retry-After` (else `rate_limited_pause_s`) and raises
  `SourceUnavailable`; 5xx, timeouts and connection errors are `UpstreamUnavailable`; `404` is `SymbolNotFound`;
  another 4xx is `UpstreamRejected` with Yahoo's description.
"""

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
import yarl

from src.common.errors import SourceUnavailable, SymbolNotFound, UpstreamRejected, UpstreamUnavailable
from src.common.ports import UpstreamLimiter
from src.providers.yahoo.config import YahooConfig

SOURCE = "yahoo"
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/138.0.0.0 Safari/537.36")
Params = Mapping[str, str | int]


class _CrumbRefused(Exception):
    pass


class YahooHttp:
    def __init__(self, config: YahooConfig, limiter: UpstreamLimiter) -> None:
        self.config = config
        self._limiter = limiter
        self._http: aiohttp.ClientSession | None = None
        self._crumb: str | None = None
        self._crumb_lock = asyncio.Lock()
        self.handshakes = 0
        self.requests = 0

    async def get_json(self, path: str, params: Params, *, what: str) -> Any:
        """`GET {base_url}{path}` with the crumb; `what` names the request in errors (e.g. the symbol)."""
        for _ in range(2):
            crumb = await self.crumb()
            try:
                return await self._get(path, {**params, "crumb": crumb}, what)
            except _CrumbRefused:
                self._crumb = None if self._crumb == crumb else self._crumb  # a new handshake next time
        raise UpstreamRejected(f"Yahoo refused the crumb for {what} twice")

    async def crumb(self) -> str:
        async with self._crumb_lock:
            if self._crumb is None:
                self._crumb = await self._handshake()
            return self._crumb

    async def _handshake(self) -> str:
        self.handshakes += 1
        await self._limiter.acquire()
        await self._fetch(self.config.cookie_url, {}, "the cookie page")  # 404 and the cookie, as Yahoo does
        await self._limiter.acquire()
        status, body = await self._fetch(self.config.base_url + "/v1/test/getcrumb", {}, "the crumb")
        crumb = body.decode(errors="replace").strip()
        if status != 200 or not crumb or "<" in crumb or " " in crumb:
            raise UpstreamRejected(f"Yahoo gave no crumb (HTTP {status}: {crumb[:80]!r})")
        return crumb

    async def _get(self, path: str, params: Params, what: str) -> Any:
        await self._limiter.acquire()
        status, body = await self._fetch(self.config.base_url + path, params, what)
        if status == 200:
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError as error:
                raise UpstreamRejected(f"Yahoo answered {what} with something other than JSON") from error
        if status == 401:
            raise _CrumbRefused()
        if status == 404:
            raise SymbolNotFound(f"Yahoo Finance has no data for {what}: {_description(body)}", field="symbol")
        raise UpstreamRejected(f"Yahoo refused {what}: HTTP {status}, {_description(body)}")

    async def _fetch(self, url: str, params: Params, what: str) -> tuple[int, bytes]:
        self.requests += 1
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        query = {key: str(value) for key, value in params.items()}
        try:
            async with self._session().get(yarl.URL(url, encoded=True), params=query, timeout=timeout) as response:
                body = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise UpstreamUnavailable(f"Yahoo Finance request for {what} failed: {error!r}") from error
        if status == 429:
            await self._rate_limited(retry_after, what)
        if status >= 500:
            raise UpstreamUnavailable(f"Yahoo Finance answered {what} with HTTP {status}")
        return status, body

    async def _rate_limited(self, retry_after: str | None, what: str) -> None:
        try:
            pause = max(float(retry_after or ""), 1.0)
        except ValueError:
            pause = self.config.rate_limited_pause_s
        await self._limiter.block(pause)
        raise SourceUnavailable(f"Yahoo Finance rate-limited the request for {what}; retry in {pause:.0f}s",
                                source=SOURCE, retry_after_s=pause)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                               headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def path_symbol(code: str) -> str:
    """A ticker as a path segment (`^GSPC` -> `%5EGSPC`, `EURUSD=X` -> `EURUSD%3DX`)."""
    return quote(code, safe="")


def _description(body: bytes) -> str:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:120].decode(errors="replace")
    if isinstance(decoded, dict):
        for key in ("chart", "finance", "quoteResponse"):
            error = decoded.get(key, {}).get("error") if isinstance(decoded.get(key), dict) else None
            if isinstance(error, dict):
                return f"{error.get('code', '')}: {error.get('description', '')}"
    return str(decoded)[:120]
