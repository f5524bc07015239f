"""Run the Yahoo Finance simulator: `python -m simulators.yahoo --host 127.0.0.1 --port 8767 [--switches]`."""

import argparse

from simulators.common import cli
from simulators.yahoo.faults import YahooFaults
from simulators.yahoo.server import YahooSimulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return cli.parser_for("Yahoo Finance chart/search/quote simulator", YahooFaults, 8767).parse_args(argv)


def build(args: argparse.Namespace) -> YahooSimulator:
    return YahooSimulator(seed=args.seed, faults=cli.faults_from(args, YahooFaults))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cli.run(build(args), args.host, args.port)


if __name__ == "__main__":
    main()
