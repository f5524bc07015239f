"""Tables to response bytes: JSON rows (orjson), CSV and Parquet (pyarrow). Values that do not exist yet
are `null` in JSON, empty in CSV and null in Parquet, never 0. Times are ISO 8601 UTC (`time`, plus epoch
seconds as `timestamp` in JSON, as the bars have them); Parquet stores `time` as a UTC timestamp."""

import io
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from src.common.bar_shape import series_fields
from src.domain.indicators.columns import IntArray
from src.features.indicators.tables import Table

_CSV_OPTIONS = pa_csv.WriteOptions(quoting_style="none", quoting_header="none")


class TableFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"


def iso_times(time: IntArray) -> list[str]:
    return [text + "Z" for text in np.datetime_as_string(time.astype("datetime64[s]"), unit="s").tolist()]


def table_json(table: Table) -> bytes:
    names = ("time", "timestamp", *table.columns)
    values = (iso_times(table.time), table.time.tolist(), *(column.tolist() for column in table.columns.values()))
    rows = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
    head: dict[str, Any] = {**series_fields(table.key), **table.meta, "columns": list(table.columns)}
    return orjson.dumps({**head, "count": len(rows), "rows": rows})


def _arrow(table: Table, time: pa.Array) -> pa.Table:
    columns = {name: pa.array(column, from_pandas=True) for name, column in table.columns.items()}  # NaN: null
    return pa.table({"time": time, **columns})


def table_csv(table: Table) -> bytes:
    sink = io.BytesIO()
    pa_csv.write_csv(_arrow(table, pa.array(iso_times(table.time), pa.string())), sink, _CSV_OPTIONS)
    return sink.getvalue()


def table_parquet(table: Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(_arrow(table, pa.array(table.time, pa.timestamp("s", tz="UTC"))), sink)
    return sink.getvalue()


RENDERERS: dict[TableFormat, Callable[[Table], bytes]] = {
    TableFormat.JSON: table_json,
    TableFormat.CSV: table_csv,
    TableFormat.PARQUET: table_parquet,
}
MEDIA_TYPES = {
    TableFormat.JSON: "application/json",
    TableFormat.CSV: "text/csv",
    TableFormat.PARQUET: "application/vnd.apache.parquet",
}
