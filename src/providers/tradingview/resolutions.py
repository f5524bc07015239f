"""TradingView's resolution codes for the 13 intervals (its vocabulary stays in this adapter)."""

from src.domain.market_data import Interval

RESOLUTION: dict[Interval, str] = {
    Interval.M1: "1",
    Interval.M3: "3",
    Interval.M5: "5",
    Interval.M15: "15",
    Interval.M30: "30",
    Interval.M45: "45",
    Interval.H1: "60",
    Interval.H2: "120",
    Interval.H3: "180",
    Interval.H4: "240",
    Interval.D1: "1D",
    Interval.W1: "1W",
    Interval.MN1: "1M",
}
