"""The chunked OHLCV store against a real wire server (embedded mongoeco, or TEST_MONGODB_URL)."""

import asyncio
import calendar

import numpy as np
import pytest

from src.domain.errors import InvalidBar
from src.domain.market_data import BarColumns, Interval, OHLCVBar, SeriesKey, Symbol
from src.infrastructure.mongo.chunking import chunk_start
from src.infrastructure.mongo.ohlcv_repository import CHUNKS, MongoOHLCVRepository, chunk_id

pytestmark = pytest.mark.integration

DAY = 86_400
T0 = calendar.timegm((2024, 1, 31, 0, 0, 0))  # 00:00 UTC: T0 + DAY starts a new 1m chunk (a month)
KEY = SeriesKey(Symbol("BINANCE", "BTCUSDT"), Interval.M1, "tradingview")


def bar(t: int, price: float = 100.0, interval: Interval = Interval.M1, volume: float = 1.0) -> OHLCVBar:
    return OHLCVBar(interval, t, price, price + 2.0, price - 1.0, price + 1.0, volume)


def minutes(first: int, count: int, price: float = 100.0) -> list[OHLCVBar]:
    return [bar(first + 60 * i, price + i * 0.25) for i in range(count)]


@pytest.fixture
async def repo(mongo_db) -> MongoOHLCVRepository:
    repository = MongoOHLCVRepository(mongo_db)
    await repository.ensure_indexes()
    return repository


async def test_round_trip_keeps_every_field(repo: MongoOHLCVRepository) -> None:
    stored = [OHLCVBar(Interval.M1, T0 + 60 * i, 1.5 + i, 3.25 + i, 0.125 + i, 2.0 + i, 10.5 * i) for i in range(3)]
    assert await repo.upsert(KEY, stored) == 3
    got = await repo.read(KEY)
    assert got.key == KEY
    assert got.to_bars() == stored


async def test_upsert_is_idempotent(repo: MongoOHLCVRepository) -> None:
    bars = minutes(T0, 100)
    assert await repo.upsert(KEY, bars) == 100
    assert await repo.upsert(KEY, bars) == 0
    assert len(await repo.read(KEY)) == 100


async def test_resync_overwrites_forming_bar(repo: MongoOHLCVRepository) -> None:
    await repo.upsert(KEY, minutes(T0, 10))
    revised = OHLCVBar(Interval.M1, T0 + 9 * 60, 102.25, 110.0, 101.0, 109.0, 55.0)
    assert await repo.upsert(KEY, [*minutes(T0, 9), revised]) == 1
    got = await repo.read(KEY, limit=1)
    assert got.to_bars() == [revised]
    assert len(await repo.read(KEY)) == 10


async def test_same_time_twice_in_one_batch_last_wins(repo: MongoOHLCVRepository) -> None:
    assert await repo.upsert(KEY, [bar(T0, 1.0), bar(T0, 2.0)]) == 1
    assert (await repo.read(KEY)).close.tolist() == [3.0]


async def test_series_are_separate(repo: MongoOHLCVRepository) -> None:
    other = SeriesKey(Symbol("BINANCE", "ETHUSDT"), Interval.M1, "tradingview")
    hourly = SeriesKey(KEY.symbol, Interval.H1, "tradingview")
    await repo.upsert(KEY, minutes(T0, 5))
    await repo.upsert(other, minutes(T0, 3))
    await repo.upsert(hourly, [bar(T0, interval=Interval.H1)])
    assert (len(await repo.read(KEY)), len(await repo.read(other)), len(await repo.read(hourly))) == (5, 3, 1)


async def test_empty_series_reads_empty(repo: MongoOHLCVRepository) -> None:
    assert len(await repo.read(KEY)) == 0
    assert len(await repo.read(KEY, limit=10, descending=True)) == 0
    coverage = await repo.coverage(KEY)
    assert (coverage.first_bar_time, coverage.last_bar_time, coverage.bar_count) == (None, None, 0)


async def test_reads_across_chunk_boundaries(repo: MongoOHLCVRepository) -> None:
    # three days of 1m bars: three chunks
    bars = minutes(T0, 3 * 1440)
    assert await repo.upsert(KEY, bars) == 3 * 1440
    times = [b.time for b in bars]

    got = await repo.read(KEY, start=T0 + DAY - 120, end=T0 + DAY + 60)
    assert list(got.time) == [T0 + DAY - 120, T0 + DAY - 60, T0 + DAY, T0 + DAY + 60]

    newest = await repo.read(KEY, limit=2000)
    assert list(newest.time) == times[-2000:]

    newest_desc = await repo.read(KEY, limit=2000, descending=True)
    assert list(newest_desc.time) == times[::-1][:2000]
    assert list(newest_desc.close) == [b.close for b in bars][::-1][:2000]

    bounded = await repo.read(KEY, end=T0 + DAY + 59 * 60, limit=100)
    assert list(bounded.time) == [t for t in times if t <= T0 + DAY + 59 * 60][-100:]

    windowed = await repo.read(KEY, start=T0 + 1000 * 60, end=T0 + 2 * DAY, limit=5000)
    assert list(windowed.time) == [t for t in times if T0 + 1000 * 60 <= t <= T0 + 2 * DAY]

    everything_desc = await repo.read(KEY, descending=True)
    assert list(everything_desc.time) == times[::-1]
    assert len(await repo.read(KEY, start=T0 + 10 * DAY)) == 0


