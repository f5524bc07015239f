"""Schema version 3 on the store version 2 wrote (tests/fixtures/stores/v2.sqlite.gz): a migration stopped
half way finishes on the next run, every bar read back as written, the old layout gone; in both layouts."""

import gzip
import shutil
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from src.domain.market_data import Interval, SeriesKey, Symbol
from src.infrastructure.mongo.embedded import EmbeddedMongo
from src.infrastructure.mongo.migrations import CHUNKS, CURRENT_VERSION, SERIES, StoreMigrations
from src.infrastructure.mongo.ohlcv_repository import DIRECTORY, MongoOHLCVRepository
from tests.e2e.test_store_migration import FIXTURE_V2, V2_SERIES, written_by_v2

pytestmark = pytest.mark.integration


class Interrupted(Exception):
    pass


class StopsAfter(MongoOHLCVRepository):
    """The repository, failing after `writes` chunk copies: a start-up killed half way through."""

    def __init__(self, database, writes: int, **options) -> None:
        super().__init__(database, **options)
        self.writes = writes

    async def upsert(self, key, bars):
        if self.writes == 0:
            raise Interrupted
        self.writes -= 1
        return await super().upsert(key, bars)


@pytest.fixture
def v2_server(tmp_path: Path):
    with gzip.open(FIXTURE_V2) as packed, (tmp_path / "pocketquant.sqlite").open("wb") as out:
        shutil.copyfileobj(packed, out)
    server = EmbeddedMongo(tmp_path)
    yield server.start()
    server.stop()


@pytest.mark.parametrize(("database", "own"), [("pocketquant", True), ("pocketquant_shared", False)])
async def test_an_interrupted_migration_finishes_on_the_next_start(v2_server, database, own):
    client = AsyncMongoClient(v2_server)
    db = client[database]
    try:
        with pytest.raises(Interrupted):
            await StoreMigrations(db, StopsAfter(db, 7, collections_per_chunk=own)).run()
        assert await StoreMigrations(db).version() == 2  # not recorded as done
        repo = MongoOHLCVRepository(db, collections_per_chunk=own)
        assert await StoreMigrations(db, repo).run() > 0
        assert await StoreMigrations(db, repo).version() == CURRENT_VERSION
        assert await StoreMigrations(db, repo).run() == 0
        for (exchange, code, interval), (first, count, base) in V2_SERIES.items():
            key = SeriesKey(Symbol(exchange, code), Interval.parse(interval), "tradingview")
            expected = written_by_v2(key.interval, first, count, base)
            got = (await repo.read(key)).to_bars()
            assert [(b.time, b.open, b.close, b.volume, b.partial) for b in got] == [
                (e["timestamp"], e["open"], e["close"], e["volume"], e["partial"]) for e in expected]
        names = set(await db.list_collection_names())
        assert SERIES not in names and not any(n.startswith(f"{CHUNKS}.") and "@" not in n for n in names)
        if own:
            assert any(n.startswith(f"{DIRECTORY}.") for n in names)
        else:
            assert await db[CHUNKS].count_documents({"_id": {"$not": {"$regex": "@"}}}) == 0
    finally:
        await client.close()
