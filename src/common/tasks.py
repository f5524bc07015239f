"""Background tasks of long-lived components."""

import asyncio
import contextlib
from typing import Any


async def cancelled(task: "asyncio.Task[Any] | None") -> None:
    """Cancel `task` (if any) and wait until it has finished."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
