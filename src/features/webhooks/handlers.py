"""Handlers of the webhooks slice."""

from src.common.ports import DeadLetter, DeadLetterRepository
from src.features.webhooks.messages import ListDeadLettersQuery


class ListDeadLettersHandler:
    def __init__(self, dead_letters: DeadLetterRepository) -> None:
        self._dead_letters = dead_letters

    async def __call__(self, query: ListDeadLettersQuery) -> list[DeadLetter]:
        return await self._dead_letters.list(query.limit)
