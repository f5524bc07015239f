"""`pocketquant symbols track|untrack|search|list`: the tracked symbols the scheduled jobs sync."""

import asyncio
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from src.cli.api import Api
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

SYMBOLS_PATH = "/api/v1/market-data/symbols"
IntervalsOption = Annotated[list[str] | None, typer.Option("--interval", "-i", help="repeat for several intervals")]

app = typer.Typer(help="Tracked symbols: track, untrack, search, list.", no_args_is_help=True)


def _call(url: str, api_key: str | None, timeout: float, method: str, path: str, **kwargs: Any) -> Any:
    async def call() -> Any:
        async with Api(url, api_key=api_key, timeout_s=timeout) as api:
            return await api.call(method, path, **kwargs)

    return asyncio.run(call())


@app.command()
def track(
    series: SeriesArgument,
    intervals: IntervalsOption = None,
    source: SourceOption = DEFAULT_SOURCE,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    timeout: TimeoutOption = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Track a symbol at some intervals (1d when none is given); the scheduled jobs keep it synced."""
    output = Output(as_json=as_json)
    exchange, symbol = split_symbol(series)
    body = {"source": source, "exchange": exchange, "symbol": symbol, "intervals": intervals or ["1d"]}
    with output.reporting():
        tracked = _call(url, api_key, timeout, "POST", SYMBOLS_PATH, json=body)
        output.result(tracked, lambda console: _say_tracked(console, tracked))


@app.command()
def untrack(
    series: SeriesArgument,
    intervals: IntervalsOption = None,
    source: SourceOption = DEFAULT_SOURCE,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    timeout: TimeoutOption = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Untrack some intervals of a symbol, or the whole symbol when none is given."""
    output = Output(as_json=as_json)
    exchange, symbol = split_symbol(series)
    params: dict[str, Any] = {"source": source, "intervals": intervals or []}
    with output.reporting():
        tracked = _call(url, api_key, timeout, "DELETE", f"{SYMBOLS_PATH}/{exchange}/{symbol}", params=params)
        output.result(tracked, lambda console: _say_tracked(console, tracked))


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="what to look for, e.g. BTC")],
    exchange: Annotated[str | None, typer.Option("--exchange", help="only this exchange")] = None,
    source: Annotated[str | None, typer.Option("--source", "-s", help="one source; every source when omitted")] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    timeout: TimeoutOption = 30.0,
    as_json: JsonOption = False,
) -> None:
    """Search the sources' symbol directories."""
    output = Output(as_json=as_json)
    params = {k: v for k, v in {"q": text, "exchange": exchange, "source": source}.items() if v}
    with output.reporting():
        matches = _call(url, api_key, timeout, "GET", f"{SYMBOLS_PATH}/search", params=params)
        output.result(matches, lambda console: _matches(console, matches))


@app.command("list")
def list_symbols(
    include_inactive: Annotated[bool, typer.Option("--all", help="untracked symbols too")] = False,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    timeout: TimeoutOption = 30.0,
    as_json: JsonOption = False,
) -> None:
    """The tracked symbols and their intervals."""
    output = Output(as_json=as_json)
    with output.reporting():
        tracked = _call(url, api_key, timeout, "GET", SYMBOLS_PATH, params={"include_inactive": include_inactive})
        output.result(tracked, lambda console: _tracked_table(console, tracked))


def _say_tracked(console: Console, tracked: dict[str, Any]) -> None:
    label = f"{tracked['source']} {tracked['exchange']}:{tracked['symbol']}"
    if tracked.get("active") and tracked.get("intervals"):
        console.print(f"tracking {label} at {' '.join(tracked['intervals'])}", highlight=False)
        if first_syncs := [s["interval"] for s in tracked.get("first_syncs", ())]:
            console.print(f"syncing {' '.join(first_syncs)} now (see `pocketquant status`)", highlight=False)
    else:
        console.print(f"no longer tracking {label}", highlight=False)


def _matches(console: Console, matches: list[dict[str, Any]]) -> None:
    table = Table("source", "symbol", "description", "type", "currency", title=f"{len(matches)} matches")
    for m in matches:
        table.add_row(m["source"], f"{m['exchange']}:{m['symbol']}", m.get("description") or "", m.get("type") or "",
                      m.get("currency") or "")
    console.print(table)


def _tracked_table(console: Console, tracked: list[dict[str, Any]]) -> None:
    table = Table("source", "symbol", "intervals", "active", "description", title=f"{len(tracked)} tracked symbols")
    for t in tracked:
        table.add_row(t["source"], f"{t['exchange']}:{t['symbol']}", " ".join(t.get("intervals") or ()),
                      "yes" if t.get("active", True) else "no", t.get("description") or "")
    console.print(table)
