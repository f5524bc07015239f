"""Alert evaluation per tick through `AlertBook`, with 10,000 active rules over 1,000 symbols.

Each symbol has 10 rules: 7 on price levels 1-5 % away from its price (above, below, crosses up/down/
either), 1 percent change (+3 % within 15 minutes, evaluated on every tick of its symbol) and 2 on
closed bars (RSI above 70 on 1m, price crossing SMA 50 on 1h; indexed but untouched by ticks).

`alerts_eval_10k_rules_per_tick_us`: median time of one `on_tick` over 20,000 ticks of random walks
(0.01 % steps, ~20 ticks a second over all symbols) that almost never reach a level: the index cost plus
the symbol's percent-change rule. Target <= 50 us.
`alerts_eval_crossing_tick_us`: median time of one `on_tick` that crosses three levels of one symbol,
each firing a repeating rule (three new rules, three events), in the same book.
`alerts_evaluator_10k_rules_per_tick_us`: the same quiet ticks through the service's `AlertEvaluator` as the
live stream calls it (`on_quote`: the book, then the changed rules marked for the writer), same book.
"""

import random
import statistics
import time
from collections.abc import Sequence

from src.common.event_bus import EventBus
from src.common.live import LiveQuotes
from src.domain.alerts import AlertBook, AlertRule, parse_condition
from src.domain.market_data import Instrument, QuoteTick
from src.domain.market_data.interval import Interval
from src.domain.market_data.symbol import Symbol
from src.features.alerts.evaluator import AlertEvaluator
from src.infrastructure.coordination.leases import InProcessLeases
from tests.fakes import FakeAlertRuleRepository, FakeAlertTriggerRepository, FakeClock, FakeOHLCVRepository

SOURCE = "tradingview"
SYMBOLS = 1_000
TICKS = 20_000
CROSSING_TICKS = 2_000
START = 1_735_689_600.0  # 2025-01-01 00:00 UTC

_LEVEL_FORMS = [
    ("price_above", 1.02, None), ("price_above", 1.05, None), ("price_below", 0.98, None),
    ("price_below", 0.95, None), ("price_crosses", 1.01, "up"), ("price_crosses", 0.99, "down"),
    ("price_crosses", 1.03, "either"),
]


def _rules_of(symbol: Symbol, price: float, index: int) -> list[AlertRule]:
    def make(suffix: str, condition: dict[str, object], interval: Interval | None = None) -> AlertRule:
        return AlertRule(id=f"{index}-{suffix}", owner=f"user{index % 50}", source=SOURCE, symbol=symbol,
                         condition=parse_condition(condition), interval=interval, cooldown_s=60)

    rules = []
    for n, (kind, factor, direction) in enumerate(_LEVEL_FORMS):
        form: dict[str, object] = {"kind": kind, "level": round(price * factor, 4)}
        if direction:
            form["direction"] = direction
        rules.append(make(f"level{n}", form))
    rules.append(make("pct", {"kind": "percent_change", "percent": 3, "window_s": 900}))
    rules.append(make("rsi", {"kind": "rsi_above", "level": 70}, Interval.M1))
    rules.append(make("sma", {"kind": "price_crosses_ma", "average": "sma", "period": 50}, Interval.H1))
    return rules


def build_book(seed: int = 11) -> tuple[AlertBook, list[Symbol], list[float]]:
    rng = random.Random(seed)
    symbols = [Symbol("BINANCE", f"SYM{i}USDT") for i in range(SYMBOLS)]
    prices = [rng.uniform(10, 1000) for _ in symbols]
    book = AlertBook(rule for i, (s, p) in enumerate(zip(symbols, prices, strict=True)) for rule in _rules_of(s, p, i))
    for symbol, price in zip(symbols, prices, strict=True):  # the first tick puts every level rule in sync
        book.on_tick(SOURCE, symbol, price, START)
    return book, symbols, prices


def _median_us(calls: list[tuple[Symbol, float, float]], book: AlertBook) -> tuple[float, int]:
    on_tick = book.on_tick
    timer = time.perf_counter_ns
    samples = []
    changed = 0
    for symbol, price, at in calls:
        started = timer()
        changes = on_tick(SOURCE, symbol, price, at)
        samples.append(timer() - started)
        changed += len(changes)
    return statistics.median(samples) / 1000, changed


def quiet_ticks(symbols: list[Symbol], prices: list[float], seed: int = 5) -> list[tuple[Symbol, float, float]]:
    rng = random.Random(seed)
    walk = list(prices)
    now = START + 1
    ticks = []
    for _ in range(TICKS):
        now += rng.expovariate(20.0)
        i = rng.randrange(len(symbols))
        walk[i] *= 1 + rng.gauss(0.0, 0.0001)
        ticks.append((symbols[i], walk[i], now))
    return ticks


def crossing_ticks(book: AlertBook, start: float) -> list[tuple[Symbol, float, float]]:
    symbol = Symbol("BINANCE", "CROSSUSDT")
    for n, level in enumerate((100.1, 100.2, 100.3)):
        book.add(AlertRule(id=f"cross{n}", owner="bench", source=SOURCE, symbol=symbol,
                           condition=parse_condition({"kind": "price_crosses", "level": level})))
    book.on_tick(SOURCE, symbol, 100.0, start)
    return [(symbol, 100.4 if i % 2 == 0 else 100.0, start + 1 + i) for i in range(CROSSING_TICKS)]


def _evaluator_median_us(ticks: Sequence[tuple[Symbol, float, float]]) -> float:
    book, _, _ = build_book()
    clock = FakeClock(START)
    evaluator = AlertEvaluator(FakeAlertRuleRepository(), FakeAlertTriggerRepository(), InProcessLeases(clock.now),
                               LiveQuotes(), FakeOHLCVRepository(), clock, EventBus())
    evaluator.book = book
    calls = [(Instrument(SOURCE, symbol), QuoteTick(symbol, at, price)) for symbol, price, at in ticks]
    timer = time.perf_counter_ns
    samples = []
    for instrument, tick in calls:
        started = timer()
        if evaluator.wants(instrument):
            evaluator.on_quote(instrument, tick, ())
        samples.append(timer() - started)
    return statistics.median(samples) / 1000


def run() -> dict[str, float]:
    book, symbols, prices = build_book()
    ticks = quiet_ticks(symbols, prices)
    quiet_us, _ = _median_us(ticks, book)
    evaluator_us = _evaluator_median_us(ticks)
    crossing_us, changed = _median_us(crossing_ticks(book, ticks[-1][2] + 1), book)
    if changed < 3 * CROSSING_TICKS:
        raise RuntimeError(f"crossing ticks changed {changed} rules, expected at least {3 * CROSSING_TICKS}")
    return {
        "alerts_eval_10k_rules_per_tick_us": round(quiet_us, 2),
        "alerts_eval_crossing_tick_us": round(crossing_us, 2),
        "alerts_evaluator_10k_rules_per_tick_us": round(evaluator_us, 2),
    }


if __name__ == "__main__":
    print(run())
