"""The simulator's market: symbols, deterministic bar history for every interval, live bars and quotes.

History is a seeded random walk per (symbol, interval, session) ending at the anchor time, so the same seed
and anchor always give the same bars. Bars are stamped as TradingView stamps them: a symbol with exchange
hours (`SymbolSpec.hours`: NASDAQ, NYSE, LSE, CME futures, forex) at its session bars (`sessions`: intraday
bars from each session's open, daily bars at the session open, weekly and monthly bars at the open of their
first trading day, holidays and half days included, daylight saving followed); a 24x7 UTC symbol on the UTC
grid. A symbol with extended hours also has extended-hours histories (asked with `"session": "extended"` in
the resolve spec). 3M/6M/12M bars are the aggregates of the monthly ones. Ticks (pushed by tests or by the
tick generator) update the forming bar of every generated history whose sessions hold their time (a tick
outside them moves only the quote) and the quote; generated ticks come only while the symbol's regular
session trades.

Delayed symbols (`SymbolSpec.delay` seconds, TradingView's `delay` and `delayed_streaming_<delay>`): their
trade times run `delay` behind the clock, so their history ends `delay` before the anchor. With
`hole_rate`, that share of intraday bars (never the newest) is missing from the history, as for an
illiquid symbol without trades in some minutes; `remove_bars` cuts a stretch out for a test.
"""

import calendar
import csv
import math
import random
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulators.tradingview.resolutions import Months, Resolution
from simulators.tradingview.sessions import (
    CME_FUTURES,
    FOREX,
    LSE,
    NASDAQ,
    NYSE,
    US_INDEX,
    ExchangeHours,
    always_open,
    month_of_bar,
)
from src.domain.market_data import Interval

Row = list[float]  # [time, open, high, low, close] + [volume] when the symbol has volume

EARLIEST = 631_152_000  # 1990-01-01: history never starts before this


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    ticker: str
    description: str
    type: str = "spot"
    currency: str = "USD"
    timezone: str = "Etc/UTC"
    session: str = "24x7"
    price: float = 100.0
    volatility: float = 0.002  # per 1-minute bar; scaled by sqrt(bar length)
    has_volume: bool = True
    hours: ExchangeHours | None = None  # None: 24x7 UTC, bars on the UTC grid
    pricescale: int = 100
    country: str = ""
    delay: int = 0  # seconds its trade times run behind the clock (0: real time)

    @property
    def exchange(self) -> str:
        return self.ticker.split(":", 1)[0]

    @property
    def code(self) -> str:
        return self.ticker.split(":", 1)[1]

    @property
    def full_name(self) -> str:
        """Delayed feeds are renamed `EXCH_DLY:CODE` (their `pro_name` stays the ticker)."""
        return f"{self.exchange}_DLY:{self.code}" if self.delay else self.ticker

    @property
    def update_mode(self) -> str:
        return f"delayed_streaming_{self.delay}" if self.delay else "streaming"

    def trades(self, when: float) -> bool:
        """Whether the regular session trades at `when` (24x7 symbols always do)."""
        return self.hours is None or self.hours.trading_day(when) is not None


DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    SymbolSpec("BINANCE:BTCUSDT", "Bitcoin / TetherUS", currency="USDT", price=60_000.0, country="MT"),
    SymbolSpec("BINANCE:ETHUSDT", "Ethereum / TetherUS", currency="USDT", price=3_000.0, country="MT"),
    SymbolSpec("NASDAQ:AAPL", "Apple Inc.", type="stock", timezone="America/New_York", session="0930-1600",
               price=190.0, volatility=0.001, hours=NASDAQ, country="US"),
    SymbolSpec("NASDAQ:MSFT", "Microsoft Corporation", type="stock", timezone="America/New_York",
               session="0930-1600", price=420.0, volatility=0.001, hours=NASDAQ, country="US"),
    SymbolSpec("NYSE:IBM", "International Business Machines Corporation", type="stock",
               timezone="America/New_York", session="0930-1600", price=230.0, volatility=0.001, hours=NYSE,
               country="US"),
    SymbolSpec("SP:SPX", "S&P 500 Index", type="index", timezone="America/New_York", session="0930-1600",
               price=5_000.0, volatility=0.0008, has_volume=False, hours=US_INDEX, country="US"),
    SymbolSpec("LSE:VOD", "Vodafone Group Public Limited Company", type="stock", currency="GBX",
               timezone="Europe/London", session="0800-1630", price=72.0, volatility=0.0008, hours=LSE, country="GB"),
    SymbolSpec("CME_MINI:ES1!", "E-mini S&P 500 Futures", type="futures", timezone="America/New_York",
               session="1800-1700", price=5_000.0, volatility=0.0006, hours=CME_FUTURES, pricescale=4,
               country="US"),
    SymbolSpec("FX:EURUSD", "Euro / U.S. Dollar", type="forex", timezone="America/New_York", session="1700-1700",
               price=1.08, volatility=0.0003, has_volume=False, hours=FOREX, pricescale=100_000),
    SymbolSpec("HOSE:VCB", "Joint Stock Commercial Bank for Foreign Trade of Vietnam", type="stock",
               currency="VND", timezone="Asia/Ho_Chi_Minh", price=90_000.0, volatility=0.001, pricescale=1,
               hours=always_open("Asia/Ho_Chi_Minh"), country="VN", delay=900),
)


