"""Request weight per IP, as Binance counts it.

Rules:
- Every answered request adds its endpoint's weight to the caller's count for the current window (fixed
  windows aligned to the clock; one minute by default). Every answer carries the count in
  `X-MBX-USED-WEIGHT` and `X-MBX-USED-WEIGHT-<n><unit>` (`-1M` for the default window).
- A request that would take the count over the limit is answered 429, code -1003, with `Retry-After` (seconds
  to the end of the window) and does not add weight.
- A client that sends more than `ban_after` requests while 429'ed in one window is banned: 418, code -1003,
  with `Retry-After` until the ban ends (`ban_seconds`); every request during a ban is answered the same way.
"""

import math
from dataclasses import dataclass, field
from typing import Protocol

from simulators.binance.errors import BinanceError


@dataclass
class Usage:
    window: int = -1
    used: int = 0
    rejected: int = 0
    banned_until: float = 0.0


class LimitSettings(Protocol):
    weight_limit: int
    weight_window: float
    ban_after: int
    ban_seconds: float


@dataclass
class WeightLimiter:
    settings: LimitSettings  # read on every request, so tests change the limits of a running simulator
    usage: dict[str, Usage] = field(default_factory=dict)

    @property
    def limit(self) -> int:
        return self.settings.weight_limit

    @property
    def window_seconds(self) -> float:
        return self.settings.weight_window

    def header_name(self) -> str:
        seconds = self.window_seconds
        for unit, length in (("D", 86_400), ("H", 3_600), ("M", 60)):
            if seconds >= length and seconds % length == 0:
                return f"X-MBX-USED-WEIGHT-{int(seconds // length)}{unit}"
        return f"X-MBX-USED-WEIGHT-{math.ceil(seconds)}S"

    def headers(self, client: str, now: float) -> dict[str, str]:
        used = str(self._current(client, now).used)
        return {"X-MBX-USED-WEIGHT": used, self.header_name(): used}

    def admit(self, client: str, weight: int, now: float) -> None:
        """Count `weight` for `client`, or raise the 429/418 answer."""
        usage = self._current(client, now)
        if usage.banned_until > now:
            raise self.ban_error(usage.banned_until, now)
        if usage.used + weight > self.limit:
            usage.rejected += 1
            if usage.rejected > self.settings.ban_after:
                usage.banned_until = now + self.settings.ban_seconds
                raise self.ban_error(usage.banned_until, now)
            raise self.limit_error(now)
        usage.used += weight

    def limit_error(self, now: float) -> BinanceError:
        return BinanceError(-1003, f"Too much request weight used; current limit is {self.limit} request weight "
                                   f"per {self._window_text()}. Please use WebSocket Streams for live updates to "
                                   "avoid polling the API.", status=429,
                            retry_after=max(1, math.ceil(self._window_end(now) - now)))

    def ban_error(self, until: float, now: float) -> BinanceError:
        return BinanceError(-1003, f"Way too much request weight used; IP banned until {int(until * 1000)}. "
                                   "Please use WebSocket Streams for live updates to avoid bans.", status=418,
                            retry_after=max(1, math.ceil(until - now)))

    def ban(self, client: str, now: float) -> None:
        self._current(client, now).banned_until = now + self.settings.ban_seconds

    def _current(self, client: str, now: float) -> Usage:
        usage = self.usage.setdefault(client, Usage())
        window = int(now // self.window_seconds)
        if window != usage.window:
            usage.window, usage.used, usage.rejected = window, 0, 0
        return usage

    def _window_end(self, now: float) -> float:
        return (now // self.window_seconds + 1) * self.window_seconds

    def _window_text(self) -> str:
        name = self.header_name().removeprefix("X-MBX-USED-WEIGHT-")
        unit = {"S": "SECOND", "M": "MINUTE", "H": "HOUR", "D": "DAY"}[name[-1]]
        return f"{name[:-1]} {unit}"
