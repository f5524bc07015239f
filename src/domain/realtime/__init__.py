"""Real-time bar building: pure, synchronous, time passed in."""

from src.domain.realtime.aggregator import BarAggregator, BarUpdate

__all__ = ["BarAggregator", "BarUpdate"]
