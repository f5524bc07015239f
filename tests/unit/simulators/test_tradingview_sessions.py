"""The TradingView simulator's exchange hours against times worked out by hand from the exchanges' published
hours and daylight-saving dates (New York EST until 2024-03-10 and from 2024-11-03; London BST from 2024-03-31):
session-stamped intraday, daily, weekly and monthly bars, holidays, half days, an overnight futures session,
ticks only in session, extended hours and the command-line switches."""

import calendar
import itertools
from datetime import date

import pytest

from simulators.tradingview.__main__ import build, parse_args
from simulators.tradingview.market import DEFAULT_SYMBOLS, Market
from simulators.tradingview.sessions import CME_FUTURES, LSE, NASDAQ
from src.domain.market_data import Interval

H1, H4, D1, W1, MN1 = Interval.H1, Interval.H4, Interval.D1, Interval.W1, Interval.MN1
NOW = calendar.timegm((2024, 12, 3, 16, 0, 0))  # Tuesday 11:00 New York


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return calendar.timegm((year, month, day, hour, minute, 0))


def market(**options) -> Market:
    return Market({s.ticker: s for s in DEFAULT_SYMBOLS}, NOW, history_bars=400, **options)


def test_nasdaq_hour_bars_open_at_the_session_open_and_follow_daylight_saving():
    friday, monday = NASDAQ.bar_opens(H1, utc(2024, 3, 8, 23), 7, 0), NASDAQ.bar_opens(H1, utc(2024, 3, 11, 23), 7, 0)
    assert friday[0] == utc(2024, 3, 8, 14, 30) and monday[0] == utc(2024, 3, 11, 13, 30)
    assert monday == [utc(2024, 3, 11, 13, 30) + 3_600 * k for k in range(7)]  # 09:30 ... 15:30 (short)


def test_four_hour_bars_open_at_0930_and_1330():
    assert NASDAQ.bar_opens(H4, utc(2024, 3, 11, 23), 2, 0) == [utc(2024, 3, 11, 13, 30), utc(2024, 3, 11, 17, 30)]


def test_a_holiday_has_no_bars_and_a_half_day_ends_at_1300():
    good_friday = [t for t in NASDAQ.bar_opens(D1, utc(2024, 4, 2, 23), 5, 0)]
    assert utc(2024, 3, 29, 13, 30) not in good_friday and utc(2024, 3, 28, 13, 30) in good_friday
    after_thanksgiving = NASDAQ.bar_opens(H1, utc(2024, 11, 29, 23), 4, 0)
    assert after_thanksgiving == [utc(2024, 11, 29, 14, 30) + 3_600 * k for k in range(4)]  # 09:30 ... 12:30
    assert NASDAQ.session(date(2024, 11, 29)) == (utc(2024, 11, 29, 14, 30), utc(2024, 11, 29, 18))


def test_weekly_and_monthly_bars_open_at_their_first_trading_day():
    assert NASDAQ.bar_opens(W1, utc(2024, 4, 5, 23), 1, 0) == [utc(2024, 4, 1, 13, 30)]
    assert NASDAQ.bar_opens(MN1, utc(2024, 9, 20), 1, 0) == [utc(2024, 9, 3, 13, 30)]  # Sept 2: Labor Day


def test_london_moves_an_hour_on_its_own_daylight_saving_date_and_closes_for_easter():
    assert LSE.session(date(2024, 3, 28))[0] == utc(2024, 3, 28, 8)
    assert LSE.session(date(2024, 3, 29)) is None and LSE.session(date(2024, 4, 1)) is None
    assert LSE.session(date(2024, 4, 2))[0] == utc(2024, 4, 2, 7)


def test_the_futures_session_opens_the_evening_before_its_trading_day():
    assert CME_FUTURES.session(date(2024, 3, 11)) == (utc(2024, 3, 10, 22), utc(2024, 3, 11, 21))
    assert CME_FUTURES.bar_open(D1, utc(2024, 3, 10, 22, 5)) == utc(2024, 3, 10, 22)  # Monday's daily bar
    assert CME_FUTURES.bar_open(W1, utc(2024, 3, 13, 15)) == utc(2024, 3, 10, 22)  # the week opens on Sunday
    assert CME_FUTURES.bar_open(MN1, utc(2024, 3, 5, 15)) == utc(2024, 2, 29, 23)  # March opens on Feb 29


