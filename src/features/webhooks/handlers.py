"""Handlers of the webhooks slice."""

from dataclasses import dataclass

from src.common.errors import Conflict, NotFound
from src.common.ports import DeadLetter, DeadLetterRepository, WebhookSender
from src.features.webhooks.messages import (
    ListDeadLettersQuery,
    RedeliverDeadLetterCommand,
    RedeliverDeadLettersCommand,
)


class ListDeadLettersHandler:
    def __init__(self, dead_letters: DeadLetterRepository) -> None:
        self._dead_letters = dead_letters

    async def __call__(self, query: ListDeadLettersQuery) -> list[DeadLetter]:
        return await self._dead_letters.list(query.limit)


class DeadLetterRedelivery:
    """A dead letter goes back to the outbox, then leaves the dead letters (a crash in between leaves it in
    both: delivered, and still listed; failing again at once makes a newer letter, which stays). Only to a
    URL still configured: there is nowhere else to send it."""

    def __init__(self, dead_letters: DeadLetterRepository, sender: WebhookSender | None) -> None:
        self._dead_letters = dead_letters
        self._sender = sender

    async def __call__(self, letter: DeadLetter) -> bool:
        if self._sender is None or not await self._sender.redeliver(letter):
            return False
        await self._dead_letters.remove(letter)
        return True


class RedeliverDeadLetterHandler:
    def __init__(self, dead_letters: DeadLetterRepository, redelivery: DeadLetterRedelivery) -> None:
        self._dead_letters = dead_letters
        self._redeliver = redelivery

    async def __call__(self, command: RedeliverDeadLetterCommand) -> DeadLetter:
        letter = await self._dead_letters.get(command.delivery_id)
        if letter is None:
            raise NotFound(f"no dead letter {command.delivery_id!r}", field="delivery_id")
        if not await self._redeliver(letter):
            raise Conflict(f"{letter.url} is not a configured webhook URL (any more)", field="delivery_id")
        return letter


@dataclass(frozen=True, slots=True)
class RedeliveryReport:
    redelivered: int
    not_redelivered: int  # their URL is no longer configured


class RedeliverDeadLettersHandler:
    def __init__(self, dead_letters: DeadLetterRepository, redelivery: DeadLetterRedelivery) -> None:
        self._dead_letters = dead_letters
        self._redeliver = redelivery

    async def __call__(self, command: RedeliverDeadLettersCommand) -> RedeliveryReport:
        outcomes = [await self._redeliver(letter) for letter in await self._dead_letters.list(command.limit)]
        return RedeliveryReport(sum(outcomes), len(outcomes) - sum(outcomes))
