import asyncio

import pytest
import structlog

from src.common.correlation import correlation_scope, get_correlation_id, is_valid_correlation_id
from src.common.lifecycle import Component, Lifecycle


async def test_correlation_scope_binds_and_restores_and_reaches_child_tasks():
    assert get_correlation_id() is None
    with correlation_scope("abc") as cid:
        assert cid == "abc"
        assert await asyncio.create_task(_read()) == "abc"
    assert get_correlation_id() is None


async def _read():
    return get_correlation_id()


def test_correlation_scope_generates_an_id_when_none_given():
    with correlation_scope() as cid:
        assert is_valid_correlation_id(cid) and len(cid) == 32


@pytest.mark.parametrize("value", ["", "x" * 129, "bad id", "semi;colon", "new\nline"])
def test_invalid_correlation_ids_are_rejected(value):
    assert not is_valid_correlation_id(value)


async def test_lifecycle_starts_in_order_and_stops_in_reverse():
    order = []

    def component(name):
        async def start():
            order.append(f"start {name}")

        async def stop():
            order.append(f"stop {name}")

        return Component(name, start, stop)

    lifecycle = Lifecycle([component("a"), component("b"), component("c")])
    await lifecycle.start()
    await lifecycle.stop()
    assert order == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]


async def test_a_failed_start_stops_what_already_started():
    order = []

    async def boom():
        raise RuntimeError("cannot start")

    async def stop_a():
        order.append("stop a")

    lifecycle = Lifecycle([Component("a", None, stop_a), Component("b", boom)])
    with pytest.raises(RuntimeError):
        await lifecycle.start()
    assert order == ["stop a"]


async def test_health_reports_failures_and_timeouts_per_component():
    async def ok():
        return True

    async def down():
        raise ConnectionError("refused")

    async def slow():
        await asyncio.sleep(5)

    lifecycle = Lifecycle([Component("ok", check=ok), Component("down", check=down), Component("slow", check=slow)])
    results = {r.name: r for r in await lifecycle.health(timeout_s=0.1)}
    assert results["ok"].healthy
    assert not results["down"].healthy and "refused" in results["down"].detail
    assert not results["slow"].healthy and "no answer" in results["slow"].detail


async def test_a_detached_background_task_does_not_carry_the_correlation_id_of_the_request_that_started_it():
    from src.common.correlation import spawn_detached

    async def seen() -> tuple[str | None, dict]:
        return get_correlation_id(), structlog.contextvars.get_contextvars()

    with correlation_scope("req-first"):
        structlog.contextvars.bind_contextvars(user="alice")
        detached = spawn_detached(seen(), name="supervisor")
        inherited = asyncio.create_task(seen())
        assert await detached == (None, {})
        assert (await inherited)[0] == "req-first"
        structlog.contextvars.unbind_contextvars("user")
    assert get_correlation_id() is None
