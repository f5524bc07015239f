"""Where a symbol's data comes from: a source (provider id) and the symbol as that source names it."""

import re
from dataclasses import dataclass

from src.domain.errors import InvalidSource
from src.domain.market_data.symbol import Symbol

_SOURCE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def validate_source(source: str) -> None:
    if not isinstance(source, str) or not _SOURCE.match(source):
        raise InvalidSource(f"invalid source {source!r}: a provider id such as 'tradingview'", field="source")


@dataclass(frozen=True, slots=True)
class Instrument:
    source: str
    symbol: Symbol

    def __post_init__(self) -> None:
        validate_source(self.source)

    def __str__(self) -> str:
        return f"{self.source}:{self.symbol.ticker}"
