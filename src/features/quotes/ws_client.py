"""One client of the quotes WebSocket: its subscriptions, its bounded send queues and its sender task.

Queues, by priority: control frames (`subscribed`, snapshots, `pong`, errors), completed bars (never
coalesced), then quotes, forming bars and indicator values coalesced per (kind, symbol, interval): a client
that falls behind gets the newest value of each, never a backlog. Control frames and completed bars
together are bounded (`max_queued`); overflowing them, or one send stalling for `send_timeout_s` (the
client does not read, and the buffers between us are full), gets the client dropped (1013). The sender
yields to the event loop every few frames, so a long backlog never holds it.
"""

import asyncio
from collections import deque
from typing import Any

from src.domain.identity import Permission, Principal
from src.domain.market_data import Instrument, Interval

FrameKey = tuple[str, Instrument, Interval | None]
YIELD_EVERY = 32  # frames sent in a row before the sender lets others run


class HubClient:
    def __init__(self, websocket: Any, *, holder: str, client: str, address: str, max_queued: int,
                 send_timeout_s: float) -> None:
        self.websocket = websocket
        self.holder = holder  # its name as a holder of upstream subscriptions
        self.client = client  # whom its messages are counted as (the rate limit's bucket)
        self.address = address
        self.principal: Principal | None = None
        self.owner: str | None = None  # whose alerts come to it: its principal's user id (None until known)
        self.pending: Permission | None = None  # to prove in its first message (no credentials at the handshake)
        self.subscriptions: dict[Instrument, frozenset[Interval]] = {}
        self.indicators: dict[Instrument, tuple[str, ...]] = {}  # output columns asked for, per symbol
        self._coalesced: dict[FrameKey, str] = {}
        self._closed: deque[str] = deque()
        self._control: deque[str] = deque()
        self._max_queued = max_queued
        self._send_timeout_s = send_timeout_s
        self._wake = asyncio.Event()
        self._paused = 0  # subscribes in flight: frames wait until their `subscribed` goes first
        self.sender: asyncio.Task[None] | None = None
        self.kick_reason: str | None = None
        self.kick_code = 1013
        self.refusals: list[float] = []  # when its recent messages were refused by the rate limit
        self.sent = 0
        self.coalesced = 0  # frames replaced by a newer one before they were sent

    # --- producers (synchronous, never block) ----------------------------------------------------

    def offer(self, key: FrameKey, frame: str) -> None:
        if key in self._coalesced:
            self.coalesced += 1
        self._coalesced[key] = frame
        self._wake.set()

    def offer_closed(self, key: FrameKey, frame: str) -> bool:
        """Queue a completed bar; False when the bounded queues overflowed (the client must go)."""
        self._coalesced.pop(key, None)  # a forming frame of this key is superseded by the closed bar
        if self._full():
            return False
        self._closed.append(frame)
        self._wake.set()
        return True

    def control(self, frame: str) -> bool:
        """Queue a control frame; False when the bounded queues overflowed (the client must go)."""
        if self._full():
            return False
        self._control.append(frame)
        self._wake.set()
        return True

    def _full(self) -> bool:
        return len(self._closed) + len(self._control) >= self._max_queued

    def pause(self) -> None:
        self._paused += 1

    def resume(self) -> None:
        self._paused -= 1
        self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._coalesced) + len(self._closed) + len(self._control)

    # --- the sender ------------------------------------------------------------------------------

    def _next(self) -> str | None:
        if self._control:
            return self._control.popleft()
        if self._closed:
            return self._closed.popleft()
        if self._coalesced:
            key = next(iter(self._coalesced))
            return self._coalesced.pop(key)
        return None

    async def run(self) -> None:
        """Send until cancelled; a send stalling beyond the timeout raises TimeoutError."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            in_a_row = 0
            while not self._paused and (frame := self._next()) is not None:
                async with asyncio.timeout(self._send_timeout_s):
                    await self.websocket.send_text(frame)
                self.sent += 1
                in_a_row += 1
                if in_a_row % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
