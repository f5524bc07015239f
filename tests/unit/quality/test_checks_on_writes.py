"""Checks run on every write to a series: a sync (a full run in the background), a live bar as it closes
(the live checks), and on demand; their flags, scores, score history and issue events."""

import pytest

from src.domain.errors import InvalidTransition
from src.domain.events import BarCompletedEvent
from src.domain.market_data import OHLCVBar
from src.domain.quality import FlagState
from src.features.quality.messages import (
    CheckAllSeriesCommand,
    CheckSeriesQualityCommand,
    GetQualitySummaryQuery,
    GetSeriesQualityQuery,
    JudgeFlagCommand,
)
from tests.unit.domain.quality_series import MINUTE, T0, bars_of, columns_from_closes, smooth_closes
from tests.unit.quality.conftest import BAD_TICK, BARS, BTC, KEY, M1, NOW, QualityWorld, clean, with_bad_tick


def flags_of(record, check):
    return [flag for flag in record.flags if flag.anomaly.check == check]


async def test_a_clean_series_scores_100_after_its_sync_with_every_check_passed(world):
    world.source(clean())
    record = await world.sync()
    assert record.score == 100.0 and record.failed == () and record.flags == ()
    assert record.bar_count == BARS and record.checked_at == NOW
    assert {r.name for r in record.results} >= {"ohlc_sanity", "missing_session_bars", "stale_series",
                                                 "zero_volume_runs", "flat_bars_runs", "future_bars", "price_spikes"}
    assert world.issues == []


async def test_a_bad_tick_is_flagged_with_its_values_scored_and_announced_once(world):
    world.source(with_bad_tick(clean()))
    record = await world.sync()
    [flag] = flags_of(record, "price_spikes")
    bad_time = T0 + BAD_TICK * MINUTE
    assert flag.anomaly.bar_time == bad_time and flag.state is FlagState.OPEN and flag.flagged_at == NOW
    assert flag.anomaly.values["close"] == pytest.approx(smooth_closes(BARS)[BAD_TICK] * 1.1)
    assert 0 < record.score < 100 and "price_spikes" in record.failed
    [issue] = world.issues
    assert (issue.check, issue.bar_time, issue.symbol, issue.interval) == ("price_spikes", bad_time, BTC.ticker, "1m")
    [(_, data, _, _)] = [sent for sent in world.webhooks.sent if sent[0] == "quality.issue"]
    assert (data["exchange"], data["symbol"], data["check"], data["severity"], data["bar_timestamp"]) == (
        "BINANCE", "BTCUSDT", "price_spikes", "error", bad_time)
    await world.sync()  # still broken: no new event, the flag stays one flag
    assert len(world.issues) == 1 and len(flags_of(world.quality.records[KEY], "price_spikes")) == 1


async def test_a_real_jump_is_a_level_shift_costing_nothing_while_a_bad_tick_costs(world):
    closes = smooth_closes(BARS)
    closes[150:] = [c * 1.2 for c in closes[150:]]  # the price jumps 20% and stays
    world.source(columns_from_closes(closes))
    record = await world.sync()
    [shift] = flags_of(record, "level_shifts")
    assert shift.anomaly.bar_time == T0 + 150 * MINUTE and flags_of(record, "price_spikes") == []
    assert record.score == 100.0  # info: a real move is no fault of the data
    assert shift.excluded_span is None


async def test_a_repair_recomputes_the_score_and_the_flag_is_no_longer_raised(world):
    world.source(with_bad_tick(clean()))
    broken = await world.sync()
    world.source(clean())  # the source corrected its history
    repaired = await world.sync(refresh=True)
    assert broken.score < repaired.score == 100.0
    [flag] = flags_of(repaired, "price_spikes")
    assert flag.state is FlagState.CLEARED and flag.last_change == "no_longer_flagged"
    assert [p.score for p in repaired.history] == [broken.score, 100.0]


