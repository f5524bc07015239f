"""A real-time quote for one symbol, as the upstream reports it."""

import math
from dataclasses import dataclass

from src.domain.errors import InvalidQuote
from src.domain.market_data.symbol import Symbol


@dataclass(frozen=True, slots=True)
class QuoteTick:
    symbol: Symbol
    time: float  # epoch seconds UTC of the last trade
    price: float
    # The upstream's session-cumulative volume (TradingView `volume`), not this tick's size.
    cumulative_volume: float | None = None
    bid: float | None = None
    ask: float | None = None
    change: float | None = None
    change_percent: float | None = None
    # Seconds the source declares its trade times run behind real time (TradingView `delayed_streaming_900`).
    delay: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.price):
            raise InvalidQuote(f"{self.symbol}: price must be a finite number", field="price")
        if not math.isfinite(self.time) or self.time < 0:
            raise InvalidQuote(f"{self.symbol}: time must be a finite epoch", field="time")
        volume = self.cumulative_volume
        if volume is not None and (not math.isfinite(volume) or volume < 0):
            raise InvalidQuote(f"{self.symbol}: volume must be finite and >= 0", field="volume")
        if not math.isfinite(self.delay) or self.delay < 0:
            raise InvalidQuote(f"{self.symbol}: delay must be finite and >= 0", field="delay")
