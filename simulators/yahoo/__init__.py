"""A protocol-faithful simulator of the Yahoo Finance endpoints yfinance uses (`python -m simulators.yahoo`)."""

from simulators.yahoo.faults import YahooFaults
from simulators.yahoo.instruments import DEFAULT_INSTRUMENTS, Instrument
from simulators.yahoo.server import YahooSimulator

__all__ = ["DEFAULT_INSTRUMENTS", "Instrument", "YahooFaults", "YahooSimulator"]
