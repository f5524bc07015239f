"""The service built in this process through the composition root, without HTTP: for commands run where
the store is (`--in-process`). The scheduler never runs here, nor the collector (a command never takes the
live sessions over from a deployment's collector); logs go to stderr at WARNING and above, so stdout keeps
only the command's output."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from src.app.root import Root, bootstrap
from src.cli.errors import CommandFailed, UsageProblem
from src.cli.logs import log_to_stderr
from src.cli.outcomes import SyncOutcome
from src.cli.series import SeriesSpec
from src.common.settings import SettingsError, load_settings
from src.common.time_format import iso_utc_or_none
from src.domain.market_data import Interval, SeriesKey, Symbol
from src.features.market_data.messages import SyncSymbolCommand


@asynccontextmanager
async def running_service() -> AsyncIterator[Root]:
    try:
        settings = load_settings(scheduler_enabled=False, roles="api")
    except SettingsError as error:
        raise UsageProblem(str(error)) from None
    log_to_stderr()
    root = bootstrap(settings)
    try:
        await root.lifecycle.start()
    except Exception as error:
        raise CommandFailed(f"the service could not start in this process: {type(error).__name__}: {error}") from None
    try:
        yield root
    finally:
        await root.lifecycle.stop()


class InProcessSync:
    """Sends `SyncSymbolCommand`s to the in-process Mediator; a failing series is an outcome, not a stop."""

    def __init__(self, root: Root) -> None:
        self._root = root

    async def sync(self, spec: SeriesSpec, *, refresh: bool) -> SyncOutcome:
        key = SeriesKey(Symbol(spec.exchange, spec.symbol), Interval.parse(spec.interval), spec.source)
        try:
            result = await self._root.mediator.send(_sync_command(key, spec.n_bars, refresh=refresh))
        except CommandFailed:
            raise
        except Exception as error:  # each series' failure is reported with the others', as the bulk sync does
            return SyncOutcome.failed(spec, f"{type(error).__name__}: {error}")
        return SyncOutcome(
            spec, ok=True, status=str(result.status), bars_fetched=result.bars_fetched,
            bars_written=result.bars_written, first_bar_time=iso_utc_or_none(result.first_bar_time),
            last_bar_time=iso_utc_or_none(result.last_bar_time),
        )


def repair_supported() -> bool:
    """Whether this build's sync command takes the repair option (`refresh`)."""
    return "refresh" in {field.name for field in dataclasses.fields(SyncSymbolCommand)}


def _sync_command(key: SeriesKey, n_bars: int, *, refresh: bool) -> SyncSymbolCommand:
    if not refresh:
        return SyncSymbolCommand(key, n_bars)
    if not repair_supported():
        raise CommandFailed("this installation's sync has no repair option yet (SyncSymbolCommand takes no refresh)")
    options: dict[str, Any] = {"refresh": True}
    return SyncSymbolCommand(key, n_bars, **options)
