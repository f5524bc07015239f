"""`pocketquant sync` and `pocketquant repair`: one series or many from a file, through the API or
in-process, a bounded number at a time, with progress (bars/s, ETA) on stderr and a result per series.

`repair` is the same sync with the repair option (`"refresh": true`): the server re-fetches the whole
requested window instead of only what is missing. A server that does not know the option refuses the field
and the command stops with that said (exit 2).
"""

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from src.cli.api import Api, refused_fields
from src.cli.errors import PROBLEM, CommandFailed, ServerProblem, UsageProblem
from src.cli.in_process import InProcessSync, repair_supported, running_service
from src.cli.options import (
    DEFAULT_SOURCE,
    DEFAULT_URL,
    ApiKeyOption,
    JsonOption,
    SourceOption,
    TimeoutOption,
    UrlOption,
    split_symbol,
)
from src.cli.outcomes import SyncOutcome
from src.cli.output import Output
from src.cli.progress import sync_progress
from src.cli.series import Defaults, SeriesSpec, read_series_file, series_spec

SYNC_PATH = "/api/v1/market-data/sync"


class SyncBackend(Protocol):
    async def sync(self, spec: SeriesSpec, *, refresh: bool) -> SyncOutcome: ...


class ApiSync:
    def __init__(self, api: Api) -> None:
        self._api = api

    async def sync(self, spec: SeriesSpec, *, refresh: bool) -> SyncOutcome:
        body = {**spec.body(), "refresh": True} if refresh else spec.body()
        try:
            answer = await self._api.call("POST", SYNC_PATH, json=body)
        except ServerProblem as problem:
            if refresh and "refresh" in refused_fields(problem):
                raise ServerProblem(
                    f"the server at {self._api.url} does not support repair: it refused the field 'refresh' "
                    "(update the service)", **problem.details,
                ) from None
            return SyncOutcome.failed(spec, problem.message)
        return SyncOutcome.of_answer(spec, answer)


async def sync_all(
    specs: Sequence[SeriesSpec], backend: SyncBackend, progress: Progress, *, refresh: bool, concurrency: int
) -> list[SyncOutcome]:
    """Every spec synced, `concurrency` at a time; a failure that concerns them all (the server unreachable,
    repair refused) stops the run and is raised."""
    verb = "repairing" if refresh else "syncing"
    overall = progress.add_task(f"{verb} {len(specs)} series", total=sum(s.n_bars for s in specs), fetched=0)
    gate = asyncio.Semaphore(concurrency)
    fetched = 0

    async def one(spec: SeriesSpec) -> SyncOutcome:
        nonlocal fetched
        async with gate:
            row = progress.add_task(spec.label, total=None, fetched=0)
            try:
                outcome = await backend.sync(spec, refresh=refresh)
            finally:
                progress.remove_task(row)
            fetched += outcome.bars_fetched
            progress.update(overall, advance=spec.n_bars, fetched=fetched)
            return outcome

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(spec)) for spec in specs]
    except* CommandFailed as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


def sync(
    ctx: typer.Context,
    series: Annotated[str | None, typer.Argument(help="EXCHANGE:SYMBOL (or --file)", show_default=False)] = None,
    interval: Annotated[str, typer.Option("--interval", "-i", help="1m 3m 5m 15m 30m 45m 1h 2h 3h 4h 1d 1w 1M")] = "1d",
    n_bars: Annotated[int, typer.Option("--bars", "-n", min=1, help="bars wanted (the newest)")] = 5_000,
    source: SourceOption = DEFAULT_SOURCE,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="CSV or JSON lines: "
                                              "source,exchange,symbol,interval,n_bars")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=64, help="series at once")] = 4,
    in_process: Annotated[bool, typer.Option("--in-process", help="build the service here (its settings from the "
                                             "environment) instead of calling --url")] = False,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    timeout: TimeoutOption = 300.0,
    show_progress: Annotated[bool, typer.Option("--progress/--no-progress", help="progress bars on stderr")] = True,
    as_json: JsonOption = False,
) -> None:
    """Fetch and store series now: one (EXCHANGE:SYMBOL) or many (--file), with progress."""
    output = Output(as_json=as_json)
    refresh = ctx.info_name == "repair"  # `repair` is this command registered under a second name
    with output.reporting():
        specs = _specs(series, file, Defaults(source, n_bars), interval)
        progress = sync_progress(output.err, enabled=show_progress)
        started = time.monotonic()
        with progress:
            if in_process:
                outcomes = asyncio.run(_in_process(specs, progress, refresh=refresh, concurrency=concurrency))
            else:
                outcomes = asyncio.run(_through_api(specs, progress, Api(url, api_key=api_key, timeout_s=timeout),
                                                    refresh=refresh, concurrency=concurrency))
        _report(output, outcomes, time.monotonic() - started)
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(PROBLEM)


def _specs(series: str | None, file: Path | None, defaults: Defaults, interval: str) -> list[SeriesSpec]:
    if (series is None) == (file is None):
        raise UsageProblem("name one series (EXCHANGE:SYMBOL) or a --file of series, not both and not neither")
    if file is not None:
        return read_series_file(file, defaults)
    exchange, symbol = split_symbol(series or "")
    try:
        return [series_spec({"exchange": exchange, "symbol": symbol, "interval": interval}, defaults)]
    except ValueError as error:
        raise UsageProblem(str(error)) from None


async def _through_api(
    specs: list[SeriesSpec], progress: Progress, api: Api, *, refresh: bool, concurrency: int
) -> list[SyncOutcome]:
    async with api:
        return await sync_all(specs, ApiSync(api), progress, refresh=refresh, concurrency=concurrency)


async def _in_process(
    specs: list[SeriesSpec], progress: Progress, *, refresh: bool, concurrency: int
) -> list[SyncOutcome]:
    if refresh and not repair_supported():
        raise CommandFailed("this installation's sync has no repair option yet (SyncSymbolCommand takes no refresh)")
    async with running_service() as root:
        return await sync_all(specs, InProcessSync(root), progress, refresh=refresh, concurrency=concurrency)


def _report(output: Output, outcomes: list[SyncOutcome], seconds: float) -> None:
    fetched = sum(o.bars_fetched for o in outcomes)
    summary: dict[str, Any] = {
        "ok": all(o.ok for o in outcomes), "series": [o.as_json() for o in outcomes], "bars_fetched": fetched,
        "bars_written": sum(o.bars_written for o in outcomes), "seconds": round(seconds, 3),
        "bars_per_second": round(fetched / seconds, 1) if seconds > 0 else None,
    }
    output.result(summary, lambda console: _render(console, outcomes, summary))


def _render(console: Console, outcomes: list[SyncOutcome], summary: dict[str, Any]) -> None:
    table = Table("series", "status", "fetched", "written", "first bar", "last bar", "error", title="sync")
    for o in outcomes:
        status = f"[green]{o.status}[/]" if o.ok else "[red]failed[/]"
        table.add_row(o.spec.label, status, f"{o.bars_fetched:,}", f"{o.bars_written:,}", o.first_bar_time or "",
                      o.last_bar_time or "", o.error or "")
    console.print(table)
    failed = sum(not o.ok for o in outcomes)
    console.print(f"{len(outcomes) - failed} synced, {failed} failed: {summary['bars_fetched']:,} bars fetched in "
                  f"{summary['seconds']:.1f} s ({summary['bars_per_second'] or 0:,.0f} bars/s)", highlight=False)
