"""Warnings about a failure that repeats on every request (a dependency down under load) logged at most
once per interval, each saying how many occurrences it stands for; the count itself goes to metrics."""

import time
from collections.abc import Callable
from typing import Any

import structlog


class ThrottledWarning:
    def __init__(self, logger: Any, event: str, *, every_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log = logger if logger is not None else structlog.get_logger()
        self._event = event
        self._every_s = every_s
        self._clock = clock
        self._last = -float("inf")
        self._since_last = 0
        self.total = 0

    def warn(self, **fields: Any) -> None:
        self.total += 1
        self._since_last += 1
        now = self._clock()
        if now - self._last >= self._every_s:
            self._log.warning(self._event, occurrences=self._since_last, every_s=self._every_s, **fields)
            self._last = now
            self._since_last = 0
