"""A protocol-faithful TradingView simulator for tests and local runs (`python -m ...simulator`)."""

from src.infrastructure.tradingview.simulator.faults import Faults
from src.infrastructure.tradingview.simulator.market import DEFAULT_SYMBOLS, SymbolSpec
from src.infrastructure.tradingview.simulator.server import TradingViewSimulator

__all__ = ["DEFAULT_SYMBOLS", "Faults", "SymbolSpec", "TradingViewSimulator"]
