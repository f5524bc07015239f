"""Commands that run a process until it is stopped (Ctrl-C or SIGTERM): `serve`, `store`, `simulator`."""

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from src.app.serve import serve as serve_settings
from src.cli.errors import CommandFailed, UsageProblem
from src.cli.logs import log_to_stderr
from src.cli.options import JsonOption
from src.cli.output import Output
from src.common.settings import SettingsError, load_settings
from src.infrastructure.mongo.embedded import EmbeddedMongo

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(
    roles: Annotated[str | None, typer.Option(
        "--roles", help="comma-separated api, collector, scheduler (default: ROLES, else all). api serves the "
        "HTTP API (without it only /health, /metrics, jobs), scheduler runs the jobs, collector owns the live "
        "sessions (with REDIS_URL: one collector at a time, by a lease)",
    )] = None,
    host: Annotated[str | None, typer.Option(help="listen address (default: API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default: API_PORT)")] = None,
) -> None:
    """Run the service (as `make run` does), with the roles given."""
    overrides = {k: v for k, v in {"roles": roles, "api_host": host, "api_port": port}.items() if v is not None}
    output = Output(as_json=False)
    with output.reporting():
        try:
            settings = load_settings(**overrides)
        except SettingsError as error:
            raise UsageProblem(str(error)) from None
        try:
            serve_settings(settings)
        except SystemExit as stop:  # uvicorn exits 1 or 3 when the service cannot start (port taken, store down)
            if stop.code:
                raise CommandFailed(f"the service did not start (uvicorn exit {stop.code}; its log says why)") from None


def store(
    data_dir: Annotated[Path, typer.Option("--data-dir", help="where the SQLite file is kept")] = Path("data"),
    host: Annotated[str, typer.Option(help="listen address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="listen port")] = 27017,
    as_json: JsonOption = False,
) -> None:
    """Run the embedded MongoDB-compatible store as its own process, for several service processes to share
    (MONGODB_URL=mongodb://HOST:PORT/?directConnection=true)."""
    output = Output(as_json=as_json)
    log_to_stderr("INFO")
    stopped = threading.Event()
    embedded = EmbeddedMongo(data_dir, host=host, port=port)
    with output.reporting(), _on_stop_signals(lambda _signum: stopped.set()):
        try:
            uri = embedded.start()
        except OSError as error:
            raise CommandFailed(f"the store cannot listen on {host}:{port}: {error.strerror or error}") from None
        info = {"uri": uri, "data_dir": str(data_dir.resolve()), "pid": os.getpid()}
        output.result(info, lambda console: console.print(
            f"store on {uri} (data in {info['data_dir']}); stop with Ctrl-C", highlight=False, soft_wrap=True))
        stopped.wait()
        embedded.stop()


class SimulatedSource(StrEnum):
    TRADINGVIEW = "tradingview"
    BINANCE = "binance"
    YAHOO = "yahoo"


DEFAULT_SIMULATOR_PORTS = {
    SimulatedSource.TRADINGVIEW: 8765, SimulatedSource.BINANCE: 8766, SimulatedSource.YAHOO: 8767,
}


def simulator(
    ctx: typer.Context,
    source: Annotated[SimulatedSource, typer.Option("--source", "-s", help="which source to simulate")] = (
        SimulatedSource.TRADINGVIEW
    ),
    host: Annotated[str, typer.Option(help="listen address")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="listen port (8765 tradingview, 8766 binance, 8767 yahoo)")] = None,
) -> None:
    """Run a source's simulator (development and test double); further options (fault switches, see
    `python -m simulators.SOURCE --help`) are passed to it."""
    chosen_port = port or DEFAULT_SIMULATOR_PORTS[source]
    command = [sys.executable, "-m", f"simulators.{source}", "--host", host, "--port", str(chosen_port), *ctx.args]
    output = Output(as_json=False)
    with output.reporting():
        code = _run_until_stopped(command)
        if code != 0:
            raise CommandFailed(f"the {source} simulator exited with code {code}")


def _run_until_stopped(command: list[str]) -> int:
    """Runs `command` as a child (the service never imports the simulators); a stop signal is passed on to it,
    and a child stopped that way counts as a clean exit."""
    child = subprocess.Popen(command, process_group=0)  # a terminal's Ctrl-C reaches it once, through us
    forwarded: list[int] = []

    def forward(signum: int) -> None:
        forwarded.append(signum)
        child.send_signal(signum)

    with _on_stop_signals(forward):
        code = child.wait()
    return 0 if forwarded and code in (0, *(-s for s in forwarded)) else code


@contextmanager
def _on_stop_signals(handle: Callable[[int], Any]) -> Iterator[None]:
    """SIGINT and SIGTERM call `handle(signum)` instead of their default while inside (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        handle(signum)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
