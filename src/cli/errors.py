"""How a command fails, and the exit code each failure maps to: the contract scripts rely on."""

from typing import Any

OK = 0
USAGE = 1
PROBLEM = 2
UNREACHABLE = 3


class CommandFailed(Exception):
    """A failure reported to the user with its message (and, with `--json`, its details)."""

    exit_code = PROBLEM

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UsageProblem(CommandFailed):
    """A bad argument or input file that only the command itself could detect (e.g. a line of a series file)."""

    exit_code = USAGE


class ServerProblem(CommandFailed):
    """The server answered with an error; `details["problem"]` holds its problem+json body."""

    exit_code = PROBLEM


class Unreachable(CommandFailed):
    """Nothing answered at the service's URL."""

    exit_code = UNREACHABLE
