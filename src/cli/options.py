"""Options shared by the commands, declared once, and the `EXCHANGE:SYMBOL` argument."""

from typing import Annotated

import typer

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_SOURCE = "tradingview"

UrlOption = Annotated[str, typer.Option("--url", envvar="PQ_URL", help="the service's base URL")]
ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="PQ_API_KEY", help="sent as X-API-Key (for a service with API keys)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON document on stdout (for scripts)")]
SourceOption = Annotated[str, typer.Option("--source", "-s", help="data source (provider id)")]
TimeoutOption = Annotated[float, typer.Option("--timeout", min=0.1, help="seconds to wait for each answer")]
SeriesArgument = Annotated[str, typer.Argument(help="EXCHANGE:SYMBOL, e.g. BINANCE:BTCUSDT", show_default=False)]


def split_symbol(text: str) -> tuple[str, str]:
    """`BINANCE:BTCUSDT` → (`BINANCE`, `BTCUSDT`); anything else is a usage error naming the argument."""
    exchange, colon, symbol = text.strip().partition(":")
    if not colon or not exchange or not symbol:
        raise typer.BadParameter(f"{text!r} is not EXCHANGE:SYMBOL (e.g. BINANCE:BTCUSDT)", param_hint="SERIES")
    return exchange, symbol
