"""The embedded server and the connection resource: persistence, outage and recovery."""

import time

import pytest

from src.common.errors import StoreUnavailable
from src.common.ports import SyncStatusFilter, TrackedSymbol
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.sync.status import SyncState, SyncStatus
from src.infrastructure.mongo.connection import MongoStore
from src.infrastructure.mongo.embedded import EmbeddedMongo
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from src.infrastructure.mongo.sync_status_repository import MongoSyncStatusRepository
from tests.integration.storage.test_ohlcv_repository import KEY, T0, minutes

pytestmark = pytest.mark.integration


async def test_embedded_data_survives_a_restart(tmp_path) -> None:
    store = MongoStore(None, data_dir=tmp_path)
    repo = MongoOHLCVRepository(await store.start())
    assert store.kind == "embedded"
    await repo.upsert(KEY, minutes(T0, 50))
    await store.stop()

    again = MongoStore(None, data_dir=tmp_path)
    repo = MongoOHLCVRepository(await again.start())
    try:
        assert len(await repo.read(KEY)) == 50
    finally:
        await again.stop()


async def test_external_url_is_used_when_given(mongo_server) -> None:
    store = MongoStore(mongo_server.uri, database="pq_external")
    await store.start()
    try:
        assert store.kind == "external"
        assert store.embedded is None
        assert await store.ping()
    finally:
        await store.stop()


async def test_outage_fails_fast_and_recovers_without_a_new_client(tmp_path) -> None:
    store = MongoStore(None, data_dir=tmp_path, server_selection_timeout_ms=500, connect_timeout_ms=500)
    repo = MongoOHLCVRepository(await store.start())
    statuses = MongoSyncStatusRepository(store.database)
    embedded = store.embedded
    assert embedded is not None
    try:
        await repo.upsert(KEY, minutes(T0, 5))
        await embedded_stop(embedded)

        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await repo.read(KEY)
        with pytest.raises(StoreUnavailable):
            await repo.upsert(KEY, minutes(T0, 6))
        with pytest.raises(StoreUnavailable):
            await statuses.get(KEY)
        assert not await store.ping()
        assert time.monotonic() - started < 5.0

        embedded.start()  # same port, same SQLite file
        deadline = time.monotonic() + 10
        while not await store.ping():
            assert time.monotonic() < deadline, "pymongo did not reconnect"
        assert len(await repo.read(KEY)) == 5
        assert await repo.upsert(KEY, minutes(T0, 6)) == 1
    finally:
        await store.stop()


async def embedded_stop(embedded: EmbeddedMongo) -> None:
    import asyncio

    await asyncio.to_thread(embedded.stop)


async def test_memory_engine_option(tmp_path) -> None:
    store = MongoStore(None, data_dir=tmp_path, embedded_engine="memory")
    repo = MongoOHLCVRepository(await store.start())
    try:
        assert await repo.upsert(KEY, minutes(T0, 3)) == 3
        assert not any(tmp_path.iterdir())
    finally:
        await store.stop()


# --- sync status -----------------------------------------------------------------------------------


async def test_sync_status_round_trip_fills_every_field(mongo_db) -> None:
    repo = MongoSyncStatusRepository(mongo_db)
    await repo.ensure_indexes()
    await repo.ensure_indexes()
    state = SyncState.requested(KEY, 100.0).start(101.5).fail(103.25, "upstream timed out")
    assert await repo.get(KEY) is None
    await repo.save(state)
    assert await repo.get(KEY) == state
    completed = state.request(200.0, "host:1:boot", 30.0).start(201.0, 30.0).complete(
        205.0, bars_written=4321, source_gaps=((60, 120), (600, 660)), source_first_bar=60)
    await repo.save(completed)
    assert await repo.get(KEY) == completed
    running = completed.request(300.0, "host:2:boot", 30.0).start(301.0, 30.0)
    await repo.save(running)
    assert await repo.get(KEY) == running and running.lease_until == 331.0