async def test_newest_read_fetches_only_needed_chunks(repo: MongoOHLCVRepository) -> None:
    await repo.upsert(KEY, minutes(T0, 10 * 1440))
    before = repo.docs_fetched
    got = await repo.read(KEY, limit=1440)
    assert len(got) == 1440
    assert repo.docs_fetched - before <= 3  # the directory and at most two day chunks


@pytest.mark.parametrize("own_collections", [True, False])
async def test_one_document_per_chunk(mongo_db, own_collections: bool) -> None:
    repo = MongoOHLCVRepository(mongo_db, collections_per_chunk=own_collections)
    await repo.ensure_indexes()
    other = SeriesKey(Symbol("NYSE", "BRK.B"), Interval.M1, "tradingview")
    await repo.upsert(KEY, minutes(T0, 2 * 1440))
    await repo.upsert(KEY, minutes(T0 + 1440 * 60, 1440, price=5.0))
    await repo.upsert(other, minutes(T0, 3))
    starts = [chunk_start(Interval.M1, T0), T0 + DAY]
    collections = [repo.chunk_collection(KEY, start) for start in starts]
    names = {c.name for c in collections}
    assert names == ({CHUNKS} if not own_collections else {f"{CHUNKS}.{chunk_id(KEY, s)}" for s in starts})
    docs = [await c.find_one({"_id": chunk_id(KEY, s)}, {"start": 1, "n": 1, "version": 1})
            for c, s in zip(collections, starts, strict=True)]
    assert [(d["start"], d["n"], d["version"]) for d in docs] == [(starts[0], 1440, 1), (T0 + DAY, 1440, 2)]
    if own_collections:
        assert await collections[0].count_documents({}) == 1
    assert len(await repo.read(KEY)) == 2 * 1440
    assert (await repo.read(other)).close.tolist() == [101.0, 101.25, 101.5]


async def test_coverage_reports_first_last_count_and_gaps(repo: MongoOHLCVRepository) -> None:
    bars = [b for b in minutes(T0, 2 * 1440) if not (T0 + 600 <= b.time <= T0 + 720) and b.time != T0 + DAY]
    tail = minutes(T0 + 3 * DAY, 10)
    await repo.upsert(KEY, [*bars, *tail])
    coverage = await repo.coverage(KEY)
    assert coverage.first_bar_time == T0
    assert coverage.last_bar_time == T0 + 3 * DAY + 9 * 60
    assert coverage.bar_count == len(bars) + 10
    assert coverage.gaps == (
        (T0 + 600, T0 + 720),
        (T0 + DAY, T0 + DAY),
        (T0 + 2 * DAY, T0 + 3 * DAY - 60),
    )
    assert coverage.missing_bars == 3 + 1 + 1440


async def test_coverage_without_gaps_for_daily_bars(repo: MongoOHLCVRepository) -> None:
    key = SeriesKey(KEY.symbol, Interval.D1, "tradingview")
    await repo.upsert(key, [bar(T0, interval=Interval.D1), bar(T0 + 5 * DAY, interval=Interval.D1)])
    coverage = await repo.coverage(key)
    assert (coverage.first_bar_time, coverage.last_bar_time, coverage.bar_count) == (T0, T0 + 5 * DAY, 2)
    assert coverage.gaps == ()


async def test_every_interval_round_trips(repo: MongoOHLCVRepository) -> None:
    for interval in Interval:
        key = SeriesKey(KEY.symbol, interval, "tradingview")
        t = interval.align(T0 + 40 * DAY)
        times = [t]
        for _ in range(4):
            times.append(interval.next_open(times[-1]))
        assert await repo.upsert(key, [bar(x, interval=interval) for x in times]) == 5
        assert list((await repo.read(key)).time) == times
        assert list((await repo.read(key, limit=2, descending=True)).time) == times[::-1][:2]
        assert (await repo.coverage(key)).bar_count == 5


async def test_ensure_indexes_is_idempotent(repo: MongoOHLCVRepository) -> None:
    await repo.ensure_indexes()
    await repo.ensure_indexes()


async def test_racing_writers_lose_nothing(mongo_db) -> None:
    writers = [MongoOHLCVRepository(mongo_db) for _ in range(6)]
    day = chunk_start(Interval.M1, T0)
    # each writer owns its own minutes, all in one chunk, plus one shared minute everyone revises
    batches = [[bar(day + 60 * (k + 6 * i), 10.0 * k) for i in range(40)] for k in range(len(writers))]
    results = await asyncio.gather(*(w.upsert(KEY, b) for w, b in zip(writers, batches, strict=True)))
    assert results == [40] * len(writers)
    got = await writers[0].read(KEY)
    assert len(got) == 6 * 40
    expected = {b.time: b.close for batch in batches for b in batch}
    assert dict(zip(got.time, got.close, strict=True)) == expected
    assert sum(w.write_conflicts for w in writers) > 0  # they really raced


