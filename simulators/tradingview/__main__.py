"""Run the simulator standalone: `python -m simulators.tradingview --port 8765`."""

import argparse
import asyncio
import contextlib
from pathlib import Path

from simulators.tradingview.faults import Faults
from simulators.tradingview.market import load_bars_csv, load_ticks_csv
from simulators.tradingview.server import TradingViewSimulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="TradingView protocol simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history-bars", type=int, default=12_000)
    parser.add_argument("--max-bars", type=int, default=5_000, help="plan cap per request")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats")
    parser.add_argument("--tick-rate", type=float, default=1.0, help="generated ticks/s per symbol")
    parser.add_argument("--bars-csv", type=Path, help="symbol,interval,time,open,high,low,close[,volume]")
    parser.add_argument("--ticks-csv", type=Path, help="symbol,time,price[,cumulative_volume]")
    parser.add_argument("--token", action="append", default=[], help="extra accepted auth token")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace, stop: asyncio.Event | None = None) -> None:
    sim = TradingViewSimulator(seed=args.seed, history_bars=args.history_bars, max_bars_per_request=args.max_bars,
                               heartbeat_interval=args.heartbeat, tokens=args.token,
                               faults=Faults(tick_rate=args.tick_rate))
    if args.bars_csv:
        load_bars_csv(sim.market, args.bars_csv)
    if args.ticks_csv:
        sim.replay = load_ticks_csv(args.ticks_csv)
    await sim.start(args.host, args.port)
    print(f"TradingView simulator on {sim.ws_url}", flush=True)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await sim.stop()


def main() -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    main()