def test_overnight_daily_weekly_and_monthly_bars_never_collide():
    futures = market()
    for interval in (D1, W1, MN1):
        times = [row[0] for row in futures.history("CME_MINI:ES1!", interval)]
        assert times == sorted(set(times))
    months = [row[0] for row in futures.history("CME_MINI:ES1!", MN1)]
    assert all(later - earlier > 20 * 86_400 for earlier, later in itertools.pairwise(months))


def test_generated_history_is_session_stamped_and_ends_at_the_anchor():
    bars = market().history("NASDAQ:AAPL", H1)
    assert len(bars) == 400 and bars[-1][0] == utc(2024, 12, 3, 15, 30)  # the 10:30 bar forms at 11:00
    assert all(NASDAQ.bar_open(H1, row[0]) == row[0] for row in bars)


def test_a_tick_outside_the_session_moves_only_the_quote():
    m = market()
    before = [list(row) for row in m.history("NASDAQ:AAPL", H1)]
    changed, touched = m.apply_tick("NASDAQ:AAPL", 200.0, 10.0, utc(2024, 12, 3, 23))  # 18:00 New York
    assert changed["lp"] == 200.0 and touched == {} and m.history("NASDAQ:AAPL", H1) == before
    _, touched = m.apply_tick("NASDAQ:AAPL", 201.0, 11.0, utc(2024, 12, 4, 14, 31))
    assert touched[(H1, False)] == (400, True) and m.history("NASDAQ:AAPL", H1)[-1][0] == utc(2024, 12, 4, 14, 30)


def test_generated_ticks_come_only_in_the_regular_session():
    aapl = next(s for s in DEFAULT_SYMBOLS if s.ticker == "NASDAQ:AAPL")
    btc = next(s for s in DEFAULT_SYMBOLS if s.ticker == "BINANCE:BTCUSDT")
    assert aapl.trades(utc(2024, 12, 3, 15)) and not aapl.trades(utc(2024, 12, 3, 13))  # 08:00: pre-market
    assert btc.trades(utc(2024, 12, 3, 13))


def test_extended_hours_bars_start_at_0400():
    bars = market().history("NASDAQ:AAPL", H1, extended=True)
    assert bars[-1][0] == utc(2024, 12, 3, 16) and utc(2024, 12, 3, 9) in {row[0] for row in bars}  # 11:00, 04:00
    assert market().history("SP:SPX", H1, extended=True) == market().history("SP:SPX", H1)  # none: regular


def test_symbol_info_gives_the_sessions_holidays_corrections_and_subsessions():
    sim = build(parse_args(["--port", "0"]))
    info = sim.symbol_info("NASDAQ:AAPL")
    assert (info["timezone"], info["session"]) == ("America/New_York", "0930-1600")
    assert {"20241128", "20240329", "19900101"} <= set(info["session_holidays"].split(","))
    assert "20241129" in info["session-correction"].split(":")[1].split(",")
    assert info["session-correction"].startswith("0930-1300:")
    assert [(s["id"], s["session"]) for s in info["subsessions"]] == [("regular", "0930-1600"),
                                                                      ("extended", "0400-2000")]
    assert info["subsessions"][1]["session-correction"].startswith("0400-1700:")
    futures = sim.symbol_info("CME_MINI:ES1!")
    assert (futures["session"], futures["timezone"]) == ("1800-1700", "America/New_York")
    assert sim.symbol_info("BINANCE:BTCUSDT")["session"] == "24x7"


@pytest.mark.parametrize("option", [["--no-sessions"], ["--holiday", "2024-12-02", "--half-day", "2024-11-27"]])
def test_sessions_are_configurable_from_the_command_line(option):
    sim = build(parse_args(["--port", "0", *option]))
    aapl = sim.market.specs["NASDAQ:AAPL"]
    if option == ["--no-sessions"]:
        assert aapl.hours is None and sim.symbol_info("NASDAQ:AAPL")["session"] == "24x7"
    else:
        assert aapl.hours.session(date(2024, 12, 2)) is None
        assert aapl.hours.session(date(2024, 11, 27))[1] == utc(2024, 11, 27, 18)
        assert "20241202" in sim.symbol_info("NASDAQ:AAPL")["session_holidays"]