async def test_a_user_confirms_or_clears_a_flag_and_a_cleared_flag_stays_cleared_while_the_bar_is_unchanged(world):
    world.source(with_bad_tick(clean()))
    await world.sync()
    bad_time = T0 + BAD_TICK * MINUTE
    confirmed = await world.mediator.send(JudgeFlagCommand(KEY, "price_spikes", bad_time, confirm=True))
    assert confirmed.state is FlagState.CONFIRMED and confirmed.last_change == "confirmed_by_user"
    cleared = await world.mediator.send(JudgeFlagCommand(KEY, "price_spikes", bad_time, confirm=False))
    assert cleared.state is FlagState.CLEARED
    with pytest.raises(InvalidTransition):
        await world.mediator.send(JudgeFlagCommand(KEY, "price_spikes", bad_time, confirm=False))
    await world.mediator.send(CheckSeriesQualityCommand(KEY))  # found again, the bar not rewritten
    [flag] = flags_of(world.quality.records[KEY], "price_spikes")
    assert flag.state is FlagState.CLEARED


async def test_a_verdict_on_a_flag_that_does_not_exist_is_not_found(world):
    from src.common.errors import NotFound

    world.source(clean())
    await world.sync()
    with pytest.raises(NotFound):
        await world.mediator.send(JudgeFlagCommand(KEY, "price_spikes", T0, confirm=True))


async def test_bars_the_source_sent_that_could_not_be_stored_fail_the_ohlc_sanity_check(world):
    bars = world.source(clean())
    misplaced = OHLCVBar(M1, bars[50].time + 30, 100, 101, 99, 100, 1)  # inside a bar: no bar open
    world.provider.bars[(BTC, M1)] = sorted([*bars, misplaced], key=lambda b: b.time)
    record = await world.sync()
    ohlc = next(r for r in record.results if r.name == "ohlc_sanity")
    assert (ohlc.passed, ohlc.value, record.rejected_upstream) == (False, 1.0, 1)


async def test_closed_live_bars_are_checked_as_they_close_a_gap_is_flagged_once_and_announced(world):
    world.source(clean())
    await world.sync()
    columns = columns_from_closes(smooth_closes(BARS + 10), start=T0)
    live = bars_of(columns)[BARS:]
    world.clock.advance(10 * MINUTE)
    for bar in [live[0], live[1], live[5]]:  # three live bars missing between the 2nd and the 3rd
        await world.event_bus.publish(BarCompletedEvent(key=KEY, bar=bar, occurred_at=world.clock.now()))
    record = world.quality.records[KEY]
    [missing] = flags_of(record, "missing_session_bars")
    assert missing.anomaly.span == (live[2].time, live[4].time) and missing.anomaly.values["bars"] == 3
    assert record.live_since == live[0].time  # owed to the reconciliation from the first live bar
    assert [i.check for i in world.issues] == ["missing_session_bars"]
    figures = world.exposed("quality", "figures")
    assert figures.anomalies["missing_session_bars"] == 1 and figures.flagged_bars == 3


async def test_the_scheduled_run_finds_a_series_gone_stale_while_its_market_is_open(world):
    world.source(clean())
    await world.sync()
    world.clock.advance(10 * MINUTE)  # nothing written for ten periods of a 24x7 market
    summary = await world.mediator.send(CheckAllSeriesCommand())
    assert (summary.series, summary.failed, summary.outcome) == (1, 0, "ok")
    record = world.quality.records[KEY]
    stale = next(r for r in record.results if r.name == "stale_series")
    assert not stale.passed and stale.value == 10  # the bars opening 200..209 min have all closed
    assert [i.check for i in world.issues] == ["stale_series"]


async def test_the_summary_lists_series_worst_first_and_scores_each_source_weighted_by_bars(world):
    from src.domain.market_data import Interval, SeriesKey

    world.source(with_bad_tick(clean()))
    await world.sync()
    m5 = SeriesKey(BTC, Interval.M5, KEY.source)
    world.provider.bars[(BTC, Interval.M5)] = bars_of(columns_from_closes(smooth_closes(40), step=300,
                                                                         start=NOW - 40 * 300), Interval.M5)
    await world.sync(40, key=m5)
    summary = await world.mediator.send(GetQualitySummaryQuery())
    (worst, worst_q), (best, best_q) = summary.series
    assert (worst, best) == (KEY, m5) and worst_q.score < best_q.score == 100.0
    expected = (worst_q.score * worst_q.bar_count + 100.0 * best_q.bar_count) / (worst_q.bar_count + best_q.bar_count)
    assert summary.sources == {KEY.source: pytest.approx(expected)}


