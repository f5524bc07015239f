"""Stored bars to response bytes, column by column, in one pass: JSON (orjson) and CSV. The rows have the
shape of `common.bar_shape.bar_fields` (a test holds them to it) without building a bar object each."""

import orjson

from src.common.bar_shape import series_fields
from src.common.ports import BarColumns
from src.common.time_format import iso_utc


def bars_to_json(columns: BarColumns) -> bytes:
    rows = [
        {"time": iso_utc(t), "timestamp": t, "open": o, "high": h, "low": lo, "close": c, "volume": v,
         "partial": p == 1}
        for t, o, h, lo, c, v, p in zip(
            columns.time, columns.open, columns.high, columns.low, columns.close, columns.volume, columns.partial,
            strict=True,
        )
    ]
    return orjson.dumps({**series_fields(columns.key), "count": len(rows), "bars": rows})


def bars_to_csv(columns: BarColumns) -> bytes:
    lines = ["time,open,high,low,close,volume,partial"]
    lines += [
        f"{iso_utc(t)},{o!r},{h!r},{lo!r},{c!r},{v!r},{'true' if p == 1 else 'false'}"
        for t, o, h, lo, c, v, p in zip(
            columns.time, columns.open, columns.high, columns.low, columns.close, columns.volume, columns.partial,
            strict=True,
        )
    ]
    lines.append("")
    return "\n".join(lines).encode()
