import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.domain.errors import InvalidBar, InvalidSeries, InvalidSymbol
from src.domain.market_data import Interval, OHLCVAggregate, OHLCVBar, SeriesKey, Symbol, gaps

KEY = SeriesKey(Symbol("binance", "btcusdt"), Interval.M1, "tradingview")
prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)


@st.composite
def bars(draw, interval=Interval.M1):
    minute = draw(st.integers(min_value=0, max_value=10_000))
    o, c = draw(prices), draw(prices)
    high = max(o, c) + draw(st.floats(min_value=0, max_value=100))
    low = min(o, c) - draw(st.floats(min_value=0, max_value=min(o, c) * 0.5))
    return OHLCVBar(interval, minute * 60, o, high, low, c, draw(st.floats(min_value=0, max_value=1e9)))


def test_symbol_is_normalized_upper_case():
    assert Symbol(" binance ", "btcusdt").ticker == "BINANCE:BTCUSDT"
    assert Symbol.parse("nasdaq:aapl") == Symbol("NASDAQ", "AAPL")
    assert Symbol("CME_MINI", "ES1!").code == "ES1!"


@pytest.mark.parametrize(("exchange", "code", "field"), [("", "AAPL", "exchange"), ("NASDAQ", "", "symbol"),
                                                         ("NAS DAQ", "AAPL", "exchange"), ("X", "A;B", "symbol")])
def test_symbol_rejects_invalid_naming_the_field(exchange, code, field):
    with pytest.raises(InvalidSymbol) as caught:
        Symbol(exchange, code)
    assert caught.value.field == field


@pytest.mark.parametrize("code", ["^GSPC", "BTC-USD", "EURUSD=X", "GC=F", "VOD.L", "0700.HK", "BRK-B", "^N225"])
def test_symbol_accepts_yahoo_tickers(code):
    assert Symbol("YAHOO", code.lower()).code == code


@pytest.mark.parametrize("code", ["GS^PC", "^^GSPC", "^", "EURUSD=", "EUR=USD=X", "EURUSD=XX", "=X", "GC=1",
                                  "A B", "A/B", "A:B"])
def test_symbol_accepts_caret_and_equals_only_where_yahoo_puts_them(code):
    with pytest.raises(InvalidSymbol) as caught:
        Symbol("YAHOO", code)
    assert caught.value.field == "symbol"


def test_symbol_parse_needs_exchange():
    with pytest.raises(InvalidSymbol):
        Symbol.parse("AAPL")


@pytest.mark.parametrize(
    "values",
    [
        (10, 9, 8, 10),  # high below close
        (10, 12, 11, 10.5),  # low above open
        (math.nan, 12, 9, 10),
        (10, math.inf, 9, 10),
    ],
)
def test_bar_rejects_inconsistent_prices(values):
    o, h, lo, c = values
    with pytest.raises(InvalidBar):
        OHLCVBar(Interval.M1, 60, o, h, lo, c, 1)


def test_bar_rejects_negative_volume_and_a_time_that_is_not_whole_epoch_seconds():
    with pytest.raises(InvalidBar) as caught:
        OHLCVBar(Interval.M1, 60, 1, 1, 1, 1, -1)
    assert caught.value.field == "volume"
    for time in (-60, 60.0):
        with pytest.raises(InvalidBar) as caught:
            OHLCVBar(Interval.M1, time, 1, 1, 1, 1, 0)  # type: ignore[arg-type]
        assert caught.value.field == "time"


def test_a_bar_alone_may_be_stamped_off_the_utc_grid_its_series_decides():
    assert OHLCVBar(Interval.H1, 1_700_000_000 + 1_800 - 1_700_000_000 % 3_600, 1, 1, 1, 1).time % 3_600 == 1_800


def test_a_24x7_series_keeps_the_utc_grid_rule():
    with pytest.raises(InvalidSeries) as caught:
        OHLCVAggregate(SeriesKey(KEY.symbol, Interval.M5, "tradingview"), (OHLCVBar(Interval.M5, 60, 1, 1, 1, 1),))
    assert caught.value.field == "time" and "not a bar open" in str(caught.value)


def test_bar_is_immutable():
    bar = OHLCVBar(Interval.M1, 60, 1, 2, 0.5, 1.5, 3)
    with pytest.raises(AttributeError):
        bar.close = 2  # type: ignore[misc]


@given(st.lists(bars(), max_size=50))
def test_aggregate_from_bars_is_sorted_unique_and_keeps_the_last_per_time(items):
    series = OHLCVAggregate.from_bars(KEY, items)
    times = [b.time for b in series.bars]
    assert times == sorted(set(times))
    last = {b.time: b for b in items}
    assert all(last[b.time] == b for b in series.bars)


@given(st.lists(bars(), max_size=40), st.lists(bars(), max_size=40))
def test_merge_replaces_equal_times_with_the_newer_series(old, new):
    merged = OHLCVAggregate.from_bars(KEY, old).merge(OHLCVAggregate.from_bars(KEY, new))
    expected = {b.time: b for b in old} | {b.time: b for b in new}
    assert {b.time: b for b in merged.bars} == expected
    assert [b.time for b in merged.bars] == sorted(expected)


def test_aggregate_rejects_unsorted_or_foreign_interval_bars():
    a = OHLCVBar(Interval.M1, 120, 1, 1, 1, 1)
    b = OHLCVBar(Interval.M1, 60, 1, 1, 1, 1)
    with pytest.raises(InvalidSeries):
        OHLCVAggregate(KEY, (a, b))
    with pytest.raises(InvalidSeries):
        OHLCVAggregate(KEY, (OHLCVBar(Interval.M5, 300, 1, 1, 1, 1),))


def test_merge_refuses_another_series():
    other = SeriesKey(Symbol("NASDAQ", "AAPL"), Interval.M1, "tradingview")
    with pytest.raises(InvalidSeries):
        OHLCVAggregate(KEY).merge(OHLCVAggregate(other))


def test_gaps_lists_intraday_holes_as_inclusive_ranges_only():
    assert gaps([0, 60, 240, 300, 600], Interval.M1) == [(120, 180), (360, 540)]
    assert gaps([0, 60], Interval.M1) == [] and gaps([], Interval.M1) == []
    assert gaps([0, 86_400 * 3], Interval.D1) == []


def test_the_same_symbol_from_two_sources_is_two_series():
    assert SeriesKey(KEY.symbol, Interval.M1, "tradingview") != SeriesKey(KEY.symbol, Interval.M1, "binance")
    assert str(SeriesKey(KEY.symbol, Interval.M1, "binance")).startswith("binance:")


@pytest.mark.parametrize("source", ["", "TradingView", "trading view", "1tv", "x" * 40, None])
def test_a_source_must_be_a_lowercase_provider_id(source):
    from src.domain.errors import InvalidSource

    with pytest.raises(InvalidSource) as caught:
        SeriesKey(KEY.symbol, Interval.M1, source)
    assert caught.value.field == "source"
