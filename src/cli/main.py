"""The `pocketquant` command: its commands, and exit code 1 for every usage error (click's default is 2,
which this command line keeps for problems the server reports)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from src.cli import export, processes, status, symbols, sync
from src.cli.errors import USAGE

# Typer may carry its own copy of click: its UsageError is found through the public BadParameter.
_UsageError: Any = next(cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError")


@contextmanager
def _usage_exit_code() -> Iterator[None]:
    try:
        yield
    except _UsageError as error:
        error.exit_code = USAGE
        raise


class _Commands(TyperGroup):
    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _usage_exit_code():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _usage_exit_code():
            return super().invoke(ctx)


app = typer.Typer(
    cls=_Commands,
    name="pocketquant",
    help="PocketQuant from the command line: serve, sync, repair, export, status, symbols, simulators, the store.\n\n"
         "Exit codes: 0 ok, 1 usage, 2 a problem (reported by the server), 3 the server unreachable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("serve")(processes.serve)
app.command("store")(processes.store)
app.command("simulator", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(
    processes.simulator
)
app.command("sync")(sync.sync)
app.command(
    "repair",
    help="Sync with the repair option: re-fetch the whole requested window, overwriting stored bars "
         "(same arguments as sync).",
)(sync.sync)
app.command("export")(export.export)
app.command("status")(status.status)
app.add_typer(symbols.app, name="symbols")


def main() -> None:
    app()
