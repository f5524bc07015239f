import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.common.ports import SymbolMatch
from src.domain.errors import InvalidBar
from src.domain.market_data import Interval, OHLCVBar, Symbol
from src.providers.tradingview.messages import symbol_spec
from src.providers.tradingview.parsing import (
    QuoteBook,
    parse_bars,
    quote_tick,
    search_matches,
    series_rows,
    symbol_info,
)

BTC = Symbol("BINANCE", "BTCUSDT")


def test_bars_with_volume_become_domain_bars() -> None:
    rows = [{"i": 0, "v": [1751815080.0, 10.0, 12.0, 9.0, 11.0, 68.87]},
            {"i": 1, "v": [1751815140.0, 11.0, 11.5, 10.5, 11.2, 4.35]}]
    bars, skipped = parse_bars(rows, Interval.M1)
    assert skipped == 0
    assert bars == [OHLCVBar(Interval.M1, 1751815080, 10.0, 12.0, 9.0, 11.0, 68.87),
                    OHLCVBar(Interval.M1, 1751815140, 11.0, 11.5, 10.5, 11.2, 4.35)]


def test_series_without_volume_get_zero_volume() -> None:
    bars, _ = parse_bars([{"i": 0, "v": [1751815080.0, 10.0, 12.0, 9.0, 11.0]}], Interval.M1)
    assert bars[0].volume == 0.0


# A `timescale_update` of NASDAQ:AAPL as TradingView sends it: 1h bars at 09:30, 10:30 ... New York (13:30,
# 14:30 UTC in July), the session's last bar at 15:30 (a half hour long), then the next day's first.
SESSION_FRAME = ["cs_x", {"sds_1": {"s": [
    {"i": 0, "v": [1751895000.0, 210.0, 211.0, 209.5, 210.5, 1200.0]},  # 2025-07-07 13:30 UTC
    {"i": 1, "v": [1751898600.0, 210.5, 212.0, 210.0, 211.5, 900.0]},  # 14:30
    {"i": 2, "v": [1751916600.0, 211.5, 211.8, 211.0, 211.2, 1500.0]},  # 19:30 (15:30-16:00 New York)
    {"i": 3, "v": [1751981400.0, 211.2, 213.0, 211.0, 212.9, 1300.0]},  # 2025-07-08 13:30
], "t": "s1"}}, {"index": 0}]


def test_session_stamped_frames_keep_the_sources_times_exactly() -> None:
    bars, skipped = parse_bars(series_rows(SESSION_FRAME, "sds_1"), Interval.H1)
    assert skipped == 0
    assert [b.time for b in bars] == [1751895000, 1751898600, 1751916600, 1751981400]
    assert bars[2] == OHLCVBar(Interval.H1, 1751916600, 211.5, 211.8, 211.0, 211.2, 1500.0)


@pytest.mark.parametrize(("interval", "stamp"), [
    (Interval.D1, 1751895000),  # NASDAQ's 2025-07-07 at the session open, 13:30 UTC
    (Interval.D1, 1751839200),  # ES1!'s 2025-07-07, opened 2025-07-06 18:00 New York (22:00 UTC)
    (Interval.W1, 1751839200),  # its week: the Sunday-evening open of Monday's session
    (Interval.MN1, 1751320800),  # July 2025: Monday July 1's session opened June 30 18:00 New York
])
def test_daily_weekly_and_monthly_bars_keep_their_session_open_stamp(interval: Interval, stamp: int) -> None:
    bars, _ = parse_bars([{"i": 0, "v": [float(stamp), 1, 2, 0.5, 1.5, 10]}], interval)
    assert [b.time for b in bars] == [stamp]


def test_symbol_info_keeps_the_session_holidays_corrections_and_subsessions() -> None:
    subsessions = [{"id": "regular", "session": "0930-1600"}, {"id": "extended", "session": "0400-2000"}]
    info = symbol_info(Symbol("NASDAQ", "AAPL"), {
        "timezone": "America/New_York", "session": "0930-1600", "session_holidays": "20250704",
        "session-correction": "0930-1300:20251128", "subsessions": subsessions, "delay": 0})
    assert (info.timezone, info.session) == ("America/New_York", "0930-1600")
    assert info.extra["session_holidays"] == "20250704"
    assert info.extra["session-correction"] == "0930-1300:20251128"
    assert info.extra["subsessions"] == subsessions