async def test_racing_writers_on_a_new_chunk(mongo_db) -> None:
    writers = [MongoOHLCVRepository(mongo_db) for _ in range(4)]
    batches = [[bar(T0 + 60 * (k + 4 * i)) for i in range(25)] for k in range(4)]
    await asyncio.gather(*(w.upsert(KEY, b) for w, b in zip(writers, batches, strict=True)))
    assert len(await writers[0].read(KEY)) == 100
    assert (await writers[0].coverage(KEY)).bar_count == 100


async def test_columns_are_written_without_bar_objects_and_checked_first(repo: MongoOHLCVRepository) -> None:
    times = T0 + 60 * np.arange(3000, dtype=np.int64)
    prices = 100.0 + np.arange(3000) * 0.5
    flags = np.arange(3000) % 7 == 0
    columns = BarColumns.of(KEY, times, prices, prices + 1, prices - 1, prices, np.ones(3000), flags)
    assert await repo.upsert(KEY, columns) == 3000
    got = await repo.read(KEY)
    assert got.to_bars() == columns.to_bars()
    broken = BarColumns.of(KEY, [T0 + 7 * DAY], [1.0], [0.5], [1.0], [1.0], [1.0])
    with pytest.raises(InvalidBar):
        await repo.upsert(KEY, broken)
    assert len(await repo.read(KEY)) == 3000 and not await repo.has_bars(SeriesKey(KEY.symbol, Interval.H1, "x"))
    assert await repo.has_bars(KEY)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("oldest_first", [False, True])
@pytest.mark.parametrize(("start", "end", "limit"), [
    (None, None, None), (None, None, 2500), (T0 + 500 * 60, None, 9000), (None, T0 + 9 * DAY, 100),
    (T0 + 600 * 60, T0 + 10 * DAY, 12_000), (T0 + 20 * DAY, None, 5),
])
async def test_streamed_pieces_join_into_what_a_read_returns(repo, start, end, limit, descending, oldest_first):
    bars = minutes(T0, 16 * 1440)  # two month chunks
    await repo.upsert(KEY, bars)
    in_range = [b.time for b in bars if (start is None or b.time >= start) and (end is None or b.time <= end)]
    expected = in_range if limit is None else (in_range[:limit] if oldest_first else in_range[-limit:])
    expected = expected[::-1] if descending else expected
    options = dict(start=start, end=end, limit=limit, descending=descending, oldest_first=oldest_first)
    read = await repo.read(KEY, **options)
    pieces = [piece async for piece in repo.stream(KEY, **options)]
    assert read.time.tolist() == expected
    assert np.concatenate([p.time for p in pieces] or [np.zeros(0)]).tolist() == expected
    assert all(len(p) <= 44_640 for p in pieces)


@pytest.mark.parametrize("oldest_first", [False, True])
@pytest.mark.parametrize(("start", "end", "limit"), [
    (None, None, 1), (None, None, 10_080), (None, None, 23_040), (None, None, 23_039), (None, None, 30_000),
    (T0 + 77 * 60, T0 + 12 * DAY + 5, 9_999), (T0 + DAY, None, 1440 * 7), (None, T0 + 3 * DAY, 10),
])
async def test_a_page_ends_where_the_limit_is_reached_and_says_whether_bars_follow(repo, start, end, limit,
                                                                                   oldest_first):
    bars = [b for b in minutes(T0, 16 * 1440) if b.time % 7200]  # holes, so counts are not arithmetic
    await repo.upsert(KEY, bars)
    in_range = [b.time for b in bars if (start is None or b.time >= start) and (end is None or b.time <= end)]
    walk = in_range if oldest_first else in_range[::-1]
    expected = (walk[limit - 1] if len(walk) >= limit else None, len(walk) > limit)
    assert await repo.page(KEY, start=start, end=end, limit=limit, oldest_first=oldest_first) == expected


@pytest.mark.parametrize("per_series", [True, False])
async def test_remove_deletes_bars_across_chunks_and_keeps_the_directory_exact(mongo_db, per_series: bool) -> None:
    repo = MongoOHLCVRepository(mongo_db, collections_per_chunk=per_series)
    await repo.ensure_indexes()
    day_one, day_two = minutes(T0, 5), minutes(T0 + 40 * DAY, 3)  # 1m chunks are months: two chunks
    await repo.upsert(KEY, [*day_one, *day_two])
    doomed = [day_one[0].time, day_one[3].time, *(b.time for b in day_two), T0 + 80 * DAY]  # the last: never stored
    assert await repo.remove(KEY, doomed) == 5
    assert (await repo.read(KEY)).time.tolist() == [day_one[1].time, day_one[2].time, day_one[4].time]
    coverage = await repo.coverage(KEY)
    assert (coverage.bar_count, coverage.first_bar_time, coverage.last_bar_time) == (3, day_one[1].time,
                                                                                     day_one[4].time)
    assert await repo.upsert(KEY, day_two) == 3  # an emptied chunk is written again
    assert len(await repo.read(KEY)) == 6 and await repo.remove(KEY, []) == 0
