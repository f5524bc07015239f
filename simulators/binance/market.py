"""The simulated exchange's bars and trades, in integer 1e-8 units.

Rules:
- Before the simulator started (minutes before `live_since`), every 1m bar comes from the symbol's seeded
  `MinutePath`; from `live_since` on, bars are built only from the trades the simulator generated or a test
  pushed, so a kline equals the aggregate of its trades (volume = sum of trade quantities). A minute without
  trades is a flat bar at the previous close with zero volume, as Binance sends it.
- Every kline at every interval is the exact aggregate of the 1m bars it spans (via cached 15m rows for the
  long intervals); a 1s kline of the synthetic past is one of 60 seconds that aggregate exactly to their minute.
- A BREAK symbol has no bars after `stopped_ms`; a HALT symbol has flat zero-volume bars after it; neither trades.
"""

import random
import zlib
from dataclasses import dataclass, field

import numpy as np

from simulators.binance.symbols import UNITS, BinanceSymbol
from simulators.common.pricepath import (
    CLOSE,
    HIGH,
    LOW,
    MINUTES_PER_DAY,
    OPEN,
    MinutePath,
    aggregate,
    rows_between,
    split_total,
)

VOLUME, QUOTE_VOLUME, TRADES, TAKER_BASE, TAKER_QUOTE = range(4, 9)
WIDTH = 9
QUARTERS_PER_DAY = 96


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    id: int
    price: int
    quantity: int
    time_ms: int
    buyer_maker: bool

    @property
    def quote(self) -> int:
        return self.price * self.quantity // UNITS