async def test_the_series_query_pages_its_anomalies_newest_bar_first_and_filters_by_state(world):
    columns = clean()
    for at in (40, 80, 120, 160):
        columns = with_bad_tick(columns, at)
    world.source(columns)
    await world.sync()
    page = await world.mediator.send(GetSeriesQualityQuery(KEY, offset=1, limit=2, check="price_spikes"))
    assert page.total_flags == 4 and [f.anomaly.bar_time for f in page.flags] == [T0 + 120 * MINUTE, T0 + 80 * MINUTE]
    await world.mediator.send(JudgeFlagCommand(KEY, "price_spikes", T0 + 40 * MINUTE, confirm=True))
    confirmed = await world.mediator.send(GetSeriesQualityQuery(KEY, state=FlagState.CONFIRMED))
    assert [f.anomaly.bar_time for f in confirmed.flags] == [T0 + 40 * MINUTE]


async def test_a_series_never_checked_is_not_found():
    from src.common.errors import NotFound

    world = QualityWorld()
    with pytest.raises(NotFound):
        await world.mediator.send(GetSeriesQualityQuery(KEY))
    with pytest.raises(NotFound):  # no bars: nothing to check
        await world.mediator.send(CheckSeriesQualityCommand(KEY))


async def test_checks_after_syncs_run_in_the_background_at_most_the_configured_number_at_once():
    import asyncio

    from src.domain.market_data import Interval, SeriesKey
    from src.features.market_data.messages import SyncSymbolCommand

    world = QualityWorld(quality_check_concurrency=2)
    monitor = world.exposed("quality", "monitor")
    check, running, most, gate = monitor.check, 0, 0, asyncio.Event()

    async def gated(key, **options):
        nonlocal running, most
        running += 1
        most = max(most, running)
        await gate.wait()
        running -= 1
        return await check(key, **options)

    monitor.check = gated
    keys = [SeriesKey(BTC, interval, KEY.source) for interval in (Interval.M1, Interval.M5, Interval.M15)]
    for key in keys:
        world.provider.add_history(BTC, key.interval, NOW - 50 * key.interval.seconds, 40)
        await world.mediator.send(SyncSymbolCommand(key, 40))  # returns before its checks ran
    await asyncio.sleep(0.01)
    assert (running, most) == (2, 2) and world.quality.records == {}
    gate.set()
    await world.exposed("quality", "after_sync").drain()
    assert set(world.quality.records) == set(keys) and most == 2


async def test_a_bad_tick_found_live_is_the_same_flag_the_next_full_run_finds():
    world = QualityWorld()
    history = clean()
    world.source(history)
    await world.sync()  # the baseline the live path judges by
    closes = smooth_closes(BARS + 20)
    closes[BARS + 5] *= 1.1  # a live bar's close jumps and comes straight back
    columns = columns_from_closes(closes)
    live = bars_of(columns)[BARS:]
    for bar in live:
        world.clock.advance(MINUTE)
        await world.bars.upsert(KEY, [bar])
        await world.event_bus.publish(BarCompletedEvent(key=KEY, bar=bar, occurred_at=world.clock.now()))
    [found_live] = [f for f in world.quality.records[KEY].flags if f.anomaly.check == "price_spikes"]
    assert found_live.anomaly.bar_time == live[5].time and [i.check for i in world.issues] == ["price_spikes"]
    rerun = await world.mediator.send(CheckSeriesQualityCommand(KEY))
    [flag] = [f for f in rerun.quality.flags if f.anomaly.check == "price_spikes"]
    assert flag.key == found_live.key and flag.state is FlagState.OPEN and flag.flagged_at == found_live.flagged_at
    assert [i.check for i in world.issues] == ["price_spikes"]  # not announced twice
