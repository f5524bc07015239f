"""Reading query parameters the way Binance validates them (error codes -1100, -1102, -1120, -1121, -1130)."""

import re
from collections.abc import Mapping

import orjson

from simulators.binance.errors import BinanceError, illegal_chars, invalid_value, mandatory

SYMBOL_PATTERN = "^[A-Z0-9-_.]{1,20}$"
SYMBOLS_PATTERN = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'
LONG_PATTERN = "^[0-9]{1,20}$"
INT_PATTERN = "^-?[0-9]{1,10}$"
_SYMBOL = re.compile(SYMBOL_PATTERN)
_LONG = re.compile(LONG_PATTERN)
_INT = re.compile(INT_PATTERN)


def symbol(query: Mapping[str, str], required: bool = True) -> str | None:
    value = query.get("symbol")
    if value is None or value == "":
        if required:
            raise mandatory("symbol")
        return None
    if not _SYMBOL.match(value):
        raise illegal_chars("symbol", SYMBOL_PATTERN)
    return value


def symbols(query: Mapping[str, str]) -> list[str] | None:
    """The `symbols=["A","B"]` JSON array, None when absent."""
    value = query.get("symbols")
    if value is None:
        return None
    compact = value.replace(" ", "")
    try:
        names = orjson.loads(compact)
    except orjson.JSONDecodeError:
        names = None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and _SYMBOL.match(n) for n in names):
        raise illegal_chars("symbols", SYMBOLS_PATTERN)
    return names


def long(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    if not _LONG.match(value):
        raise illegal_chars(name, LONG_PATTERN)
    return int(value)


def limit(query: Mapping[str, str], default: int, maximum: int) -> int:
    value = query.get("limit")
    if value is None:
        return default
    if not _INT.match(value):
        raise illegal_chars("limit", INT_PATTERN)
    number = int(value)
    if not 1 <= number <= maximum:
        raise invalid_value("limit")
    return number


def required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise mandatory(name)
    return value


def exclusive(query: Mapping[str, str], *names: str) -> None:
    if sum(name in query for name in names) > 1:
        raise BinanceError(-1128, "Combination of optional parameters invalid.")
