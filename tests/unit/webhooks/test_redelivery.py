"""Dead-letter redelivery through the Mediator, with the state-recording fakes."""

from dataclasses import replace

import pytest

from src.common.errors import Conflict, NotFound
from src.common.ports import DeadLetter
from src.features.webhooks.messages import RedeliverDeadLetterCommand, RedeliverDeadLettersCommand
from tests.world import World

LETTER = DeadLetter("a" * 32, "http://127.0.0.1:9/hook", "bar.synced", b"{}", 5, "HTTP 500", "c1", 100.0)


async def test_a_redelivered_letter_is_queued_and_leaves_the_dead_letters():
    world = World()
    await world.dead_letters.add(LETTER)
    assert await world.mediator.send(RedeliverDeadLetterCommand(LETTER.delivery_id)) == LETTER
    assert world.webhooks.redelivered == [LETTER] and world.dead_letters.letters == []
    with pytest.raises(NotFound):
        await world.mediator.send(RedeliverDeadLetterCommand(LETTER.delivery_id))


async def test_a_letter_failing_again_at_once_stays_a_dead_letter():
    world = World()
    await world.dead_letters.add(LETTER)
    newer = replace(LETTER, failed_at=200.0, attempts=1)

    async def fails_at_once(letter):
        await world.dead_letters.add(newer)  # the delivery failed before the handler removed the old letter
        return True

    world.webhooks.redeliver = fails_at_once
    await world.mediator.send(RedeliverDeadLetterCommand(LETTER.delivery_id))
    assert world.dead_letters.letters == [newer]


async def test_letters_of_urls_no_longer_configured_are_kept():
    world = World()
    await world.dead_letters.add(LETTER)
    gone = replace(LETTER, delivery_id="b" * 32, url="http://removed/hook")
    await world.dead_letters.add(gone)

    async def configured_only(letter):
        return letter.url == LETTER.url

    world.webhooks.redeliver = configured_only
    with pytest.raises(Conflict):
        await world.mediator.send(RedeliverDeadLetterCommand(gone.delivery_id))
    report = await world.mediator.send(RedeliverDeadLettersCommand())
    assert (report.redelivered, report.not_redelivered) == (1, 1)
    assert world.dead_letters.letters == [gone]
