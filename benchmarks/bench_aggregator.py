"""Ticks per second through `BarAggregator` at 8 intervals, against a bare loop doing the same work.

`agg_ticks_per_s`: 300,000 ticks for 10 symbols through `BarAggregator.on_tick` (validation, stale and
late-tick rules, cumulative-volume deltas, 8 intervals: 1m 3m 5m 15m 30m 1h 4h 1d, completed bars
materialised as validated `OHLCVBar`s), plus one `close_due` per simulated second as a timer would.
`agg_ratio_vs_bare_loop`: that rate divided by the rate of a bare Python loop that computes the same
8-interval OHLCV (dict of lists, same cumulative-volume delta, same ticks) in the same run; best of 3 each.
`agg_session_ticks_per_s`: the same ticks from Monday 2025-01-06 13:00 UTC for symbols on NASDAQ's calendar
(09:30-16:00 New York): the first 90 minutes pre-market (in no bar), then the session's bars.
"""

import random
import time
from collections.abc import Callable

from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.interval import Interval
from src.domain.market_data.symbol import Symbol
from src.domain.realtime.aggregator import BarAggregator
from src.infrastructure.timezones import time_zone_rules

INTERVALS = [Interval.parse(code) for code in ("1m", "3m", "5m", "15m", "30m", "1h", "4h", "1d")]
TICKS = 300_000
SYMBOLS = 10
START = 1_735_689_600  # 2025-01-01 00:00 UTC
SESSION_START = 1_736_168_400  # Monday 2025-01-06 13:00 UTC, 08:00 New York
NASDAQ = SessionCalendar.from_tradingview(time_zone_rules("America/New_York", 2024, 2026), "0930-1600")

type Tick = tuple[Symbol, float, float, float]


def make_ticks(count: int = TICKS, symbols: int = SYMBOLS, seed: int = 7, start: int = START) -> list[Tick]:
    """About 20 ticks per second over all symbols (~4 hours), random walk prices, growing totals."""
    rng = random.Random(seed)
    names = [Symbol("BINANCE", f"SYM{i}USDT") for i in range(symbols)]
    prices = [100.0 + i for i in range(symbols)]
    totals = [0.0] * symbols
    now = float(start)
    ticks: list[Tick] = []
    for _ in range(count):
        now += rng.expovariate(20.0)
        i = rng.randrange(symbols)
        prices[i] = max(0.01, prices[i] + rng.gauss(0.0, 0.05))
        totals[i] += rng.random() * 10
        ticks.append((names[i], now, prices[i], totals[i]))
    return ticks


def run_aggregator(ticks: list[Tick], calendar: SessionCalendar | None = None) -> int:
    aggregator = BarAggregator(INTERVALS, source="tradingview")
    if calendar is not None:
        for symbol in {tick[0] for tick in ticks}:
            aggregator.set_calendar(symbol, calendar)
    on_tick = aggregator.on_tick
    closed = 0
    next_timer = int(ticks[0][1]) + 1
    for symbol, t, price, total in ticks:
        if t >= next_timer:
            closed += len(aggregator.close_due(next_timer))
            next_timer = int(t) + 1
        closed += len(on_tick(symbol, t, price, total))
    return closed + len(aggregator.flush())


def run_bare_loop(ticks: list[Tick]) -> int:
    """The same 8-interval OHLCV with no rules beyond the volume delta: the floor of what Python costs."""
    seconds = [interval.seconds for interval in INTERVALS]
    bars: dict[tuple[Symbol, int], list[list[float]]] = {}
    last_total: dict[Symbol, float] = {}
    for symbol, t, price, total in ticks:
        previous = last_total.get(symbol)
        delta = 0.0 if previous is None else (total - previous if total >= previous else total)
        last_total[symbol] = total
        for s in seconds:
            bucket = t - t % s
            series = bars.get((symbol, s))
            if series is None:
                series = bars[(symbol, s)] = []
            if series and series[-1][0] == bucket:
                bar = series[-1]
                bar[4] = price
                if price > bar[2]:
                    bar[2] = price
                elif price < bar[3]:
                    bar[3] = price
                bar[5] += delta
            else:
                series.append([bucket, price, price, price, price, delta])
    return sum(len(series) for series in bars.values())


def _best_rate(fn: Callable[[list[Tick]], int], ticks: list[Tick], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn(ticks)
        best = min(best, time.perf_counter() - started)
    return len(ticks) / best


def run() -> dict[str, float]:
    ticks = make_ticks()
    bare = _best_rate(run_bare_loop, ticks)
    aggregated = _best_rate(run_aggregator, ticks)
    session = _best_rate(lambda t: run_aggregator(t, NASDAQ), make_ticks(start=SESSION_START))
    return {
        "agg_ticks_per_s": float(round(aggregated)),
        "agg_ratio_vs_bare_loop": round(aggregated / bare, 3),
        "agg_session_ticks_per_s": float(round(session)),
    }


if __name__ == "__main__":
    print(run())
