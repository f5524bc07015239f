"""Trades as the Binance feed keeps them: one pair's state (its last delivered trade and running total), and
trades from the stream, from `aggTrades` and from the 24-hour ticker's snapshot."""

from dataclasses import dataclass, field
from typing import Any

from src.domain.errors import DomainError
from src.domain.market_data import QuoteTick, Symbol


@dataclass(frozen=True, slots=True)
class Trade:
    id: int  # for an aggregate trade, its last trade id
    price: float
    quantity: float
    time_ms: int


@dataclass(eq=False)
class PairState:
    symbol: Symbol
    last_id: int = -1  # the last trade delivered (or the snapshot's)
    last_time_ms: int = 0
    total: float = 0.0  # traded since the subscription started
    waiting: list[Trade] | None = field(default_factory=list)  # trades held back until the snapshot/backfill

    @property
    def stream(self) -> str:
        return self.symbol.code.lower() + "@trade"


def snapshot_tick(symbol: Symbol, ticker: dict[str, Any]) -> QuoteTick | None:
    """The last trade as the 24-hour ticker has it; the running total starts at 0 here."""
    try:
        return QuoteTick(symbol, int(ticker["closeTime"]) / 1000, float(ticker["lastPrice"]), cumulative_volume=0.0,
                         bid=float(ticker["bidPrice"]), ask=float(ticker["askPrice"]),
                         change=float(ticker["priceChange"]), change_percent=float(ticker["priceChangePercent"]))
    except (DomainError, KeyError, TypeError, ValueError):
        return None


def stream_trade(data: dict[str, Any]) -> Trade | None:
    try:
        return Trade(int(data["t"]), float(data["p"]), float(data["q"]), int(data["T"]))
    except (KeyError, TypeError, ValueError):
        return None


def agg_trade(row: Any) -> Trade | None:
    try:
        return Trade(int(row["l"]), float(row["p"]), float(row["q"]), int(row["T"]))
    except (KeyError, TypeError, ValueError):
        return None
