"""The quality records in MongoDB (mongoeco): one document per series holding every field, read back equal;
the summary read without flags and history; the excluded spans; and the slice's runs over the real store
(bars and quality) with a Redis cache, whose cached pages `exclude_flagged` invalidates on a verdict."""

from dataclasses import replace

import orjson
import pytest
from redis.asyncio import Redis

from src.app.root import Overrides, bootstrap
from src.common import cache_keys
from src.common.settings import Settings
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.quality import Anomaly, AnomalyFlag, FlagChange, FlagState, Severity
from src.domain.quality.model import CheckResult
from src.domain.quality.reconciliation import FieldDifference
from src.domain.quality.series import ReconciliationRecord, ScorePoint, SeriesQuality
from src.domain.quality.spikes import MoveScales
from src.features.market_data.messages import GetBarsQuery, SyncSymbolCommand
from src.features.quality.messages import JudgeFlagCommand
from src.infrastructure.cache.redis_cache import RedisCache
from src.infrastructure.mongo.ohlcv_repository import MongoOHLCVRepository
from src.infrastructure.mongo.quality_repository import QUALITY, MongoQualityRepository
from src.infrastructure.mongo.symbol_metadata_repository import MongoSymbolMetadataRepository
from src.infrastructure.mongo.symbol_repository import MongoSymbolRepository
from src.infrastructure.mongo.sync_status_repository import MongoSyncStatusRepository
from src.infrastructure.scheduling.job_store import InProcessJobStore
from tests.fakes import (
    FakeAlertRuleRepository,
    FakeAlertTriggerRepository,
    FakeApiKeyRepository,
    FakeClock,
    FakeDeadLetterRepository,
    FakeProvider,
    FakeRefreshTokenRepository,
    FakeUserRepository,
    fake_provider,
)
from tests.unit.domain.quality_series import MINUTE, T0, bars_of
from tests.unit.quality.conftest import BAD_TICK, BTC, KEY, M1, NOW, clean, with_bad_tick

pytestmark = pytest.mark.integration

EVERY_FIELD = SeriesQuality(
    checked_at=T0 + 600, bar_count=1234, score=87.5,
    results=(CheckResult(name="price_spikes", severity=Severity.ERROR, passed=False, value=2.0, threshold=0.0,
                         affected_bars=2),
             CheckResult(name="stale_series", severity=Severity.WARNING, passed=True, value=0.0, threshold=3.0)),
    scales=MoveScales(0.0001, 0.002, 0.003), has_volume=True,
    flags=(
        replace(AnomalyFlag.raised(Anomaly(check="price_spikes", severity=Severity.ERROR, bar_time=T0 + 60,
                                           values={"close": 110.5, "return_z": 12.25}, detail="bad tick"), T0 + 600),
                state=FlagState.CONFIRMED, changed_at=T0 + 700, last_change=FlagChange.CONFIRMED_BY_USER),
        AnomalyFlag.raised(Anomaly(check="zero_volume_runs", severity=Severity.WARNING, bar_time=T0 + 120,
                                   last_bar_time=T0 + 300, values={"bars": 4.0}, detail="run"), T0 + 600),
    ),
    history=(ScorePoint(checked_at=T0 + 500, score=90.0, bar_count=1200, failed=()),
             ScorePoint(checked_at=T0 + 600, score=87.5, bar_count=1234, failed=("price_spikes",))),
    rejected_upstream=3, live_since=T0 + 900,
    reconciliation=ReconciliationRecord(
        reconciled_at=T0 + 950, first_bar_time=T0 + 900, last_bar_time=T0 + 960, compared_bars=2, differing_bars=1,
        fields=(FieldDifference("close", 1, 0.002),), policy="keep_live", bars_replaced=0),
)


async def test_a_record_with_every_field_reads_back_equal_from_one_document(mongo_db):
    store = MongoQualityRepository(mongo_db)
    other = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.H1, "tradingview")
    await store.save(KEY, EVERY_FIELD)
    await store.save(other, SeriesQuality(checked_at=T0, score=100.0))
    assert await store.get(KEY) == EVERY_FIELD
    assert await mongo_db[QUALITY].count_documents({}) == 2
    assert await store.excluded_spans(KEY) == ((T0 + 60, T0 + 60), (T0 + 120, T0 + 300))
    listed = dict(await store.list())
    assert listed[KEY] == replace(EVERY_FIELD, flags=(), history=())  # the summary reads no flags
    assert listed[other].score == 100.0 and await store.get(SeriesKey(KEY.symbol, Interval.D1, KEY.source)) is None


async def test_the_slice_on_the_real_store_flags_and_a_verdict_drops_the_cached_pages(mongo_db, redis_server):
    redis = Redis.from_url(redis_server.url)
    await redis.flushdb()
    provider = FakeProvider()
    provider.bars[(BTC, M1)] = bars_of(with_bad_tick(clean()))
    store = MongoQualityRepository(mongo_db)
    root = bootstrap(Settings(scheduler_enabled=False, cache_near_enabled=False), Overrides(
        clock=FakeClock(NOW), providers=[fake_provider(KEY.source, provider)], bars=MongoOHLCVRepository(mongo_db),
        quality=store, cache=RedisCache(redis, generation_of=cache_keys.series_generation),
        sync_status=MongoSyncStatusRepository(mongo_db), symbols=MongoSymbolRepository(mongo_db),
        symbol_metadata=MongoSymbolMetadataRepository(mongo_db), dead_letters=FakeDeadLetterRepository(),
        job_store=InProcessJobStore(), users=FakeUserRepository(), api_keys=FakeApiKeyRepository(),
        refresh_tokens=FakeRefreshTokenRepository(), alert_rules=FakeAlertRuleRepository(),
        alert_triggers=FakeAlertTriggerRepository(),
    ))
    assert root.store is None  # every store adapter given: the real ones above
    try:
        await root.mediator.send(SyncSymbolCommand(KEY, 200))
        await root.slices["quality"].exposed["after_sync"].drain()
        bad = T0 + BAD_TICK * MINUTE
        assert [f.key for f in (await store.get(KEY)).flags] == [("price_spikes", bad)]

        async def times() -> list[int]:
            page = await root.mediator.send(GetBarsQuery(KEY, limit=500, exclude_flagged=True))
            return [row["timestamp"] for row in orjson.loads(await page.read())["bars"]]

        assert bad not in await times()
        assert await redis.keys("ohlcv:*")  # the page is cached in Redis
        await root.mediator.send(JudgeFlagCommand(KEY, "price_spikes", bad, confirm=False))
        assert bad in await times()  # the verdict dropped the cached page
        assert (await store.get(KEY)).flags[0].state is FlagState.CLEARED
    finally:
        await redis.aclose()
