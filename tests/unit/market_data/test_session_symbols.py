"""A session symbol through the Mediator: its metadata stored and refreshed, syncs on its calendar (the
source's times kept, misplaced bars rejected and counted, a repair deleting grid-stamped ones), coverage
counted on its calendar, the symbols API's sessions and the extended-hours choice.

Expected bar times are worked out with `zoneinfo` from NASDAQ's published hours, never by `SessionCalendar`:
09:30-16:00 New York, Thanksgiving 2023-11-23 closed, 2023-11-24 closing at 13:00."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from src.common.errors import UpstreamUnavailable
from src.common.ports import SymbolInfo
from src.domain.market_data import Instrument, Interval, OHLCVBar, SeriesKey, Symbol
from src.features.market_data.messages import (
    GetSymbolMetadataQuery,
    GetSyncStatusQuery,
    ListSymbolsQuery,
    SyncSymbolCommand,
    TrackSymbolCommand,
)
from tests.fakes import FakeClock
from tests.world import World

AAPL = Symbol("NASDAQ", "AAPL")
INSTRUMENT = Instrument("tradingview", AAPL)
H1 = Interval.H1
KEY = SeriesKey(AAPL, H1, "tradingview")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2023, 11, 27, 11, 0, tzinfo=NEW_YORK).timestamp()  # Monday 11:00: the 10:30 bar is forming
INFO = SymbolInfo(AAPL, "Apple Inc.", "stock", "USD", "America/New_York", "0930-1600", {
    "session_holidays": "20231123", "session-correction": "0930-1300:20231124",
    "subsessions": [{"id": "regular", "session": "0930-1600"}, {"id": "extended", "session": "0400-2000"}],
})


def opens(first: date, last: date, until: float = NOW, start: str = "0930", end: str = "1600") -> list[int]:
    """NASDAQ's 1h bar opens from `first` to `last` (by hand: weekdays, the holiday, the half day)."""
    found, day = [], first
    while day <= last:
        closes = "1300" if day == date(2023, 11, 24) else end
        if day.weekday() < 5 and day != date(2023, 11, 23):
            t = datetime.combine(day, datetime.strptime(start, "%H%M").time(), NEW_YORK)
            close = datetime.combine(day, datetime.strptime(closes, "%H%M").time(), NEW_YORK)
            while t < close and t.timestamp() <= until:
                found.append(int(t.timestamp()))
                t += timedelta(hours=1)
        day += timedelta(days=1)
    return found


@pytest.fixture
def world() -> World:
    w = World(clock=FakeClock(NOW))
    w.provider.infos[AAPL] = INFO
    return w


def source(world: World, times: list[int]) -> list[OHLCVBar]:
    return world.provider.add_bars_at(AAPL, H1, times)


async def sync(world: World, n_bars: int, **options):
    return await world.mediator.send(SyncSymbolCommand(KEY, n_bars, **options))


async def test_a_sync_keeps_the_sources_session_stamps_and_its_window_skips_nights_and_the_holiday(world):
    times = opens(date(2023, 11, 13), date(2023, 11, 27))
    source(world, times)
    result = await sync(world, 30)
    assert sorted(world.stored(AAPL, H1)) == times[-30:]
    assert result.bars_rejected == 0 and world.provider.fetches == [(AAPL, H1, 30)]
    assert world.provider.hours[0].calendar.bar_of(times[-1], H1) == times[-1]  # the symbol's calendar asked


async def test_a_bar_at_no_bar_open_of_the_calendar_is_rejected_counted_and_never_moved(world):
    times = opens(date(2023, 11, 20), date(2023, 11, 27))
    bars = source(world, times)
    grid = OHLCVBar(H1, times[-2] - 1_800, 1, 1, 1, 1)  # 09:00 New York: on the UTC grid, not a bar open
    world.provider.bars[(AAPL, H1)] = sorted([*bars, grid], key=lambda b: b.time)
    result = await sync(world, 20)
    assert result.bars_rejected == 1 and "inside the bar opening at" not in result.rejection
    assert "outside the trading sessions" in result.rejection
    assert grid.time not in world.stored(AAPL, H1) and sorted(world.stored(AAPL, H1)) == times[-20:]


