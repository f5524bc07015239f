"""What features are computed from: the bar columns, the UTC offset of each bar, and shared intermediates
(indicator outputs, log returns, session starts, local calendar fields) computed once per batch."""

from functools import cached_property

import numpy as np
import numpy.typing as npt
import talib

from src.domain.errors import InvalidSeries
from src.domain.features.rolling import shift
from src.domain.indicators.columns import Columns, FloatArray, IntArray, session_start_index
from src.domain.indicators.compute import compute
from src.domain.indicators.spec import IndicatorSpec

SECONDS_PER_DAY = 86_400
_THURSDAY = 3  # 1970-01-01, day 0 of the epoch, was a Thursday (Monday = 0)


class FeatureInputs:
    def __init__(self, columns: Columns, utc_offset: IntArray, indicators: tuple[IndicatorSpec, ...]) -> None:
        utc_offset = np.ascontiguousarray(utc_offset, dtype=np.int64)
        if utc_offset.shape != (len(columns),):
            raise InvalidSeries("utc_offset must give one offset per bar", field="utc_offset")
        self.columns = columns
        self.utc_offset = utc_offset
        self._indicator_specs = indicators
        self.close = columns.close

    def indicator(self, column: str) -> FloatArray:
        return self._indicators[column]

    @cached_property
    def _indicators(self) -> dict[str, FloatArray]:
        return compute(self._indicator_specs, self.columns)

    @cached_property
    def previous_close(self) -> FloatArray:
        return shift(self.close, 1)

    @cached_property
    def log_close(self) -> FloatArray:
        return np.log(np.where(self.close > 0, self.close, np.nan))

    @cached_property
    def log_return(self) -> FloatArray:
        return self.log_close - shift(self.log_close, 1)

    @cached_property
    def true_range(self) -> FloatArray:
        return talib.TRANGE(self.columns.high, self.columns.low, self.close)

    @cached_property
    def bar_index(self) -> IntArray:
        return np.arange(len(self.close), dtype=np.int64)

    @cached_property
    def session_first(self) -> IntArray:
        """Per bar, the index of its session's first bar."""
        return session_start_index(self.columns.session_id)

    @cached_property
    def local_time(self) -> IntArray:
        return self.columns.time + self.utc_offset

    @cached_property
    def minute_of_day(self) -> IntArray:
        return (self.local_time // 60) % 1440

    @cached_property
    def hour_of_day(self) -> IntArray:
        return self.minute_of_day // 60

    @cached_property
    def day_of_week(self) -> IntArray:
        return (self.local_time // SECONDS_PER_DAY + _THURSDAY) % 7

    @cached_property
    def _local_day(self) -> npt.NDArray[np.datetime64]:
        return (self.local_time // SECONDS_PER_DAY).astype("datetime64[D]")

    @cached_property
    def month(self) -> IntArray:
        return self._local_day.astype("datetime64[M]").astype(np.int64) % 12 + 1

    @cached_property
    def day_of_month(self) -> IntArray:
        days_into_month: IntArray = (self._local_day - self._local_day.astype("datetime64[M]")).astype(np.int64)
        return days_into_month + 1
