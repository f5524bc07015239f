"""Where a command's results and failures go: Rich tables and messages for people, one JSON document on
stdout with `--json` for scripts. Progress and diagnostics always go to stderr, so stdout stays parseable."""

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from src.cli.errors import CommandFailed


class Output:
    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.out = Console(soft_wrap=False)
        self.err = Console(stderr=True)

    def result(self, data: Any, render: Callable[[Console], None]) -> None:
        if self.as_json:
            self.print_json(data)
        else:
            render(self.out)
        sys.stdout.flush()

    def print_json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, default=str) + "\n")

    def failure(self, error: CommandFailed) -> None:
        if self.as_json:
            self.print_json({"ok": False, "error": error.message, "exit_code": error.exit_code, **error.details})
        else:
            self.err.print(f"[bold red]error:[/] {error.message}", highlight=False, soft_wrap=True)

    @contextmanager
    def reporting(self) -> Iterator[None]:
        """Around a command's body: a `CommandFailed` becomes its message and its exit code."""
        try:
            yield
        except CommandFailed as error:
            self.failure(error)
            raise typer.Exit(error.exit_code) from None
