"""At most one sync per series at a time in this process: a second request for a series being synced
joins the running one instead of starting another. Runs outlive the request that started them.

Shutdown: `begin_shutdown()` (when the signal arrives) gives running syncs `grace_s` to finish, then
cancels them (each records itself as interrupted); a request waiting on a cancelled sync gets
`ShuttingDown` (503) instead of hanging the server's drain. `stop()` does the same if nobody began it."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from src.common.errors import ShuttingDown
from src.domain.market_data import SeriesKey


class SyncRuns:
    def __init__(self, grace_s: float = 5.0) -> None:
        self._grace_s = grace_s
        self._running: dict[SeriesKey, asyncio.Task[object]] = {}
        self._deadline: float | None = None  # monotonic; set when shutdown begins
        self._cutoff: asyncio.Task[None] | None = None

    def start[T](self, key: SeriesKey, work: Callable[[], Awaitable[T]]) -> "asyncio.Task[T]":
        """The running task for `key`, or a new one running `work()`."""
        if self._deadline is not None:
            raise ShuttingDown("the service is shutting down: no new syncs")
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(work(), name=f"sync {key}")  # type: ignore[arg-type]
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task  # type: ignore[return-value]

    async def run[T](self, key: SeriesKey, work: Callable[[], Awaitable[T]]) -> T:
        # Shielded: a client that disconnects does not cancel a sync others may have joined.
        task = self.start(key, work)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled() and self._deadline is not None:
                raise ShuttingDown(f"the sync of {key} was interrupted: the service is shutting down") from None
            raise

    def is_running(self, key: SeriesKey) -> bool:
        return key in self._running

    def _forget(self, key: SeriesKey, task: "asyncio.Task[object]") -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved here so an unawaited background failure is not reported twice

    def begin_shutdown(self) -> None:
        if self._deadline is None:
            self._deadline = time.monotonic() + self._grace_s
            self._cutoff = asyncio.get_running_loop().create_task(self._cut_off(), name="sync-shutdown-cutoff")

    async def _cut_off(self) -> None:
        """Wait for the running syncs until the deadline, then cancel those left and wait for them."""
        tasks = list(self._running.values())
        if not tasks:
            return
        assert self._deadline is not None
        _, pending = await asyncio.wait(tasks, timeout=max(0.0, self._deadline - time.monotonic()))
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def stop(self) -> None:
        self.begin_shutdown()
        assert self._cutoff is not None
        with contextlib.suppress(asyncio.CancelledError):
            await self._cutoff
