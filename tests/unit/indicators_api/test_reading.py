"""The warm-up read before a window: enough bars for every spec, back past the session's open for
session-anchored ones, whatever the calendar."""

import numpy as np

from src.common.ports import BarColumns
from src.domain.indicators import DEFAULT_INDICATORS, compute, parse_specs, warmup
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.time_zone import TimeZoneRules
from src.features.indicators.reading import SeriesReader, Window
from tests.fakes import FakeOHLCVRepository
from tests.unit.indicators_api.conftest import DAY0, KEY, random_series

H1 = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.H1, "tradingview")
# Three ten-minute sessions a day: each 1h bar is cut short by a session break.
SHORT_SESSIONS = SessionCalendar.from_tradingview(TimeZoneRules.utc(), "0930-0940,0945-0955,1000-1010")


async def test_a_window_gets_exactly_the_bars_its_warmup_needs_before_it():
    repository = FakeOHLCVRepository()
    series = random_series(2_000)
    await repository.upsert(KEY, series.bars())
    window = Window(start=int(series.time[1_500]))
    history = await SeriesReader(repository).read(KEY, window, warmup(DEFAULT_INDICATORS))
    midnight = int(np.flatnonzero(series.time <= series.time[1_500] - series.time[1_500] % 86_400)[-1])
    assert history.first == max(warmup(DEFAULT_INDICATORS).bars, 1_500 - midnight + 1)
    assert len(history) == 500 and history.asked("time").tolist() == series.time[1_500:].tolist()


class ColumnsRepository:
    """Serves fixed bars through the read port, whatever their times (the bars of calendars that are not
    the UTC grid, which `OHLCVBar` cannot hold yet)."""

    def __init__(self, key: SeriesKey, rows: list[tuple[int, float, float, float, float, float]]) -> None:
        self.key, self.rows, self.reads = key, sorted(rows), 0

    async def read(self, key, *, start=None, end=None, limit=None, descending=False,
                   oldest_first=False) -> BarColumns:
        self.reads += 1
        rows = [r for r in self.rows if (start is None or r[0] >= start) and (end is None or r[0] <= end)]
        rows = (rows[:limit] if oldest_first else rows[-limit:]) if limit else rows
        time, open_, high, low, close, volume = (list(c) for c in zip(*rows, strict=True)) if rows else [[]] * 6
        return BarColumns(key, time, open_, high, low, close, volume, [0] * len(time))


async def test_vwap_reads_back_past_the_session_open_even_when_session_breaks_crowd_its_bars():
    day = DAY0 + 86_400 * 6  # a Tuesday
    opens = [day + minutes * 60 for minutes in (9 * 60 + 30, 9 * 60 + 45, 10 * 60)]  # 15 minutes apart
    rows = [(t + k * 86_400, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 10.0 * (i + 1))
            for k in (-1, 0) for i, t in enumerate(opens)]
    repository = ColumnsRepository(H1, rows)
    async def short_sessions(key):
        return SHORT_SESSIONS

    reader = SeriesReader(repository, calendar_for=short_sessions)
    vwap = parse_specs(["vwap"])
    history = await reader.read(H1, Window(start=opens[2]), warmup(vwap))
    # Twice the two bars first read: reaching before the session's open (the gap's bar before it is needed).
    assert history.arrays["time"].tolist() == [opens[1] - 86_400, opens[2] - 86_400, *opens]
    assert repository.reads == 3  # the window, a warm-up read one bar short, then twice as many
    full = await reader.read(H1, Window(), warmup(vwap))
    assert compute(vwap, history.columns)["vwap"][-1] == compute(vwap, full.columns)["vwap"][-1]
