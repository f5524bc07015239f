"""Deliveries that failed for good. The port, and an in-memory adapter keeping the newest `max_size`."""

from collections import deque
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DeadLetter:
    delivery_id: str
    url: str
    event_type: str
    body: bytes
    attempts: int
    error: str
    correlation_id: str | None
    failed_at: float  # epoch seconds


class DeadLetterStore(Protocol):
    async def add(self, letter: DeadLetter) -> None: ...

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        """Newest first."""
        ...


class InMemoryDeadLetterStore:
    def __init__(self, max_size: int = 1000) -> None:
        self._letters: deque[DeadLetter] = deque(maxlen=max_size)

    async def add(self, letter: DeadLetter) -> None:
        self._letters.append(letter)

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        return list(reversed(self._letters))[:limit]

    def __len__(self) -> int:
        return len(self._letters)
