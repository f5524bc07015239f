"""`pocketquant status`: every synced series with its state and coverage (`GET /sync-status`)."""

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from src.cli.api import Api
from src.cli.options import DEFAULT_URL, ApiKeyOption, JsonOption, TimeoutOption, UrlOption
from src.cli.output import Output

STATUS_PATH = "/api/v1/market-data/sync-status"
STYLES = {"completed": "green", "error": "red", "syncing": "yellow", "pending": "cyan"}


def status(
    source: Annotated[str | None, typer.Option("--source", "-s", help="only this source")] = None,
    exchange: Annotated[str | None, typer.Option("--exchange", help="only this exchange")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="only this symbol")] = None,
    interval: Annotated[str | None, typer.Option("--interval", "-i", help="only this interval")] = None,
    state: Annotated[str | None, typer.Option("--status", help="pending, syncing, completed or error")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    timeout: TimeoutOption = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Coverage of every synced series: state, bars stored, first and last bar, gaps, and bars stored off the
    symbol's calendar (misplaced: repair them with `pocketquant repair`)."""
    output = Output(as_json=as_json)
    filters = {"source": source, "exchange": exchange, "symbol": symbol, "interval": interval, "status": state}
    with output.reporting():
        rows = asyncio.run(_fetch(Api(url, api_key=api_key, timeout_s=timeout), filters))
        output.result(rows, lambda console: _render(console, rows))


async def _fetch(api: Api, filters: dict[str, str | None]) -> list[dict[str, Any]]:
    async with api:
        rows: list[dict[str, Any]] = await api.call(
            "GET", STATUS_PATH, params={k: v for k, v in filters.items() if v is not None}
        )
        return rows


def _render(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table("source", "series", "interval", "status", "bars", "first bar", "last bar", "missing", "gaps",
                  "misplaced", "finished", "error", title="sync status")
    for row in rows:
        coverage = row.get("coverage") or {}
        style = STYLES.get(row["status"], "")
        table.add_row(
            row["source"], f"{row['exchange']}:{row['symbol']}", row["interval"], f"[{style}]{row['status']}[/]",
            f"{coverage.get('bar_count', 0):,}", coverage.get("first_bar_time") or "",
            coverage.get("last_bar_time") or "", f"{coverage.get('missing_bars', 0):,}",
            str(len(coverage.get("gaps") or ())), f"{coverage.get('misplaced_bars', 0):,}",
            row.get("finished_at") or "", row.get("error") or "",
        )
    console.print(table)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    console.print(f"{len(rows)} series" + "".join(f", {n} {name}" for name, n in sorted(counts.items())),
                  highlight=False)
