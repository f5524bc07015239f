"""The series a sync names: one from the command line, or many from a file of CSV or JSON lines.

A file has one series per line, `source,exchange,symbol,interval,n_bars` as CSV (a header line with those
names, blank lines and `#` comments are skipped; an empty source or n_bars takes the command's default) or
as a JSON object with those keys (`exchange`, `symbol`, `interval` required). Lines may mix both forms.
"""

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from src.cli.errors import UsageProblem
from src.domain.errors import DomainError
from src.domain.market_data import Interval

FIELDS = ("source", "exchange", "symbol", "interval", "n_bars")
REQUIRED = ("exchange", "symbol", "interval")


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    source: str
    exchange: str
    symbol: str
    interval: str
    n_bars: int

    @property
    def label(self) -> str:
        return f"{self.source} {self.exchange}:{self.symbol} {self.interval}"

    def body(self) -> dict[str, Any]:
        return {"source": self.source, "exchange": self.exchange, "symbol": self.symbol, "interval": self.interval,
                "n_bars": self.n_bars}


@dataclass(frozen=True, slots=True)
class Defaults:
    source: str
    n_bars: int


def series_spec(values: dict[str, Any], defaults: Defaults) -> SeriesSpec:
    """A validated spec; raises ValueError naming what is wrong."""
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown field {', '.join(unknown)} (fields are {', '.join(FIELDS)})")
    try:
        interval = Interval.parse(str(values["interval"]).strip()).code
    except DomainError as error:
        raise ValueError(str(error)) from None
    n_bars = _positive_int(values.get("n_bars"), defaults.n_bars)
    source = str(values.get("source") or defaults.source).strip()
    return SeriesSpec(source, str(values["exchange"]).strip(), str(values["symbol"]).strip(), interval, n_bars)


def read_series_file(path: Path, defaults: Defaults) -> list[SeriesSpec]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise UsageProblem(f"cannot read the series file {path}: {error.strerror or error}") from None
    specs = []
    for number, line in enumerate(lines, start=1):
        try:
            values = _record(line.strip())
            if values is not None:
                specs.append(series_spec(values, defaults))
        except ValueError as error:
            raise UsageProblem(f"{path}:{number}: {error}", line=number) from None
    if not specs:
        raise UsageProblem(f"the series file {path} names no series")
    return specs


def _record(text: str) -> dict[str, Any] | None:
    """One line's values, or None for a blank, comment or header line; raises ValueError for a malformed one."""
    if not text or text.startswith("#"):
        return None
    if text.startswith("{"):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"invalid JSON ({error.msg})") from None
        if not isinstance(values, dict):
            raise ValueError("a JSON line must be an object")
        return values
    row = [cell.strip() for cell in next(csv.reader([text]))]
    if len(row) >= len(FIELDS) - 1 and row == list(FIELDS[: len(row)]):
        return None  # the header
    if not len(FIELDS) - 1 <= len(row) <= len(FIELDS):
        raise ValueError(f"a CSV line has the columns {','.join(FIELDS)} (n_bars may be left out), not {len(row)}")
    return dict(zip(FIELDS, row, strict=False))


def _positive_int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"n_bars must be a whole number, not {value!r}") from None
    if number < 1:
        raise ValueError(f"n_bars must be at least 1, not {number}")
    return number
