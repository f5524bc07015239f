"""Logs of commands that run the service's parts in this process: to stderr, so stdout keeps only the
command's own output (a table, or the JSON a script parses)."""

import logging
import sys

from src.infrastructure.observability.logging import configure_logging


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the time (test runners swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def log_to_stderr(level: str = "WARNING") -> None:
    configure_logging(level=level, fmt="console")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_CurrentStderr())