@dataclass
class Tape:
    """One symbol's live trades, bucketed per second and per minute (9 row columns + first and last id)."""

    last_price: int
    next_id: int
    last_time_ms: int = 0
    seconds: dict[int, list[int]] = field(default_factory=dict)
    minutes: dict[int, list[int]] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)  # every live trade, oldest first (for aggTrades)

    def record(self, trade: Trade) -> None:
        for buckets, key in ((self.seconds, trade.time_ms // 1000), (self.minutes, trade.time_ms // 60_000)):
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = [trade.price] * 4 + [0] * 5 + [trade.id, trade.id]
                bucket = buckets[key]
            _add_trade(bucket, trade)
        self.trades.append(trade)
        self.last_price, self.last_time_ms, self.next_id = trade.price, trade.time_ms, trade.id + 1


def _add_trade(bucket: list[int], trade: Trade) -> None:
    bucket[HIGH], bucket[LOW], bucket[CLOSE] = max(bucket[HIGH], trade.price), min(bucket[LOW], trade.price), \
        trade.price
    bucket[VOLUME] += trade.quantity
    bucket[QUOTE_VOLUME] += trade.quote
    bucket[TRADES] += 1
    if not trade.buyer_maker:  # the taker bought
        bucket[TAKER_BASE] += trade.quantity
        bucket[TAKER_QUOTE] += trade.quote
    bucket[10] = trade.id


class BinanceMarket:
    """Bars of every symbol at 1s, 1m and 15m resolution, and the live trade tapes."""

    def __init__(self, symbols: dict[str, BinanceSymbol], *, seed: int, live_since_ms: int) -> None:
        self.symbols = symbols
        self.seed = seed
        self.live_minute = live_since_ms // 60_000
        self._paths = {name: self._path(spec) for name, spec in symbols.items()}
        self._unit_days: dict[tuple[str, int], np.ndarray] = {}
        self._quarter_days: dict[tuple[str, int], np.ndarray] = {}
        self.tapes = {name: Tape(self._synthetic_close(spec), next_id=_first_trade_id(spec, self.live_minute))
                      for name, spec in symbols.items()}

    def _path(self, spec: BinanceSymbol) -> MinutePath:
        return MinutePath(self.seed, spec.symbol, start_ticks=round(float(spec.price) * UNITS / spec.tick_units),
                          sigma=spec.volatility, lots_per_minute=spec.lots_per_minute,
                          origin_day=spec.listed_ms // 86_400_000)

    def _synthetic_close(self, spec: BinanceSymbol) -> int:
        minute = self.live_minute - 1
        return int(self._path(spec).minutes(minute, minute + 1)[0, CLOSE]) * spec.tick_units

    # --- which minutes exist -------------------------------------------------------------------------

    def first_minute(self, spec: BinanceSymbol) -> int:
        return spec.listed_ms // 60_000

    def stop_minute(self, spec: BinanceSymbol, now_ms: int) -> int:
        """One past the newest minute that has a bar."""
        newest = now_ms // 60_000
        if spec.status == "BREAK" and spec.stopped_ms is not None:
            newest = min(newest, spec.stopped_ms // 60_000 - 1)
        return newest + 1

    def trades(self, spec: BinanceSymbol) -> bool:
        return spec.status == "TRADING"

    # --- rows ----------------------------------------------------------------------------------------

    def minute_rows(self, spec: BinanceSymbol, first: int, stop: int) -> np.ndarray:
        """1m rows `first` .. `stop - 1`, synthetic before `live_minute` (or the halt), live after."""
        halt = spec.stopped_ms // 60_000 if spec.status == "HALT" and spec.stopped_ms else None
        synthetic_stop = min(stop, self.live_minute if halt is None else min(self.live_minute, halt))
        parts = [rows_between(lambda d: self._unit_day(spec, d), MINUTES_PER_DAY, first, synthetic_stop, WIDTH)]
        rest_first = max(first, synthetic_stop)
        if rest_first < stop:
            parts.append(self._after_synthetic(spec, rest_first, stop, halt))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _after_synthetic(self, spec: BinanceSymbol, first: int, stop: int, halt: int | None) -> np.ndarray:
        if halt is not None and first >= halt:
            close = self.minute_rows(spec, halt - 1, halt)[0, CLOSE]
            return _flat_rows(int(close), stop - first)
        return self._live_rows(spec, first, stop)

    def _live_rows(self, spec: BinanceSymbol, first: int, stop: int) -> np.ndarray:
        tape = self.tapes[spec.symbol]
        close = self._close_before(spec, first)
        rows = np.empty((stop - first, WIDTH), dtype=np.int64)
        for index, minute in enumerate(range(first, stop)):
            bucket = tape.minutes.get(minute)
            rows[index] = bucket[:WIDTH] if bucket is not None else [close] * 4 + [0] * 5
            close = int(rows[index, CLOSE])
        return rows

    def _close_before(self, spec: BinanceSymbol, minute: int) -> int:
        tape = self.tapes[spec.symbol]
        earlier = [m for m in tape.minutes if m < minute]
        if earlier:
            return tape.minutes[max(earlier)][CLOSE]
        return int(self.minute_rows(spec, self.live_minute - 1, self.live_minute)[0, CLOSE])

    def _unit_day(self, spec: BinanceSymbol, day: int) -> np.ndarray:
        key = (spec.symbol, day)
        rows = self._unit_days.get(key)
        if rows is None:
            if len(self._unit_days) > 256:
                self._unit_days.clear()
            rows = self._unit_days[key] = _to_units(spec, self._paths[spec.symbol].day(day))
        return rows

    def quarter_rows(self, spec: BinanceSymbol, first: int, stop: int, now_ms: int) -> np.ndarray:
        """15m rows `first` .. `stop - 1` (quarters since the epoch), each the aggregate of its existing minutes."""
        return rows_between(lambda d: self._quarter_day(spec, d, now_ms), QUARTERS_PER_DAY, first, stop, WIDTH)

    def _quarter_day(self, spec: BinanceSymbol, day: int, now_ms: int) -> np.ndarray:
        key = (spec.symbol, day)
        cached = self._quarter_days.get(key)
        if cached is not None:
            return cached
        day_first = day * MINUTES_PER_DAY
        first = max(day_first, self.first_minute(spec))
        stop = min(day_first + MINUTES_PER_DAY, self.stop_minute(spec, now_ms))
        if first >= stop:
            return np.zeros((QUARTERS_PER_DAY, WIDTH), dtype=np.int64)
        minutes = self.minute_rows(spec, first, stop)
        quarters = np.arange((first - day_first) // 15, (stop - 1 - day_first) // 15 + 1)
        starts = np.maximum(quarters * 15 + day_first, first) - first
        rows = np.zeros((QUARTERS_PER_DAY, WIDTH), dtype=np.int64)
        rows[quarters] = aggregate(minutes, starts)
        if day_first + MINUTES_PER_DAY <= self.live_minute:
            self._quarter_days[key] = rows
        return rows

    def second_rows(self, spec: BinanceSymbol, first: int, stop: int) -> np.ndarray:
        """1s rows `first` .. `stop - 1` (seconds since the epoch)."""
        minutes = range(first // 60, (stop - 1) // 60 + 1)
        parts = [self._seconds_of_minute(spec, minute) for minute in minutes]
        rows = np.concatenate(parts)
        return rows[first - minutes[0] * 60: stop - minutes[0] * 60]

    def _seconds_of_minute(self, spec: BinanceSymbol, minute: int) -> np.ndarray:
        row = self.minute_rows(spec, minute, minute + 1)[0]
        if minute < self.live_minute or not row[TRADES]:
            rng = np.random.default_rng([self.seed, zlib.crc32(spec.symbol.encode()), minute])
            return split_minute(row, spec, rng)
        tape = self.tapes[spec.symbol]
        rows = np.empty((60, WIDTH), dtype=np.int64)
        close = self._close_before(spec, minute)
        for index in range(60):
            bucket = tape.seconds.get(minute * 60 + index)
            rows[index] = bucket[:WIDTH] if bucket is not None else [close] * 4 + [0] * 5
            close = int(rows[index, CLOSE])
        return rows

    def trade_ids(self, spec: BinanceSymbol, first_ms: int, stop_ms: int) -> tuple[int, int]:
        """First and last live trade id in [first_ms, stop_ms), -1 each when there is none."""
        tape = self.tapes[spec.symbol]
        step, buckets = (1000, tape.seconds) if stop_ms - first_ms < 60_000 else (60_000, tape.minutes)
        found = [buckets[k] for k in range(first_ms // step, (stop_ms - 1) // step + 1) if k in buckets]
        return (found[0][9], found[-1][10]) if found else (-1, -1)

    # --- live trades ---------------------------------------------------------------------------------

    def record_trade(self, symbol: str, price: int, quantity: int, time_ms: int, buyer_maker: bool) -> Trade:
        tape = self.tapes[symbol]
        if time_ms < max(self.live_minute * 60_000, tape.last_time_ms):
            raise ValueError(f"trade at {time_ms} is older than the tape ({tape.last_time_ms})")
        trade = Trade(symbol, tape.next_id, price, quantity, time_ms, buyer_maker)
        tape.record(trade)
        return trade

    def next_trade(self, spec: BinanceSymbol, rng: random.Random, time_ms: int, per_minute: float) -> Trade:
        """A plausible next trade: a few ticks from the last price, pulled towards the synthetic path."""
        tape = self.tapes[spec.symbol]
        minute = time_ms // 60_000
        target = int(self._paths[spec.symbol].minutes(minute, minute + 1)[0, CLOSE]) * spec.tick_units
        ticks = round(rng.gauss(0, 2)) + round(0.1 * (target - tape.last_price) / spec.tick_units)
        price = max(spec.tick_units, tape.last_price + ticks * spec.tick_units)
        lots = max(1, round(rng.expovariate(1.0) * spec.lots_per_minute / max(per_minute, 1.0)))
        return self.record_trade(spec.symbol, price, lots * spec.step_units, time_ms, rng.random() < 0.5)


def _first_trade_id(spec: BinanceSymbol, live_minute: int) -> int:
    return 1 + (live_minute - spec.listed_ms // 60_000) * 20


def _flat_rows(close: int, count: int) -> np.ndarray:
    rows = np.zeros((count, WIDTH), dtype=np.int64)
    rows[:, OPEN:CLOSE + 1] = close
    return rows


def _to_units(spec: BinanceSymbol, path_rows: np.ndarray) -> np.ndarray:
    """Path rows (ticks, lots, trades) to the 9 kline columns in 1e-8 units."""
    rows = np.empty((len(path_rows), WIDTH), dtype=np.int64)
    rows[:, OPEN:CLOSE + 1] = path_rows[:, OPEN:CLOSE + 1] * spec.tick_units
    lots = path_rows[:, 4]
    rows[:, VOLUME] = lots * spec.step_units
    typical = rows[:, OPEN:CLOSE + 1].sum(axis=1) / 4
    rows[:, QUOTE_VOLUME] = np.rint(typical * (rows[:, VOLUME] / UNITS))
    rows[:, TRADES] = path_rows[:, 5]
    taker_lots = lots * (40 + path_rows[:, CLOSE] % 21) // 100
    rows[:, TAKER_BASE] = taker_lots * spec.step_units
    rows[:, TAKER_QUOTE] = np.rint(rows[:, QUOTE_VOLUME] * (taker_lots / np.maximum(lots, 1)))
    rows.setflags(write=False)
    return rows


def split_minute(row: np.ndarray, spec: BinanceSymbol, rng: np.random.Generator) -> np.ndarray:
    """60 one-second rows whose aggregate is exactly `row`."""
    weights = rng.random(60) + 0.05
    seconds = np.empty((60, WIDTH), dtype=np.int64)
    step = spec.step_units
    seconds[:, VOLUME] = split_total(int(row[VOLUME]) // step, weights) * step
    taker = split_total(int(row[TAKER_BASE]) // step, weights) * step
    seconds[:, TAKER_BASE] = _clamp_within(taker, seconds[:, VOLUME])
    for column in (QUOTE_VOLUME, TRADES, TAKER_QUOTE):
        seconds[:, column] = split_total(int(row[column]), weights)
    _second_prices(seconds, row, spec.tick_units, rng)
    return seconds


def _clamp_within(parts: np.ndarray, limits: np.ndarray) -> np.ndarray:
    """Move any excess of parts[i] over limits[i] to rows with room, keeping the total (total <= sum of limits)."""
    total = int(parts.sum())
    parts = np.minimum(parts, limits)
    missing = total - int(parts.sum())
    for index in np.flatnonzero(limits > parts):
        if missing <= 0:
            break
        moved = min(missing, int(limits[index] - parts[index]))
        parts[index] += moved
        missing -= moved
    return parts


def _second_prices(seconds: np.ndarray, row: np.ndarray, tick: int, rng: np.random.Generator) -> None:
    open_, high, low, close = (int(row[c]) for c in (OPEN, HIGH, LOW, CLOSE))
    drift = np.linspace(open_, close, 61)[1:]
    noise = rng.normal(0, max(1.0, (high - low) / 6), 60)
    closes = np.clip(np.rint((drift + noise) / tick) * tick, low, high).astype(np.int64)
    closes[-1] = close
    seconds[:, OPEN] = np.concatenate(([open_], closes[:-1]))
    seconds[:, CLOSE] = closes
    seconds[:, HIGH] = np.maximum(seconds[:, OPEN], closes)
    seconds[:, LOW] = np.minimum(seconds[:, OPEN], closes)
    at_high, at_low = rng.choice(60, 2, replace=False)
    seconds[at_high, HIGH], seconds[at_low, LOW] = high, low
