"""The query of a route about one series: its source and interval (the exchange and symbol are the path's)."""

from pydantic import BaseModel, ConfigDict, Field

from src.domain.market_data import Interval, SeriesKey, Symbol
from src.features.shared.fields import DEFAULT_SOURCE, IntervalCode

SOURCE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class SeriesParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: str = Field(default=DEFAULT_SOURCE, pattern=SOURCE_PATTERN, description="data source")
    interval: IntervalCode = Field(default="1d", description="bar interval, e.g. 1m, 1h, 1d, 1M")

    def series_key(self, exchange: str, symbol: str) -> SeriesKey:
        return SeriesKey(Symbol(exchange, symbol), Interval.parse(self.interval), self.source)
