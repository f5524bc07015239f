"""`/api/v3/klines`: which bars a request selects and the 12-element arrays Binance sends.

Selection (open times, inclusive, UTC):
- `startTime` given: the first `limit` bars opening at or after it (and at or before `endTime` when given);
- only `endTime`: the newest `limit` bars opening at or before it;
- neither: the newest `limit` bars, the forming one included.
Bars exist from the one containing the listing to the one containing now (or the delisting of a BREAK symbol).
"""

from collections.abc import Iterator

import numpy as np

from simulators.binance.intervals import KlineInterval
from simulators.binance.market import (
    QUOTE_VOLUME,
    TAKER_BASE,
    TAKER_QUOTE,
    TRADES,
    VOLUME,
    BinanceMarket,
)
from simulators.binance.symbols import BinanceSymbol, decimal_text
from simulators.common.pricepath import CLOSE, HIGH, LOW, OPEN, aggregate

Kline = tuple[int, int, np.ndarray]  # open ms, close ms, the 9 aggregated columns


def select_opens(interval: KlineInterval, first_open: int, last_open: int, start: int | None, end: int | None,
                 limit: int) -> list[int]:
    newest = last_open if end is None else min(last_open, interval.floor(end))
    if start is not None:
        return list(_forward(interval, max(first_open, interval.ceil(start)), newest, limit))
    return list(reversed(list(_backward(interval, newest, first_open, limit))))


def _forward(interval: KlineInterval, open_ms: int, newest: int, limit: int) -> Iterator[int]:
    for _ in range(limit):
        if open_ms > newest:
            return
        yield open_ms
        open_ms = interval.next(open_ms)


def _backward(interval: KlineInterval, open_ms: int, oldest: int, limit: int) -> Iterator[int]:
    for _ in range(limit):
        if open_ms < oldest:
            return
        yield open_ms
        open_ms = interval.previous(open_ms)


def klines(market: BinanceMarket, spec: BinanceSymbol, interval: KlineInterval, start: int | None,
           end: int | None, limit: int, now_ms: int) -> list[Kline]:
    exists_from = spec.listed_ms
    exists_until = market.stop_minute(spec, now_ms) * 60_000  # exclusive
    if interval.name == "1s":
        exists_until = min(exists_until, (now_ms // 1000 + 1) * 1000)
    opens = select_opens(interval, interval.floor(exists_from), interval.floor(exists_until - 1), start, end, limit)
    if not opens:
        return []
    span_first = max(opens[0], exists_from)
    span_stop = min(interval.next(opens[-1]), exists_until)
    resolution, rows = _rows(market, spec, interval, span_first, span_stop, now_ms)
    starts = np.array([(max(o, span_first) - span_first) // resolution for o in opens], dtype=np.int64)
    bars = aggregate(rows, starts)
    return [(o, interval.next(o) - 1, bars[i]) for i, o in enumerate(opens)]


def _rows(market: BinanceMarket, spec: BinanceSymbol, interval: KlineInterval, first_ms: int, stop_ms: int,
          now_ms: int) -> tuple[int, np.ndarray]:
    """The finest rows needed: seconds for 1s, quarters when every boundary falls on one, else minutes."""
    if interval.name == "1s":
        return 1000, market.second_rows(spec, first_ms // 1000, -(-stop_ms // 1000))
    quarter = 15 * 60_000
    if (interval.length_ms != 0 and interval.length_ms < quarter) or interval.offset_ms % quarter \
            or first_ms % quarter:
        return 60_000, market.minute_rows(spec, first_ms // 60_000, -(-stop_ms // 60_000))
    return quarter, market.quarter_rows(spec, first_ms // quarter, -(-stop_ms // quarter), now_ms)


def kline_array(kline: Kline) -> list[object]:
    open_ms, close_ms, row = kline
    return [open_ms, decimal_text(int(row[OPEN])), decimal_text(int(row[HIGH])), decimal_text(int(row[LOW])),
            decimal_text(int(row[CLOSE])), decimal_text(int(row[VOLUME])), close_ms,
            decimal_text(int(row[QUOTE_VOLUME])), int(row[TRADES]), decimal_text(int(row[TAKER_BASE])),
            decimal_text(int(row[TAKER_QUOTE])), "0"]
