"""Run the simulator standalone: `python -m simulators.tradingview --port 8765 [options]` (`make simulator
ARGS="..."`). Every fault switch of `Faults` is an option (`--no-heartbeats`, `--unknown-symbols X:Y`,
`--close-after-unanswered 0` never drops silent clients, ...), and so is the market's shape: history
length, plan cap, depth window, heartbeat period, holes, delayed symbols, exchange sessions (`--no-sessions`
makes every symbol 24x7 UTC on the grid; `--holiday` and `--half-day` add closed days and 13:00 closes to
the exchanges' own)."""

import argparse
import asyncio
import contextlib
import dataclasses
from datetime import date
from pathlib import Path

from simulators.common import cli
from simulators.tradingview.faults import Faults
from simulators.tradingview.market import DEFAULT_SYMBOLS, SymbolSpec, load_bars_csv, load_ticks_csv
from simulators.tradingview.server import TradingViewSimulator
from simulators.tradingview.sessions import with_days


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="TradingView protocol simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history-bars", type=int, default=12_000)
    parser.add_argument("--max-bars", type=int, default=5_000, help="plan cap per request")
    parser.add_argument("--max-depth-bars", type=int, default=None, help="the account's depth window")
    parser.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats")
    parser.add_argument("--hole-rate", type=float, default=0.0, help="share of intraday bars missing")
    parser.add_argument("--resolve-latency", type=float, default=0.02, help="seconds resolving a symbol takes")
    parser.add_argument("--delayed", action="append", default=[], metavar="TICKER=SECONDS",
                        help="serve a symbol delayed (trade times behind the clock), e.g. BINANCE:BTCUSDT=900")
    parser.add_argument("--no-sessions", action="store_true",
                        help="every symbol trades 24x7 in UTC, its bars on the UTC grid (no exchange hours)")
    parser.add_argument("--holiday", action="append", default=[], type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="an extra holiday of every exchange with sessions (repeatable)")
    parser.add_argument("--half-day", action="append", default=[], type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="an extra half day (13:00 local close) of every exchange with sessions (repeatable)")
    parser.add_argument("--bars-csv", type=Path, help="symbol,interval,time,open,high,low,close[,volume]")
    parser.add_argument("--ticks-csv", type=Path, help="symbol,time,price[,cumulative_volume]")
    parser.add_argument("--token", action="append", default=[], help="extra accepted auth token")
    cli.add_switches(parser, Faults)
    parser.set_defaults(tick_rate=1.0)  # standalone, the market moves by itself
    return parser.parse_args(argv)


def symbols(delayed: list[str], *, sessions: bool = True, holidays: frozenset[date] = frozenset(),
            half_days: frozenset[date] = frozenset()) -> tuple[SymbolSpec, ...]:
    delays = {}
    for item in delayed:
        ticker, _, seconds = item.rpartition("=")
        delays[ticker] = int(seconds)
    specs = [dataclasses.replace(s, delay=delays.get(s.ticker, s.delay)) for s in DEFAULT_SYMBOLS]
    return tuple(_hours(spec, sessions, holidays, half_days) for spec in specs)


def _hours(spec: SymbolSpec, sessions: bool, holidays: frozenset[date], half_days: frozenset[date]) -> SymbolSpec:
    if spec.hours is None:
        return spec
    if not sessions:
        return dataclasses.replace(spec, hours=None, timezone="Etc/UTC", session="24x7")
    if spec.hours.always_open or not (holidays or half_days):
        return spec
    return dataclasses.replace(spec, hours=with_days(spec.hours, holidays, half_days))


def build(args: argparse.Namespace) -> TradingViewSimulator:
    specs = symbols(args.delayed, sessions=not args.no_sessions, holidays=frozenset(args.holiday),
                    half_days=frozenset(args.half_day))
    sim = TradingViewSimulator(symbols=specs, seed=args.seed, history_bars=args.history_bars,
                               max_bars_per_request=args.max_bars, max_depth_bars=args.max_depth_bars,
                               heartbeat_interval=args.heartbeat, hole_rate=args.hole_rate, tokens=args.token,
                               resolve_latency=args.resolve_latency,
                               faults=cli.faults_from(args, Faults))
    if args.bars_csv:
        load_bars_csv(sim.market, args.bars_csv)
    if args.ticks_csv:
        sim.replay = load_ticks_csv(args.ticks_csv)
    return sim


async def serve(args: argparse.Namespace, stop: asyncio.Event | None = None) -> None:
    sim = build(args)
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
