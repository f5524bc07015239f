"""`pocketquant export`: a stored series to a CSV or Parquet file, streamed to disk with progress.

The file is written under a `.part` name and renamed when complete, so a failed export leaves no partial
file behind. Parquet comes from the server (`format=parquet`) when it offers it; a server that refuses the
format is asked for CSV, which is converted here with pyarrow (columns as in the CSV: `time` a UTC
timestamp, prices and volume float64, `partial` boolean).
"""

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import typer
from rich.progress import Progress

from src.cli.api import Api, refused_fields
from src.cli.errors import ServerProblem
from src.cli.options import (
    DEFAULT_SOURCE,
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    SeriesArgument,
    SourceOption,
    TimeoutOption,
    UrlOption,
    split_symbol,
)
from src.cli.output import Output
from src.cli.progress import download_progress

EVERYTHING_FROM = "1970-01-01T00:00:00Z"
CSV_COLUMN_TYPES = {
    "time": pa.timestamp("s", tz="UTC"), "open": pa.float64(), "high": pa.float64(), "low": pa.float64(),
    "close": pa.float64(), "volume": pa.float64(), "partial": pa.bool_(),
}


class Format(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


@dataclass(frozen=True, slots=True)
class Exported:
    path: Path
    format: Format
    rows: int
    bytes: int
    converted_locally: bool

    def as_json(self) -> dict[str, Any]:
        return {"ok": True, "path": str(self.path), "format": str(self.format), "rows": self.rows,
                "bytes": self.bytes, "converted_locally": self.converted_locally}


def export(
    series: SeriesArgument,
    interval: Annotated[str, typer.Option("--interval", "-i", help="bar interval")] = "1d",
    source: SourceOption = DEFAULT_SOURCE,
    file_format: Annotated[Format, typer.Option("--format", "-F", help="csv or parquet")] = Format.CSV,
    output_path: Annotated[Path | None, typer.Option("--output", "-o", help="default: SOURCE_EXCHANGE_SYMBOL_"
                                                     "INTERVAL.FORMAT here")] = None,
    start: Annotated[str | None, typer.Option(help="ISO 8601 or epoch seconds, inclusive")] = None,
    end: Annotated[str | None, typer.Option(help="ISO 8601 or epoch seconds, inclusive")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="only the newest N bars")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    timeout: TimeoutOption = 300.0,
    show_progress: Annotated[bool, typer.Option("--progress/--no-progress", help="progress bars on stderr")] = True,
    as_json: JsonOption = False,
) -> None:
    """Export a stored series (every bar unless --start/--end/--limit narrow it) to CSV or Parquet."""
    output = Output(as_json=as_json)
    exchange, symbol = split_symbol(series)
    params: dict[str, Any] = {"source": source, "interval": interval, "order": "asc", "format": str(file_format)}
    params |= {k: v for k, v in {"start": start, "end": end, "limit": limit}.items() if v is not None}
    if start is None and end is None and limit is None:
        params["start"] = EVERYTHING_FROM  # without a range the API answers the newest 1,000 bars
    target = output_path or Path(f"{source}_{exchange}_{symbol}_{interval}.{file_format}")
    with output.reporting():
        with download_progress(output.err, enabled=show_progress) as progress:
            api = Api(url, api_key=api_key, timeout_s=timeout)
            path = f"/api/v1/market-data/ohlcv/{exchange}/{symbol}"
            csv_lines, converted = asyncio.run(_export(api, path, params, target, progress))
        exported = _exported(target, file_format, csv_lines, converted)
        output.result(exported.as_json(), lambda console: console.print(_summary(exported), highlight=False))


async def _export(api: Api, path: str, params: dict[str, Any], target: Path, progress: Progress) -> tuple[int, bool]:
    """Downloads into `target`; returns the CSV line count (0 for a Parquet download) and whether the
    Parquet file was converted here."""
    async with api:
        try:
            _, lines = await _download(api, path, params, target, progress)
            return (0 if params["format"] == Format.PARQUET else lines), False
        except ServerProblem as problem:
            if params["format"] != Format.PARQUET or "format" not in refused_fields(problem):
                raise
        csv_part = target.with_name(target.name + ".csv")
        try:
            _, lines = await _download(api, path, {**params, "format": "csv"}, csv_part, progress)
            await asyncio.to_thread(csv_to_parquet, csv_part, target, progress, max(lines - 1, 0))
        finally:
            await asyncio.to_thread(csv_part.unlink, missing_ok=True)
        return 0, True


def _exported(target: Path, file_format: Format, csv_lines: int, converted_locally: bool) -> Exported:
    rows = pq.ParquetFile(target).metadata.num_rows if file_format is Format.PARQUET else max(csv_lines - 1, 0)
    return Exported(target, file_format, rows, target.stat().st_size, converted_locally)


async def _download(
    api: Api, path: str, params: dict[str, Any], target: Path, progress: Progress
) -> tuple[int, int]:
    """Streams the response into `target` (through a `.part` file); returns its size and its line count."""
    partial = target.with_name(target.name + ".part")
    size = lines = 0
    try:
        async with api.stream("GET", path, params=params) as response:
            length = response.headers.get("content-length")
            task = progress.add_task(f"downloading {target.name}", total=int(length) if length else None)
            with partial.open("wb") as file:
                async for chunk in response.aiter_bytes():
                    file.write(chunk)
                    size += len(chunk)
                    lines += chunk.count(b"\n")
                    progress.update(task, advance=len(chunk))
        partial.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return size, lines


def csv_to_parquet(source: Path, target: Path, progress: Progress, rows_expected: int) -> int:
    """Converts batch by batch, never holding the whole series; returns the rows written."""
    task = progress.add_task(f"converting to {target.name}", total=rows_expected or None)
    partial = target.with_name(target.name + ".part")
    with source.open(encoding="utf-8") as file:
        names = file.readline().strip().split(",")
    types = {name: kind for name, kind in CSV_COLUMN_TYPES.items() if name in names}
    reader = pa_csv.open_csv(source, convert_options=pa_csv.ConvertOptions(column_types=types))
    rows = 0
    try:
        with pq.ParquetWriter(partial, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
                progress.update(task, advance=batch.num_rows)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return rows


def _summary(exported: Exported) -> str:
    how = " (converted from CSV here: the server offers no Parquet export)" if exported.converted_locally else ""
    return f"wrote {exported.rows:,} bars to {exported.path} ({exported.bytes:,} bytes){how}"
