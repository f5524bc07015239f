"""A tradable instrument, identified by exchange and code (`EXCHANGE:CODE`).

Codes are written as their source writes them, upper case: TradingView's (`BTCUSDT`, `ES1!`, `BRK.B`), Binance's
(`BTCUSDT`) and Yahoo Finance's tickers, which add two marks: a leading `^` for indices (`^GSPC`) and a one-letter
`=` suffix for currencies and futures (`EURUSD=X`, `GC=F`). Each mark is accepted only in that place.
"""

import re
from dataclasses import dataclass

from src.domain.errors import InvalidSymbol

EXCHANGE_PATTERN = r"^[A-Z0-9_]{1,32}$"
# Codes carry futures suffixes (ES1!), pairs (EUR/USD is written EURUSD), dots (BRK.B, VOD.L) and dashes
# (BTC-USD); Yahoo's index caret and `=X`/`=F` suffix only at the start and the end.
CODE_PATTERN = r"^\^?[A-Z0-9_.!\-&]{1,40}(=[A-Z])?$"
_EXCHANGE = re.compile(EXCHANGE_PATTERN)
_CODE = re.compile(CODE_PATTERN)


@dataclass(frozen=True, slots=True)
class Symbol:
    exchange: str
    code: str

    def __post_init__(self) -> None:
        exchange = self.exchange.strip().upper() if isinstance(self.exchange, str) else ""
        code = self.code.strip().upper() if isinstance(self.code, str) else ""
        if not _EXCHANGE.match(exchange):
            raise InvalidSymbol(f"invalid exchange {self.exchange!r}", field="exchange")
        if not _CODE.match(code):
            raise InvalidSymbol(f"invalid symbol code {self.code!r}", field="symbol")
        object.__setattr__(self, "exchange", exchange)
        object.__setattr__(self, "code", code)

    @classmethod
    def parse(cls, ticker: str) -> "Symbol":
        """Parse `EXCHANGE:CODE`."""
        exchange, sep, code = ticker.partition(":")
        if not sep:
            raise InvalidSymbol(f"expected EXCHANGE:CODE, got {ticker!r}", field="symbol")
        return cls(exchange, code)

    @property
    def ticker(self) -> str:
        return f"{self.exchange}:{self.code}"

    def __str__(self) -> str:
        return self.ticker
