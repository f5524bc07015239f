"""How cached values become bytes: raw `bytes` are stored as-is (pre-serialized API responses), anything
else as orjson (datetimes become ISO-8601 strings; naive datetimes are taken as UTC). One tag byte says
which, so both adapters return exactly what the other would."""

from typing import Any

import orjson

_RAW = b"\x00"
_JSON = b"\x01"
_OPTIONS = orjson.OPT_NAIVE_UTC | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value).decode("latin-1")
    raise TypeError(f"cannot cache a {type(value).__name__}")


def encode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return _RAW + value
    return _JSON + orjson.dumps(value, default=_default, option=_OPTIONS)


def decode(data: bytes) -> Any:
    if data[:1] == _RAW:
        return data[1:]
    return orjson.loads(memoryview(data)[1:])