def _month_start(ts: int, delta: int) -> int:
    moment = datetime.fromtimestamp(ts, UTC)
    month_index = moment.year * 12 + moment.month - 1 + delta
    return calendar.timegm((month_index // 12, month_index % 12 + 1, 1, 0, 0, 0))


def bar_times(interval: Interval, newest: int, count: int) -> list[int]:
    """Up to `count` aligned open times ending at the bar containing `newest`, oldest first."""
    last = interval.align(newest)
    if interval is Interval.MN1:
        times = [_month_start(last, -k) for k in range(count)]
    else:
        step = interval.seconds
        times = [last - k * step for k in range(count)]
    return [t for t in reversed(times) if t >= EARLIEST]


def bar_open(spec: SymbolSpec, interval: Resolution, when: float, extended: bool = False) -> int | None:
    """The open of the bar of `spec` holding the trade time `when` (None outside its sessions)."""
    if spec.hours is None or isinstance(interval, Months):
        return interval.align(int(when))
    assert isinstance(interval, Interval)
    return spec.hours.bar_open(interval, when, extended and spec.hours.has_extended)


@dataclass
class Market:
    specs: dict[str, SymbolSpec]
    anchor: float
    seed: int = 7
    history_bars: int = 12_000
    hole_rate: float = 0.0  # share of intraday bars missing from generated histories
    _history: dict[tuple[str, Resolution, bool], list[Row]] = field(default_factory=dict)
    quotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    _prev_volume: dict[str, float] = field(default_factory=dict)

    def spec(self, ticker: str) -> SymbolSpec | None:
        return self.specs.get(ticker)

    def effective_extended(self, ticker: str, extended: bool) -> bool:
        """Whether an extended-hours request gets extended bars (a symbol without them gets its regular ones)."""
        hours = self.specs[ticker].hours
        return extended and hours is not None and hours.has_extended

    def history(self, ticker: str, interval: Resolution, extended: bool = False) -> list[Row]:
        """The bars of `ticker`; `extended`: its extended-hours bars (the regular ones when it has none)."""
        spec = self.specs[ticker]
        extended = self.effective_extended(ticker, extended)
        key = (ticker, interval, extended)
        rows = self._history.get(key)
        if rows is None:
            if isinstance(interval, Months):
                rows = _aggregate(spec, interval, self.history(ticker, Interval.MN1, extended))
            else:
                assert isinstance(interval, Interval)
                rows = self._without_holes(spec, interval, self._generate(spec, interval, extended))
            self._history[key] = rows
        return rows

    def set_history(self, ticker: str, interval: Resolution, rows: list[Row]) -> None:
        self._history[(ticker, interval, False)] = sorted(rows, key=lambda r: r[0])

    def remove_bars(self, ticker: str, interval: Interval, first: int, last: int) -> None:
        """Cut the bars opening in [first, last] out of the history (a stretch without trades)."""
        rows = self.history(ticker, interval)
        rows[:] = [row for row in rows if not first <= row[0] <= last]

    def _without_holes(self, spec: SymbolSpec, interval: Interval, rows: list[Row]) -> list[Row]:
        if self.hole_rate <= 0 or not interval.is_intraday:
            return rows
        rng = random.Random(zlib.crc32(f"holes:{self.seed}:{spec.ticker}:{interval.code}".encode()))
        return [row for row in rows[:-1] if rng.random() >= self.hole_rate] + rows[-1:]

    def _times(self, spec: SymbolSpec, interval: Interval, extended: bool) -> list[int]:
        newest = int(self.anchor) - spec.delay
        if spec.hours is None:
            return bar_times(interval, newest, self.history_bars)
        return spec.hours.bar_opens(interval, newest, self.history_bars, EARLIEST, extended)

    def _generate(self, spec: SymbolSpec, interval: Interval, extended: bool = False) -> list[Row]:
        """Walk backwards from `spec.price` at the newest bar, pulled gently towards it so that long
        histories stay within a realistic band."""
        salt = ":extended" if extended else ""
        rng = random.Random(zlib.crc32(f"{self.seed}:{spec.ticker}:{interval.code}{salt}".encode()))
        times = self._times(spec, interval, extended)
        minutes = (interval.seconds or 30 * 86_400) / 60
        sigma = min(0.05, spec.volatility * math.sqrt(minutes))
        floor = 1 / spec.pricescale
        target = math.log(spec.price)
        log_close = target
        rows: list[Row] = []
        for t in reversed(times):
            log_open = log_close - rng.gauss(0, sigma) + 0.02 * (target - log_close)
            open_, close = max(floor, math.exp(log_open)), max(floor, math.exp(log_close))
            high = max(open_, close) * (1 + abs(rng.gauss(0, sigma / 2)))
            low = max(floor, min(open_, close) * (1 - abs(rng.gauss(0, sigma / 2))))
            row = [float(t), round(open_, 8), round(high, 8), round(low, 8), round(close, 8)]
            if spec.has_volume:
                row.append(round(rng.uniform(0.2, 2.0) * 10 * minutes, 5))
            rows.append(row)
            log_close = log_open
        rows.reverse()
        return rows

    # --- quotes and ticks ----------------------------------------------------------------------------

    def quote(self, ticker: str) -> dict[str, Any]:
        """The full quote of `ticker` (created from its 1-minute history on first use)."""
        fields = self.quotes.get(ticker)
        if fields is None:
            spec = self.specs[ticker]
            last = self.history(ticker, Interval.M1)[-1]
            daily = self.history(ticker, Interval.D1)
            prev_close = daily[-2][4] if len(daily) > 1 else last[1]
            fields = self.quotes[ticker] = {
                "lp": last[4], "lp_time": int(last[0]), "volume": 0.0,
                "ch": round(last[4] - prev_close, 8), "chp": round((last[4] / prev_close - 1) * 100, 4),
                "bid": last[4], "ask": last[4], "prev_close_price": prev_close,
                "description": spec.description, "exchange": spec.exchange, "type": spec.type,
                "pro_name": spec.ticker, "short_name": spec.code, "currency_code": spec.currency,
                "update_mode": spec.update_mode, "current_session": "market",
            }
        return fields

    def apply_tick(
        self, ticker: str, price: float, cumulative_volume: float | None, when: float, recorded: float | None = None,
    ) -> tuple[dict[str, Any], dict[tuple[Resolution, bool], tuple[int, bool]]]:
        """Apply a trade: returns the changed quote fields and, per generated (interval, extended) history
        whose sessions hold `when`, the index of the bar it touched and whether that bar is new. The history
        records the trade at `recorded` (default: its price)."""
        quote = self.quote(ticker)
        previous = self._prev_volume.get(ticker, quote["volume"])
        if cumulative_volume is None:
            cumulative_volume = previous
        # A drop of the session-cumulative volume means a new session started.
        traded = cumulative_volume - previous if cumulative_volume >= previous else cumulative_volume
        self._prev_volume[ticker] = cumulative_volume
        prev_close = quote["prev_close_price"]
        tick = max(10 ** -math.log10(self.specs[ticker].pricescale), 1e-8)
        new_fields = {"lp": price, "lp_time": int(when), "volume": cumulative_volume,
                      "ch": round(price - prev_close, 8), "chp": round((price / prev_close - 1) * 100, 4),
                      "bid": round(price - tick, 8), "ask": round(price + tick, 8)}
        changed = {k: v for k, v in new_fields.items() if quote.get(k) != v}
        quote.update(changed)
        touched: dict[tuple[Resolution, bool], tuple[int, bool]] = {}
        spec = self.specs[ticker]
        for (key_ticker, interval, extended), rows in self._history.items():
            opened = bar_open(spec, interval, when, extended) if key_ticker == ticker else None
            if opened is not None:
                touched[(interval, extended)] = self._apply_to_bars(spec, opened, rows,
                                                                    price if recorded is None else recorded, traded)
        return changed, touched

    @staticmethod
    def _apply_to_bars(spec: SymbolSpec, opened: int, rows: list[Row], price: float,
                       traded: float) -> tuple[int, bool]:
        t = float(opened)
        if not rows or t > rows[-1][0]:
            row = [t, price, price, price, price]
            if spec.has_volume:
                row.append(traded)
            rows.append(row)
            return len(rows) - 1, True
        row = rows[-1]
        row[2], row[3], row[4] = max(row[2], price), min(row[3], price), price
        if spec.has_volume:
            row[5] = round(row[5] + traded, 8)
        return len(rows) - 1, False

    def new_session(self, ticker: str) -> None:
        """Start a new trading session: the next tick's cumulative volume restarts from zero."""
        self._prev_volume[ticker] = 0.0


def _aggregate(spec: SymbolSpec, months: Months, monthly: list[Row]) -> list[Row]:
    """Bars of several months from the monthly ones: first open, highest high, lowest low, last close,
    summed volume; stamped at the open of their first month's bar (a session symbol's first trading day)."""
    groups: dict[int, list[Row]] = {}
    for row in monthly:
        month = month_of_bar(int(row[0])) if spec.hours is not None else _month_index(int(row[0]))
        groups.setdefault(month - month % months.months, []).append(row)
    out = []
    for first_month, rows in sorted(groups.items()):
        stamp = rows[0][0] if spec.hours is not None else float(calendar.timegm((first_month // 12,
                                                                                  first_month % 12 + 1, 1, 0, 0, 0)))
        bar = [stamp, rows[0][1], max(r[2] for r in rows), min(r[3] for r in rows), rows[-1][4]]
        if spec.has_volume:
            bar.append(round(sum(r[5] for r in rows), 8))
        out.append(bar)
    return out


def _month_index(t: int) -> int:
    """year * 12 + month - 1 of the UTC month holding `t`."""
    moment = datetime.fromtimestamp(t, UTC)
    return moment.year * 12 + moment.month - 1


def load_bars_csv(market: Market, path: Path) -> None:
    """Replace generated history with bars from a CSV (`symbol,interval,time,open,high,low,close[,volume]`,
    interval in our codes or TradingView's, time in epoch seconds)."""
    grouped: dict[tuple[str, Interval], list[Row]] = {}
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            interval = Interval.parse(record["interval"])
            row = [float(record[k]) for k in ("time", "open", "high", "low", "close")]
            if record.get("volume") not in (None, ""):
                row.append(float(record["volume"]))
            grouped.setdefault((record["symbol"], interval), []).append(row)
    for (ticker, interval), rows in grouped.items():
        if ticker not in market.specs:
            market.specs[ticker] = SymbolSpec(ticker, ticker, price=rows[-1][4])
        market.set_history(ticker, interval, rows)


def load_ticks_csv(path: Path) -> list[tuple[str, float, float | None, float]]:
    """Ticks to replay (`symbol,time,price[,cumulative_volume]`), in file order."""
    with path.open(newline="") as handle:
        return [(r["symbol"], float(r["price"]),
                 float(r["cumulative_volume"]) if r.get("cumulative_volume") else None, float(r["time"]))
                for r in csv.DictReader(handle)]
