"""Kline arrays (`[open ms, "o", "h", "l", "c", "v", close ms, ...]`) to bars of their interval."""

from collections.abc import Iterable
from typing import Any

from src.common.errors import UpstreamRejected
from src.domain.errors import DomainError
from src.domain.market_data import Interval, OHLCVBar


def parse_klines(rows: Iterable[Any], interval: Interval) -> list[OHLCVBar]:
    """Bars oldest first, as Binance sent them; a malformed row means the answer cannot be trusted."""
    try:
        return [OHLCVBar(interval, int(r[0]) // 1000, float(r[1]), float(r[2]), float(r[3]), float(r[4]),
                         float(r[5])) for r in rows]
    except (DomainError, TypeError, ValueError, IndexError) as error:
        raise UpstreamRejected(f"Binance sent a malformed {interval.code} kline: {error}") from error