@pytest.mark.parametrize("values", [
    [1751815080.0, 10.0, 9.0, 12.0, 11.0, 1.0],  # high < low
    [1751815080.0, 10.0, 12.0, 9.0, 11.0, -1.0],  # negative volume
    [1751815080.0, math.nan, 12.0, 9.0, 11.0, 1.0],
    [1751815080.0, 10.0, math.inf, 9.0, 11.0, 1.0],
    [1751815080.0, 10.0, 12.0, 9.0],  # too short
    ["x", 10.0, 12.0, 9.0, 11.0, 1.0],
])
def test_invalid_rows_are_skipped_and_counted(values: list[object]) -> None:
    good = {"i": 1, "v": [1751815140.0, 1.0, 1.0, 1.0, 1.0, 0.0]}
    bars, skipped = parse_bars([{"i": 0, "v": values}, good, {"x": 1}], Interval.M1)
    assert [b.time for b in bars] == [1751815140]
    assert skipped == 2


finite = st.floats(min_value=0.0, max_value=1e12, allow_nan=False)
anything = st.one_of(finite, st.floats(allow_nan=True, allow_infinity=True))


@given(st.integers(min_value=0, max_value=4_000_000_000), anything, anything, anything, anything, anything,
       st.sampled_from(list(Interval)))
def test_fast_path_agrees_with_the_validating_constructor(t: int, o: float, h: float, lo: float, c: float,
                                                          v: float, interval: Interval) -> None:
    bars, skipped = parse_bars([{"i": 0, "v": [float(t), o, h, lo, c, v]}], interval)
    try:
        expected = OHLCVBar(interval, t, o, h, lo, c, v)
    except InvalidBar:
        assert (bars, skipped) == ([], 1)
    else:
        assert bars == [expected] and skipped == 0
        assert type(bars[0]) is OHLCVBar


def test_series_rows_tolerates_missing_or_empty_series() -> None:
    assert series_rows(["cs", {}], "sds_1") == []
    assert series_rows(["cs"], "sds_1") == []
    assert series_rows(["cs", {"sds_1": {"s": []}}], "sds_1") == []


def test_qsd_partial_updates_merge_into_a_full_quote() -> None:
    book = QuoteBook()
    book.merge("BINANCE:BTCUSDT", {"lp": 100.0, "lp_time": 1751833030, "volume": 10.0, "ch": 1.0})
    merged = book.merge("BINANCE:BTCUSDT", {"volume": 12.5})
    tick = quote_tick(BTC, merged)
    assert tick is not None
    assert (tick.price, tick.time, tick.cumulative_volume, tick.change) == (100.0, 1751833030.0, 12.5, 1.0)
    tick = quote_tick(BTC, book.merge("BINANCE:BTCUSDT", {"lp": 101.0, "ch": None}))
    assert tick is not None and tick.price == 101.0 and tick.cumulative_volume == 12.5 and tick.change is None


@pytest.mark.parametrize(("mode", "delay"), [("delayed_streaming_900", 900.0), ("streaming", 0.0), (None, 0.0),
                                              ("delayed_streaming_x", 0.0)])
def test_a_quote_carries_the_delay_its_update_mode_declares(mode: str | None, delay: float) -> None:
    tick = quote_tick(BTC, {"lp": 1.0, "lp_time": 1751833030, "update_mode": mode})
    assert tick is not None and tick.delay == delay


def test_quote_without_price_or_time_yields_no_tick() -> None:
    assert quote_tick(BTC, {"lp": 1.0}) is None
    assert quote_tick(BTC, {"lp_time": 1}) is None


def test_search_results_strip_highlight_and_skip_unusable_entries() -> None:
    body = {"symbols_remaining": 0, "symbols": [
        {"symbol": "<em>AAPL</em>", "description": "Apple <em>Inc</em>.", "type": "stock",
         "exchange": "NASDAQ", "currency_code": "USD", "country": "US", "prefix": "NASDAQ"},
        {"symbol": "BAD SYMBOL WITH SPACES", "exchange": "X"},
        {"symbol": "EURUSD", "exchange": "FX Global", "type": "forex"},
    ]}
    assert search_matches(body) == [
        SymbolMatch(Symbol("NASDAQ", "AAPL"), "Apple Inc.", "stock", "USD", "US"),
        SymbolMatch(Symbol("FX", "EURUSD"), "", "forex", "", ""),
    ]


def test_symbol_spec_is_json_in_a_string() -> None:
    assert symbol_spec("BINANCE:BTCUSDT") == \
        '={"adjustment":"splits","session":"regular","symbol":"BINANCE:BTCUSDT"}'


def test_parsing_restores_the_garbage_collector_state():
    import gc

    from src.domain.market_data import Interval as _Interval
    from src.providers.tradingview.parsing import parse_bars as _parse

    rows = [{"i": 0, "v": [60.0, 1.0, 2.0, 0.5, 1.5, 3.0]}]
    assert gc.isenabled()
    _parse(rows, _Interval.M1)
    assert gc.isenabled()
    gc.disable()
    try:
        _parse(rows, _Interval.M1)
        assert not gc.isenabled()
    finally:
        gc.enable()
