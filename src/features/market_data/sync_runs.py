"""At most one sync per series at a time in this process: a second request for a series being synced
joins the running one instead of starting another. Runs outlive the request that started them."""

import asyncio
from collections.abc import Awaitable, Callable

from src.domain.market_data import SeriesKey


class SyncRuns:
    def __init__(self) -> None:
        self._running: dict[SeriesKey, asyncio.Task[object]] = {}

    def start[T](self, key: SeriesKey, work: Callable[[], Awaitable[T]]) -> "asyncio.Task[T]":
        """The running task for `key`, or a new one running `work()`."""
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(work(), name=f"sync {key}")  # type: ignore[arg-type]
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task  # type: ignore[return-value]

    async def run[T](self, key: SeriesKey, work: Callable[[], Awaitable[T]]) -> T:
        # Shielded: a client that disconnects does not cancel a sync others may have joined.
        return await asyncio.shield(self.start(key, work))

    def is_running(self, key: SeriesKey) -> bool:
        return key in self._running

    def _forget(self, key: SeriesKey, task: "asyncio.Task[object]") -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited background failure is not reported twice

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Let running syncs finish within the timeout, then cancel the rest."""
        tasks = list(self._running.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
