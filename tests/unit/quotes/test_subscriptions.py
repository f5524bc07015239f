"""Upstream subscriptions reference-counted from REST and WebSocket holders (issue 13 §1): one shared
upstream add per symbol, unknown symbols refused to every requester, cancelled or failed subscribes and
ended connections release their references, and a symbol nobody holds is unsubscribed upstream."""

import asyncio

import pytest

from src.common.errors import SymbolNotFound
from src.features.quotes.messages import ReleaseQuotesCommand, SubscribeQuotesCommand, UnsubscribeQuotesCommand
from tests.unit.quotes.conftest import BAD, BTC, ETH


async def until(predicate, within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - state owned by the service's tasks
            await asyncio.sleep(0.001)


async def test_concurrent_subscribes_of_an_unknown_symbol_are_all_refused(world):
    world.feed.gate = asyncio.Event()
    requests = [asyncio.create_task(world.mediator.send(SubscribeQuotesCommand((BAD,), holder=f"ws:{n}")))
                for n in range(5)]
    await until(lambda: world.feed.subscribe_calls)
    world.feed.gate.set()
    outcomes = await asyncio.gather(*requests, return_exceptions=True)
    assert all(isinstance(outcome, SymbolNotFound) for outcome in outcomes), outcomes
    assert world.feed.subscribe_calls == [[BAD.symbol]]  # one upstream add for all of them
    assert world.service.instruments == []


async def test_concurrent_subscribes_share_one_upstream_add_and_all_succeed(world):
    world.feed.gate = asyncio.Event()
    requests = [asyncio.create_task(world.mediator.send(SubscribeQuotesCommand((BTC, ETH), holder=f"ws:{n}")))
                for n in range(3)]
    await until(lambda: world.feed.subscribe_calls)
    world.feed.gate.set()
    await asyncio.gather(*requests)
    assert world.feed.subscribe_calls == [[BTC.symbol, ETH.symbol]]
    assert world.service.holders(BTC) == 3


async def test_a_symbol_stays_upstream_while_anyone_holds_it_and_goes_with_its_last_holder(world):
    await world.mediator.send(SubscribeQuotesCommand((BTC, ETH)))  # the REST API
    await world.mediator.send(SubscribeQuotesCommand((ETH,), holder="ws:1"))
    await world.mediator.send(UnsubscribeQuotesCommand((BTC, ETH)))
    assert world.feed.subscribed == [ETH.symbol]  # the WebSocket client still holds ETH
    await world.mediator.send(UnsubscribeQuotesCommand((ETH,), holder="ws:2"))  # not ws:2's to release
    assert world.feed.subscribed == [ETH.symbol]
    await world.mediator.send(ReleaseQuotesCommand("ws:1"))  # its connection ended
    assert world.feed.subscribed == [] and world.service.instruments == []


async def test_a_cancelled_subscribe_releases_its_references_and_nobody_held_means_unsubscribed(world):
    world.feed.gate = asyncio.Event()
    request = asyncio.create_task(world.mediator.send(SubscribeQuotesCommand((BTC,), holder="ws:1")))
    await until(lambda: world.feed.subscribe_calls)
    request.cancel()  # the client disconnected while its subscribe was in flight
    with pytest.raises(asyncio.CancelledError):
        await request
    world.feed.gate.set()
    await world.service.drain()
    assert world.feed.subscribed == [] and world.service.instruments == []
    assert world.service.holders(BTC) == 0


async def test_a_cancelled_subscribe_leaves_the_symbol_to_the_others_who_asked(world):
    world.feed.gate = asyncio.Event()
    leaving = asyncio.create_task(world.mediator.send(SubscribeQuotesCommand((BTC,), holder="ws:1")))
    staying = asyncio.create_task(world.mediator.send(SubscribeQuotesCommand((BTC,), holder="ws:2")))
    await until(lambda: world.feed.subscribe_calls)
    leaving.cancel()
    world.feed.gate.set()
    assert await staying == [BTC]
    await world.service.drain()
    assert world.feed.subscribed == [BTC.symbol] and world.service.holders(BTC) == 1


async def test_a_cancelled_subscribe_keeps_what_its_holder_held_before(world):
    await world.mediator.send(SubscribeQuotesCommand((BTC,)))
    world.feed.gate = asyncio.Event()
    request = asyncio.create_task(world.mediator.send(SubscribeQuotesCommand((BTC, ETH))))
    await until(lambda: len(world.feed.subscribe_calls) == 2)
    request.cancel()
    world.feed.gate.set()
    await asyncio.gather(request, return_exceptions=True)
    await world.service.drain()
    assert world.feed.subscribed == [BTC.symbol] and world.service.holders(BTC) == 1
