"""The TradingView simulator's reading of resolutions and ranges (protocol reference §4.2, §7), and the
shapes of its market: aggregated months, holes, delayed symbols."""

import calendar

import pytest

from simulators.tradingview.market import DEFAULT_SYMBOLS, Market
from simulators.tradingview.resolutions import Months, range_of, resolution_of
from src.domain.market_data import Interval

NOW = calendar.timegm((2024, 5, 17, 12, 0, 0))


@pytest.mark.parametrize(("code", "expected"), [("1", Interval.M1), ("60", Interval.H1), ("1H", Interval.H1),
                                                ("D", Interval.D1), ("1M", Interval.MN1), ("3M", Months(3, "3M")),
                                                ("12M", Months(12, "12M")), ("7", None), ("2D", None)])
def test_resolutions_standard_multi_month_and_custom(code, expected):
    assert resolution_of(code) == expected


def test_nonsense_resolutions_are_invalid():
    with pytest.raises(ValueError):
        resolution_of("XX")


def test_months_align_to_quarters_halves_and_years_from_january():
    may = calendar.timegm((2024, 5, 17, 0, 0, 0))
    assert Months(3, "3M").align(may) == calendar.timegm((2024, 4, 1, 0, 0, 0))
    assert Months(6, "6M").align(may) == calendar.timegm((2024, 1, 1, 0, 0, 0))
    assert Months(3, "3M").next_open(calendar.timegm((2024, 10, 1, 0, 0, 0))) == calendar.timegm((2025, 1, 1, 0, 0, 0))


@pytest.mark.parametrize(("text", "expected"), [
    ("", None),
    ("r,1704067200:1735603200", (1704067200, 1735603200)),
    ("ALL", (0, NOW)),
    ("YTD", (calendar.timegm((2024, 1, 1, 0, 0, 0)), NOW)),
    ("5d", (NOW - 5 * 86_400, NOW)),
    ("12M", (calendar.timegm((2023, 5, 1, 0, 0, 0)), NOW)),
    ("2Y", (calendar.timegm((2022, 5, 1, 0, 0, 0)), NOW)),
])
def test_ranges_of_the_seventh_create_series_parameter(text, expected):
    assert range_of(text, NOW) == expected


def test_malformed_ranges_are_invalid():
    with pytest.raises(ValueError):
        range_of("r,1:two", NOW)


def test_multi_month_bars_are_the_exact_aggregate_of_the_months():
    market = Market({s.ticker: s for s in DEFAULT_SYMBOLS}, NOW, history_bars=60)
    months = market.history("BINANCE:BTCUSDT", Interval.MN1)
    quarters = market.history("BINANCE:BTCUSDT", Months(3, "3M"))
    first = [r for r in months if Months(3, "3M").align(int(r[0])) == int(quarters[1][0])]
    assert len(first) == 3
    assert quarters[1] == [quarters[1][0], first[0][1], max(r[2] for r in first), min(r[3] for r in first),
                           first[-1][4], round(sum(r[5] for r in first), 8)]


def test_holes_remove_the_asked_share_of_intraday_bars_but_never_the_newest():
    whole = Market({s.ticker: s for s in DEFAULT_SYMBOLS}, NOW, history_bars=5_000)
    holey = Market({s.ticker: s for s in DEFAULT_SYMBOLS}, NOW, history_bars=5_000, hole_rate=0.1)
    full, kept = whole.history("BINANCE:BTCUSDT", Interval.M1), holey.history("BINANCE:BTCUSDT", Interval.M1)
    assert 4_300 < len(kept) < 4_700 and kept[-1] == full[-1] and all(row in full for row in kept[::50])
    assert len(holey.history("BINANCE:BTCUSDT", Interval.D1)) == len(whole.history("BINANCE:BTCUSDT", Interval.D1))


def test_a_delayed_symbol_history_ends_its_delay_before_the_anchor():
    market = Market({s.ticker: s for s in DEFAULT_SYMBOLS}, NOW, history_bars=10)
    assert market.history("HOSE:VCB", Interval.M1)[-1][0] == NOW - 900
    assert market.quote("HOSE:VCB")["update_mode"] == "delayed_streaming_900"
