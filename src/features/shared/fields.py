"""Request fields shared by the slices' HTTP schemas: each with the pattern or enumeration the OpenAPI
document states, the same rule the domain applies (`Symbol`, `Interval`)."""

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, Strict

from src.domain.market_data import Interval
from src.domain.market_data.symbol import CODE_PATTERN
from src.domain.market_data.symbol import EXCHANGE_PATTERN as DOMAIN_EXCHANGE_PATTERN

DEFAULT_SOURCE = "tradingview"  # the API's default when a request names no source


def _any_case(pattern: str) -> str:
    return pattern.replace("A-Z", "A-Za-z")


# The domain's rules (`src.domain.market_data.symbol`), lowercase accepted (it is uppercased).
EXCHANGE_PATTERN = _any_case(DOMAIN_EXCHANGE_PATTERN)
SYMBOL_PATTERN = _any_case(CODE_PATTERN)
TICKER_PATTERN = EXCHANGE_PATTERN.removesuffix("$") + ":" + SYMBOL_PATTERN.removeprefix("^")
INTERVAL_CODES = [interval.code for interval in Interval]


def _interval(value: str) -> str:
    return Interval.parse(value).code  # raises with a message naming the valid codes


IntervalCode = Annotated[str, AfterValidator(_interval),
                         Field(examples=["1m", "1h", "1d"], json_schema_extra={"enum": INTERVAL_CODES})]
SourceId = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="data source (provider id)", examples=[DEFAULT_SOURCE]),
]
ExchangeCode = Annotated[str, Field(pattern=EXCHANGE_PATTERN, examples=["BINANCE"])]
SymbolCode = Annotated[str, Field(pattern=SYMBOL_PATTERN, examples=["BTCUSDT"])]
ExchangePath = Annotated[str, Path(pattern=EXCHANGE_PATTERN, examples=["BINANCE"])]
SymbolPath = Annotated[str, Path(pattern=SYMBOL_PATTERN, examples=["BTCUSDT"])]
IntervalPath = Annotated[str, Path(examples=["1m"], json_schema_extra={"enum": INTERVAL_CODES})]
# A count in a JSON body: `true` is not 1, `"5"` is not 5.
Count = Annotated[int, Strict()]
