from dataclasses import dataclass

import pytest

from src.common.errors import NoHandlerRegistered
from src.common.mediator import Mediator


@dataclass(frozen=True)
class Ping:
    value: int


@dataclass(frozen=True)
class Unhandled:
    pass


async def test_send_runs_the_one_registered_handler_and_returns_its_result():
    calls = []

    async def handle(message: Ping) -> int:
        calls.append(message)
        return message.value * 2

    assert await Mediator({Ping: handle}).send(Ping(21)) == 42
    assert calls == [Ping(21)]


async def test_send_without_a_handler_names_the_message_type():
    with pytest.raises(NoHandlerRegistered, match="Unhandled"):
        await Mediator().send(Unhandled())


def test_registering_a_second_handler_for_a_type_is_refused():
    async def handle(_: Ping) -> None: ...

    mediator = Mediator({Ping: handle})
    with pytest.raises(ValueError, match="already registered"):
        mediator.register(Ping, handle)


async def test_handler_exceptions_reach_the_caller():
    async def boom(_: Ping) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await Mediator({Ping: boom}).send(Ping(1))
