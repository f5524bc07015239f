"""Request fields shared by the slices' HTTP schemas."""

from typing import Annotated

from pydantic import AfterValidator, Field

from src.domain.market_data import Interval

DEFAULT_SOURCE = "tradingview"  # the API's default when a request names no source


def _interval(value: str) -> str:
    return Interval.parse(value).code  # raises with a message naming the valid codes


IntervalCode = Annotated[str, AfterValidator(_interval), Field(examples=["1m", "1h", "1d"])]
SourceId = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="data source (provider id)", examples=[DEFAULT_SOURCE]),
]
