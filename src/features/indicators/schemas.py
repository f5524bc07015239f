"""Query strings of the indicators slice (pydantic, HTTP only), each validated in one `model_validate`."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from src.features.indicators.reading import Window
from src.features.shared.series_params import SeriesParams
from src.features.shared.windows import counts_from_start, epoch_seconds

DEFAULT_LIMIT = 1_000  # without a limit or a range, the newest this many bars
MAX_LIMIT = 100_000


class WindowParams(SeriesParams):
    limit: int | None = Field(default=None, ge=1, le=MAX_LIMIT,
                              description=f"N bars of the range: from `start` when given, else the newest "
                              f"({DEFAULT_LIMIT:,} without a range)")
    start: datetime | None = Field(default=None, description="ISO 8601 or epoch seconds, inclusive")
    end: datetime | None = Field(default=None, description="ISO 8601 or epoch seconds, inclusive")
    format: Literal["json", "csv", "parquet"] = "json"
    exclude_flagged: bool = Field(default=False, description="compute without the bars that have an open or "
                                  "confirmed quality flag (warm-up included)")

    def window(self) -> Window:
        limit = self.limit
        if limit is None and self.start is None and self.end is None:
            limit = DEFAULT_LIMIT
        return Window(epoch_seconds(self.start), epoch_seconds(self.end), limit, self.exclude_flagged,
                      oldest_first=counts_from_start(self.start))


class IndicatorsParams(WindowParams):
    """Query of `GET /indicators/{exchange}/{symbol}`."""

    indicators: str | None = Field(
        default=None, max_length=2_000, examples=["rsi:14,macd:12:26:9,bb:20:2,vwap"],
        description="comma-separated specs `name[:param...]`; a bare name means its default sets; "
        "none: every default indicator",
    )
    bars: bool = Field(default=False, description="also return each bar's open, high, low, close, volume")


class FeaturesParams(WindowParams):
    """Query of `GET /features/{exchange}/{symbol}`."""

    version: str = Field(default="v1", max_length=32, description="feature set version")


class LatestFeaturesParams(SeriesParams):
    version: str = Field(default="v1", max_length=32, description="feature set version")


class TableBody(BaseModel):
    """`GET /indicators/…` and `GET /features/…` as JSON: the series, what the values are (`indicators` or
    `version`), the column names, and one row per bar (`time`, `timestamp`, then each column; null where a
    value does not exist yet)."""

    source: str
    exchange: str
    symbol: str
    interval: str
    indicators: list[str] | None = None
    version: str | None = None
    columns: list[str]
    count: int
    rows: list[dict[str, float | int | str | None]]
