"""The Binance or Yahoo simulator for `bench_sources`, in a process of its own with the benchmark's extra
symbols beside the defaults:

    python -m benchmarks._source_sims binance|yahoo PORT

Each simulator has its own interpreter (no GIL shared with the adapter being measured), as a real source would.
"""

import sys
from datetime import date

from simulators.binance import DEFAULT_SYMBOLS, BinanceFaults, BinanceSimulator, BinanceSymbol
from simulators.common import cli
from simulators.common.server import SimulatorServer
from simulators.yahoo import YahooSimulator
from simulators.yahoo.calendars import CRYPTO
from simulators.yahoo.instruments import DEFAULT_INSTRUMENTS, Instrument

SERIES_PER_SOURCE = 25
BINANCE_BENCH = tuple(BinanceSymbol(f"BENCH{i}USDT", f"BENCH{i}", "USDT", f"{100 + i}.00", "0.01", "0.001",
                                    1_600_000_000_000, lots_per_minute=10_000.0) for i in range(SERIES_PER_SOURCE))
YAHOO_BENCH = tuple(Instrument(f"BENCH{i}-USD", f"Bench {i} USD", f"Bench {i} USD", "CRYPTOCURRENCY", "CCC", "CCC",
                               "CCC", "Cryptocurrency", "USD", CRYPTO, 100.0 + i, date(2020, 1, 1))
                    for i in range(SERIES_PER_SOURCE))


def simulator(source: str) -> SimulatorServer:
    if source == "binance":
        return BinanceSimulator(symbols=(*DEFAULT_SYMBOLS, *BINANCE_BENCH), faults=BinanceFaults(trade_rate=0.0))
    return YahooSimulator(instruments=(*DEFAULT_INSTRUMENTS, *YAHOO_BENCH))


if __name__ == "__main__":
    cli.run(simulator(sys.argv[1]), "127.0.0.1", int(sys.argv[2]))
