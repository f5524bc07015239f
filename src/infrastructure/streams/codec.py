"""Frozen dataclasses and enums to bytes and back, for messages between processes (Redis Streams).

Only the types named when the codec is built are decoded (an entry naming any other type is refused): a
message never makes this process build an object it did not agree to receive. Tuples stay tuples (the
dataclasses hash and compare them), mappings come back as dicts, enums by their name.
"""

import dataclasses
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

import orjson

TYPE = "~t"  # the key naming an encoded object's type
VALUE = "~v"  # its value, for enums and tuples


class UnknownMessageType(ValueError):
    """An entry names a type this codec was not built to decode."""


class DataclassCodec:
    def __init__(self, types: Iterable[type]) -> None:
        self._types = {cls.__name__: cls for cls in types}

    def encode(self, value: Any) -> bytes:
        return orjson.dumps(self._plain(value), default=plain_scalar)

    def decode(self, data: bytes | str) -> Any:
        return self._object(orjson.loads(data))

    def _plain(self, value: Any) -> Any:
        if isinstance(value, Enum):
            return {TYPE: type(value).__name__, VALUE: value.name}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: self._plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
            return {TYPE: type(value).__name__, **fields}
        if isinstance(value, tuple):
            return {TYPE: "tuple", VALUE: [self._plain(item) for item in value]}
        if isinstance(value, list):
            return [self._plain(item) for item in value]
        if isinstance(value, Mapping):
            return {str(key): self._plain(item) for key, item in value.items()}
        return value

    def _object(self, plain: Any) -> Any:
        if isinstance(plain, list):
            return [self._object(item) for item in plain]
        if not isinstance(plain, dict):
            return plain
        name = plain.get(TYPE)
        if name is None:
            return {key: self._object(item) for key, item in plain.items()}
        if name == "tuple":
            return tuple(self._object(item) for item in plain[VALUE])
        cls = self._types.get(name)
        if cls is None:
            raise UnknownMessageType(f"not a type this process decodes: {name!r}")
        if issubclass(cls, Enum):
            return cls[plain[VALUE]]
        return cls(**{key: self._object(item) for key, item in plain.items() if key != TYPE})


def plain_scalar(value: Any) -> Any:
    """orjson's `default`: a numpy scalar (a bar's volume from a pandas frame, say) as the Python number."""
    item = getattr(value, "item", None)
    if item is None:
        raise TypeError(f"not serializable: {type(value).__name__}")
    return item()