async def test_the_metadata_is_stored_on_the_first_sync_and_asked_again_only_when_old(world):
    source(world, opens(date(2023, 11, 20), date(2023, 11, 27)))
    await sync(world, 5)
    stored = world.symbol_metadata.metadata[INSTRUMENT]
    assert (stored.timezone, stored.regular.session, stored.extended.session) == ("America/New_York", "0930-1600",
                                                                                  "0400-2000")
    await sync(world, 5)
    assert world.provider.resolved == 1
    world.clock.advance(3_601)
    await sync(world, 5)
    assert world.provider.resolved == 2


async def test_a_source_that_cannot_resolve_leaves_the_stored_metadata_in_use(world):
    times = opens(date(2023, 11, 20), date(2023, 11, 27))
    source(world, times)
    await sync(world, 5)
    world.clock.advance(3_601)
    resolve = world.provider.resolve_symbol

    async def down(symbol):
        raise UpstreamUnavailable("down")

    world.provider.resolve_symbol = down
    await sync(world, 10)
    assert sorted(world.stored(AAPL, H1)) == times[-10:]
    world.provider.resolve_symbol = resolve


async def test_coverage_counts_only_session_bars_as_missing_and_grid_stamped_ones_as_misplaced(world):
    times = opens(date(2023, 11, 20), date(2023, 11, 27))
    bars = source(world, times)
    await sync(world, len(times))
    await world.bars.remove(KEY, [times[3]])  # one real hole, on Monday
    await world.bars.upsert(KEY, [OHLCVBar(H1, times[5] + 1_800, 1, 1, 1, 1)])  # an old grid-stamped bar
    [view] = await world.mediator.send(GetSyncStatusQuery(symbol="AAPL"))
    coverage = view.coverage
    assert coverage.gaps == ((times[3], times[3]),) and coverage.missing_bars == 1
    assert coverage.misplaced_bars == 1 and coverage.bar_count == len(bars)


async def test_a_repair_deletes_grid_stamped_bars_and_leaves_exactly_the_sources(world):
    times = opens(date(2023, 11, 20), date(2023, 11, 27))
    source(world, times)
    legacy = [OHLCVBar(H1, t - 1_800, 2, 2, 2, 2) for t in times]  # stored 30 minutes early by an old version
    await world.bars.upsert(KEY, legacy)
    result = await sync(world, len(times), refresh=True)
    assert result.bars_removed == len(legacy)
    assert sorted(world.stored(AAPL, H1)) == times
    [view] = await world.mediator.send(GetSyncStatusQuery(symbol="AAPL"))
    assert (view.coverage.misplaced_bars, view.coverage.missing_bars) == (0, 0)


async def test_tracking_shows_the_sessions_and_extended_hours_switch_the_calendar_and_the_request(world):
    times = opens(date(2023, 11, 27), date(2023, 11, 27), start="0400", end="2000")
    source(world, times)
    view = await world.mediator.send(TrackSymbolCommand(INSTRUMENT, (H1,), extended_hours=True))
    assert view.metadata.follows_extended and view.metadata.session.session == "0400-2000"
    [listed] = await world.mediator.send(ListSymbolsQuery())
    assert listed.metadata.extended_hours and listed.metadata.regular.holidays == "20231123"
    await sync(world, len(times))
    hours = world.provider.hours[-1]
    assert hours.extended and hours.calendar.bar_of(times[0], H1) == times[0]  # 04:00 New York
    assert sorted(world.stored(AAPL, H1)) == times
    view = await world.mediator.send(TrackSymbolCommand(INSTRUMENT, (H1,)))  # unchanged when not given
    assert view.metadata.extended_hours


async def test_the_sessions_of_any_symbol_are_fetched_when_not_stored(world):
    metadata = await world.mediator.send(GetSymbolMetadataQuery(INSTRUMENT))
    assert metadata.regular.corrections == "0930-1300:20231124" and world.provider.resolved == 1
    await world.mediator.send(GetSymbolMetadataQuery(INSTRUMENT))
    assert world.provider.resolved == 1
    await world.mediator.send(GetSymbolMetadataQuery(INSTRUMENT, refresh=True))
    assert world.provider.resolved == 2
