"""Command lines of the simulators: `--host`, `--port`, `--seed` and one option per fault switch
(`--error-rate 0.1`, `--hang`, `--unknown-symbols BTCUSDT --unknown-symbols ETHUSDT`, ...), generated from
the source's `Faults` dataclass so that every switch is reachable from `make`."""

import argparse
import asyncio
import contextlib
import dataclasses
import types
from collections.abc import Callable
from typing import Any, get_args, get_type_hints

from simulators.common.faults import Faults
from simulators.common.server import SimulatorServer


def parser_for(description: str, faults_type: type[Faults], default_port: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--seed", type=int, default=7)
    add_switches(parser, faults_type)
    return parser


def add_switches(parser: argparse.ArgumentParser, faults_type: type[Any]) -> None:
    """One option per field of a faults dataclass (`--no-x` for booleans, repeatable for sets)."""
    hints = get_type_hints(faults_type)
    for field in dataclasses.fields(faults_type):
        _add_switch(parser, field, hints[field.name])


def _add_switch(parser: argparse.ArgumentParser, field: dataclasses.Field[Any], hint: Any) -> None:
    option = "--" + field.name.replace("_", "-")
    default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
    if hint is bool:
        parser.add_argument(option, action=argparse.BooleanOptionalAction, default=default)
    elif isinstance(default, set):
        parser.add_argument(option, action="append", default=[], metavar="SYMBOL")
    else:
        parser.add_argument(option, type=_scalar_type(hint), default=default)


def _scalar_type(hint: Any) -> Callable[[str], Any]:
    if isinstance(hint, types.UnionType):
        return next(arg for arg in get_args(hint) if arg is not type(None))  # type: ignore[no-any-return]
    return hint  # type: ignore[no-any-return]


def faults_from(args: argparse.Namespace, faults_type: type[Any]) -> Any:
    values: dict[str, Any] = {f.name: getattr(args, f.name) for f in dataclasses.fields(faults_type)}
    converted: dict[str, Any] = {k: set(v) if isinstance(v, list) else v for k, v in values.items()}
    return faults_type(**converted)


async def serve(simulator: SimulatorServer, host: str, port: int, stop: asyncio.Event | None = None) -> None:
    await simulator.start(host, port)
    print(f"{simulator.name} simulator on {simulator.base_url}", flush=True)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await simulator.stop()


def run(simulator: SimulatorServer, host: str, port: int) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(simulator, host, port))
