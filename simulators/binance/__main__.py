"""Run the Binance simulator: `python -m simulators.binance --host 127.0.0.1 --port 8766 [--fault-switches]`."""

import argparse

from simulators.binance.faults import BinanceFaults
from simulators.binance.server import BinanceSimulator
from simulators.common import cli


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return cli.parser_for("Binance spot market-data simulator", BinanceFaults, 8766).parse_args(argv)


def build(args: argparse.Namespace) -> BinanceSimulator:
    return BinanceSimulator(seed=args.seed, faults=cli.faults_from(args, BinanceFaults))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cli.run(build(args), args.host, args.port)


if __name__ == "__main__":
    main()
