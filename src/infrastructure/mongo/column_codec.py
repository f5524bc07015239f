"""How one column of a chunk becomes bytes, losslessly and small: the embedded store's read time grows with
the bytes it moves (mongoeco keeps them as hex inside JSON), so bytes saved are time saved.

* **Integers** (times): the differences between consecutive values, Zstandard-compressed. Bar times are
  nearly regular, so a month of 1m times takes a few hundred bytes instead of 350 kB.
* **Flags** (partial): int8, Zstandard-compressed.
* **Floats** (prices, volume): when every value is a decimal of at most `MAX_DECIMALS` places, that is
  `round(x * 10**k) / 10**k == x` for all of them (true of prices and volumes a source sends as decimal
  text), the integers `round(x * 10**k)` are stored like times, behind one byte `k`; decoding divides by
  `10**k` exactly as the check did, so every value comes back bit for bit (but -0.0, which returns as 0.0).
  Otherwise the float64 values themselves, behind the byte `RAW`. Headers are 8 bytes, so raw values stay
  8-byte aligned.

Measured on a million 1m bars of a random-walk price in cents: 48 MB raw, 13 MB packed; a read of them
from the embedded store 346 ms raw, 304 ms packed (the decode costs most of what the store saves).
"""

import numpy as np
import numpy.typing as npt
import pyarrow as pa

MAX_DECIMALS = 8
RAW = 255
_HEADER = 8
_SAMPLE = 64
_EXACT_INTEGERS = float(2**53)


def pack_ints(values: npt.NDArray[np.int64]) -> bytes:
    return _compress(np.diff(values, prepend=0).astype("<i8", copy=False).tobytes())


def unpack_ints(data: bytes, count: int) -> npt.NDArray[np.int64]:
    return np.cumsum(np.frombuffer(_decompress(data, 8 * count), "<i8"), dtype=np.int64)


def pack_flags(flags: npt.NDArray[np.bool_]) -> bytes:
    return _compress(flags.astype("i1", copy=False).tobytes())


def unpack_flags(data: bytes, count: int) -> npt.NDArray[np.bool_]:
    return np.frombuffer(_decompress(data, count), np.bool_)


def pack_floats(values: npt.NDArray[np.float64]) -> bytes:
    decimals = decimal_places(values)
    if decimals is None:
        return _header(RAW) + values.astype("<f8", copy=False).tobytes()
    return _header(decimals) + pack_ints(np.round(values * 10.0**decimals).astype(np.int64))


def unpack_floats(data: bytes, count: int) -> npt.NDArray[np.float64]:
    if data[0] == RAW:
        return np.frombuffer(data, "<f8", offset=_HEADER).astype(np.float64, copy=False)
    scaled: npt.NDArray[np.float64] = unpack_ints(data[_HEADER:], count) / 10.0 ** data[0]
    return scaled


def decimal_places(values: npt.NDArray[np.float64]) -> int | None:
    """The fewest decimal places that hold every value exactly, if at most `MAX_DECIMALS`."""
    for decimals in range(MAX_DECIMALS + 1):
        scale = 10.0**decimals
        if _exact(values[:_SAMPLE], scale) and _exact(values, scale):
            return decimals
    return None


def _exact(values: npt.NDArray[np.float64], scale: float) -> bool:
    with np.errstate(over="ignore"):  # a value too large to scale becomes inf, and is then not exact
        scaled = np.round(values * scale)
    return bool(np.all(np.abs(scaled) < _EXACT_INTEGERS)) and bool(np.array_equal(scaled / scale, values))


def _header(code: int) -> bytes:
    return bytes([code]) + bytes(_HEADER - 1)


def _compress(data: bytes) -> bytes:
    packed: bytes = pa.compress(data, codec="zstd", asbytes=True)
    return packed


def _decompress(data: bytes, size: int) -> pa.Buffer:
    """Arrow's buffer, not bytes: numpy reads it in place, which saves a copy of every decoded column."""
    return pa.decompress(data, decompressed_size=size, codec="zstd")
