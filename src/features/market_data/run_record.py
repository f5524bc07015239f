"""The status document of one running sync, held by its owner: every change is saved over the revision it
was derived from, and a background task renews the run's lease while it works. A save that finds another
revision means another process took the run over (our lease had expired): the run stops."""

import asyncio
import contextlib

from src.common.errors import Conflict
from src.common.ports import Clock, SyncStatusRepository
from src.domain.sync.status import SyncState

SAVE_TIMEOUT_S = 2.0  # bounded: a save made while shutting down must not hold the shutdown up


class LostRun(Conflict):
    """Another process took this sync over."""


class RunRecord:
    def __init__(self, statuses: SyncStatusRepository, state: SyncState, clock: Clock, lease_s: float) -> None:
        self._statuses = statuses
        self._clock = clock
        self._lease_s = lease_s
        self._lock = asyncio.Lock()
        self.current = state
        self.lost = False

    async def change(self, state: SyncState) -> None:
        async with self._lock:
            await self._save(state)

    async def _save(self, state: SyncState) -> None:
        if self.lost or not await self._statuses.save(state, expected_revision=self.current.revision):
            self.lost = True
            raise LostRun(f"{state.key}: another process took this sync over", field="symbol")
        self.current = state

    async def change_quietly(self, state: SyncState) -> None:
        """Best effort within SAVE_TIMEOUT_S (recording an interruption while the store may be going)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(SAVE_TIMEOUT_S):
                await self.change(state)

    async def keep_alive(self, run: "asyncio.Task[object] | None") -> None:
        """Renew the lease every third of it; cancel `run` if the run was taken over."""
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                async with self._lock:
                    await self._save(self.current.renew(self._clock.now(), self._lease_s))
            except LostRun:
                if run is not None:
                    run.cancel()
                return
            except Exception:  # a failed renewal is retried: the lease covers three periods
                continue
