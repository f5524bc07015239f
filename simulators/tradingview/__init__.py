"""A protocol-faithful TradingView simulator for tests and local runs (`python -m ...simulator`)."""

from simulators.tradingview.faults import Faults
from simulators.tradingview.market import DEFAULT_SYMBOLS, SymbolSpec
from simulators.tradingview.server import TradingViewSimulator

__all__ = ["DEFAULT_SYMBOLS", "Faults", "SymbolSpec", "TradingViewSimulator"]