async def test_a_conditional_sync_status_save_never_overwrites_another_writer(mongo_db) -> None:
    repo = MongoSyncStatusRepository(mongo_db)
    first = SyncState.requested(KEY, 1.0, "a", 30.0)
    assert await repo.save(first, expected_revision=0)
    assert not await repo.save(SyncState.requested(KEY, 1.0, "b", 30.0), expected_revision=0)  # already there
    started = first.start(2.0, 30.0)
    assert await repo.save(started, expected_revision=first.revision)
    assert not await repo.save(first.start(3.0, 30.0), expected_revision=first.revision)  # stale revision
    assert await repo.get(KEY) == started


async def test_a_status_written_before_revisions_counts_as_revision_zero(mongo_db) -> None:
    repo = MongoSyncStatusRepository(mongo_db)
    await mongo_db["sync_status"].insert_one({
        "_id": "tradingview:BINANCE:BTCUSDT:1m", "source": "tradingview", "exchange": "BINANCE", "symbol": "BTCUSDT",
        "interval": "1m", "status": "syncing", "requested_at": 1.0, "started_at": 2.0, "finished_at": None,
        "bars_written": 0, "error": None,
    })
    legacy = await repo.get(KEY)
    assert legacy is not None and legacy.revision == 0 and legacy.owner is None
    assert await repo.save(legacy.interrupt(3.0, "owner gone"), expected_revision=0)


async def test_sync_status_list_filters(mongo_db) -> None:
    repo = MongoSyncStatusRepository(mongo_db)
    hourly = SeriesKey(KEY.symbol, Interval.H1, "tradingview")
    other = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.M1, "tradingview")
    await repo.save(SyncState.requested(KEY, 1.0))
    await repo.save(SyncState.requested(hourly, 1.0).start(2.0))
    await repo.save(SyncState.requested(other, 1.0).start(2.0).complete(3.0, 10))
    assert [s.key for s in await repo.list(SyncStatusFilter())] == [KEY, hourly, other]
    assert [s.key for s in await repo.list(SyncStatusFilter(exchange="binance"))] == [KEY, hourly]
    assert [s.key for s in await repo.list(SyncStatusFilter(interval=Interval.M1))] == [KEY, other]
    assert [s.key for s in await repo.list(SyncStatusFilter(status=SyncStatus.SYNCING))] == [hourly]
    assert [s.key for s in await repo.list(SyncStatusFilter(symbol="AAPL"))] == [other]


# --- symbols ---------------------------------------------------------------------------------------


async def test_symbol_round_trip_fills_every_field(mongo_db) -> None:
    from src.infrastructure.mongo.symbol_repository import MongoSymbolRepository

    repo = MongoSymbolRepository(mongo_db)
    await repo.ensure_indexes()
    await repo.ensure_indexes()
    tracked = TrackedSymbol(
        symbol=Symbol("NASDAQ", "AAPL"),
        source="tradingview",
        description="Apple Inc.",
        type="stock",
        currency="USD",
        active=True,
        intervals=(Interval.M1, Interval.H1, Interval.D1),
        created_at=1_700_000_000.5,
        updated_at=1_700_000_100.25,
    )
    await repo.save(tracked)
    assert await repo.get(tracked.instrument) == tracked
    inactive = TrackedSymbol(Symbol("CME", "ES1!"), "tradingview", active=False)
    await repo.save(inactive)
    assert await repo.list() == [tracked]
    assert await repo.list(active_only=False) == [inactive, tracked]
    from_binance = TrackedSymbol(Symbol("NASDAQ", "AAPL"), "yahoo", description="Apple (Yahoo)")
    await repo.save(from_binance)  # the same symbol from another source is another entry
    assert await repo.get(tracked.instrument) == tracked and await repo.get(from_binance.instrument) == from_binance
    assert await repo.delete(inactive.instrument)
    assert not await repo.delete(inactive.instrument)
    assert await repo.get(inactive.instrument) is None
