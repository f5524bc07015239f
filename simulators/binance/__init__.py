"""A protocol-faithful simulator of Binance's public spot market data (`python -m simulators.binance`)."""

from simulators.binance.faults import BinanceFaults
from simulators.binance.server import BinanceSimulator
from simulators.binance.symbols import DEFAULT_SYMBOLS, BinanceSymbol

__all__ = ["DEFAULT_SYMBOLS", "BinanceFaults", "BinanceSimulator", "BinanceSymbol"]
