"""Binance's REST API as the adapter uses it: every request spends its weight from the source's shared
budget first, errors become the application's, and the exchange's own limits are obeyed.

Rules:
- Each request's weight is acquired from the `UpstreamLimiter` before it is sent.
- `X-MBX-USED-WEIGHT-<n><unit>` is read from every answer; once the weight used in the exchange's window
  (one minute on Binance) passes `weight_share` of its limit `weight_per_minute` (others share the IP, or the
  bucket was sized wrong), the source is blocked until that window ends.
- `429` blocks the source for its `Retry-After` and the request is sent again once (if the wait is within the
  limiter's bound); `418` (an IP ban) blocks it for the ban's `Retry-After` and fails at once. Both raise
  `SourceUnavailable` when they cannot be waited out.
- `-1121` (invalid symbol) is `SymbolNotFound`; another 4xx is `UpstreamRejected`; 5xx, timeouts and connection
  errors are `UpstreamUnavailable`.
"""

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from src.common.errors import SourceUnavailable, SymbolNotFound, UpstreamRejected, UpstreamUnavailable
from src.common.ports import UpstreamLimiter
from src.providers.binance.config import BinanceConfig

SOURCE = "binance"
INVALID_SYMBOL = -1121
_USED_WEIGHT = re.compile(r"^x-mbx-used-weight-(\d+)([smhd])$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class _RateLimited:
    retry_after: float


class BinanceRest:
    def __init__(self, config: BinanceConfig, limiter: UpstreamLimiter, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._limiter = limiter
        self._clock = clock
        self._http: aiohttp.ClientSession | None = None
        self.requests = 0
        self.used_weight = 0  # as the exchange last reported it
        self.rate_limited = 0  # 429 and 418 answers received

    async def get(self, path: str, params: Params, weight: int) -> Any:
        """The decoded JSON of `GET {api_url}{path}`."""
        retry_after = 0.0
        for _ in range(2):
            await self._limiter.acquire(weight)
            reply = await self._send(path, params)
            if not isinstance(reply, _RateLimited):
                return reply
            retry_after = reply.retry_after
            await self._limiter.block(retry_after)
        raise SourceUnavailable(f"Binance rate-limited {path} twice; retry in {math.ceil(retry_after)}s",
                                source=SOURCE, retry_after_s=retry_after)

    async def _send(self, path: str, params: Params) -> Any:
        """Send once: the decoded answer, or `_RateLimited` after a 429."""
        http = self._session()
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout)
        self.requests += 1
        try:
            async with http.get(self.config.api_url + path, params=_strings(params), timeout=timeout) as response:
                body = await response.read()
                await self._watch_weight(response.headers)
                return await self._judge(path, response, body)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise UpstreamUnavailable(f"Binance {path} failed: {error!r}") from error

    async def _judge(self, path: str, response: aiohttp.ClientResponse, body: bytes) -> Any:
        status = response.status
        if status == 200:
            return _json(body, path)
        retry_after = _retry_after(response.headers)
        if status in (418, 429):
            self.rate_limited += 1
        if status == 429:
            return _RateLimited(retry_after)
        if status == 418:
            await self._limiter.block(retry_after)
            raise SourceUnavailable(f"Binance banned this IP; retry in {math.ceil(retry_after)}s", source=SOURCE,
                                    retry_after_s=retry_after)
        code, message = _error(body)
        if code == INVALID_SYMBOL:
            raise SymbolNotFound(f"Binance does not know this symbol ({message})", field="symbol")
        if 400 <= status < 500:
            raise UpstreamRejected(f"Binance refused {path}: HTTP {status}, {code} {message}")
        raise UpstreamUnavailable(f"Binance {path} answered HTTP {status}: {message}")

    async def _watch_weight(self, headers: Mapping[str, str]) -> None:
        for name, value in headers.items():
            match = _USED_WEIGHT.match(name)
            if match is None or not value.isdigit():
                continue
            window_s = int(match.group(1)) * _UNIT_S[match.group(2).lower()]
            self.used_weight = int(value)
            if self.used_weight >= self.config.weight_share * self.config.weight_per_minute:
                now = self._clock()
                await self._limiter.block(window_s - now % window_s)
            return

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(headers={"Accept": "application/json"})
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def _strings(params: Params) -> dict[str, str]:
    return {key: str(value) for key, value in params.items()}


def _json(body: bytes, path: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise UpstreamRejected(f"Binance {path} answered something other than JSON") from error


def _retry_after(headers: Mapping[str, str]) -> float:
    value = headers.get("Retry-After", "")
    try:
        return max(float(value), 1.0)
    except ValueError:
        return 60.0


def _error(body: bytes) -> tuple[int | None, str]:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, body[:200].decode(errors="replace")
    if isinstance(decoded, dict):
        code = decoded.get("code")
        return (code if isinstance(code, int) else None), str(decoded.get("msg", ""))
    return None, str(decoded)[:200]
