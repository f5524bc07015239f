from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.columns import BarColumns
from src.domain.market_data.instrument import Instrument
from src.domain.market_data.interval import Interval
from src.domain.market_data.quote import QuoteTick
from src.domain.market_data.series import OHLCVAggregate, SeriesKey, gaps, gaps_between, runs
from src.domain.market_data.symbol import Symbol
from src.domain.market_data.time_zone import TimeZoneRules

__all__ = [
    "BarColumns", "Instrument", "Interval", "OHLCVAggregate", "OHLCVBar", "QuoteTick", "SeriesKey", "SessionCalendar",
    "Symbol", "TimeZoneRules", "gaps", "gaps_between", "runs",
]
