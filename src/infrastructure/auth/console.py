"""The operator's console: standard error, written directly (never through the logs, which are shipped
and kept)."""

import sys


class StderrConsole:
    def show(self, text: str) -> None:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()
