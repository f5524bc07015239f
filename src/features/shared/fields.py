"""Request fields shared by the slices' HTTP schemas."""

from typing import Annotated

from pydantic import AfterValidator, Field

from src.domain.market_data import Interval


def _interval(value: str) -> str:
    return Interval.parse(value).code  # raises with a message naming the valid codes


IntervalCode = Annotated[str, AfterValidator(_interval), Field(examples=["1m", "1h", "1d"])]
