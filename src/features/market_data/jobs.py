"""Scheduled syncs. Each job builds commands and sends them through the Mediator like a route does;
a failing series is recorded in its sync status and the summary, never stopping the rest."""

from src.common.jobs import JobSummary
from src.common.mediator import Mediator
from src.common.ports import SymbolRepository
from src.domain.market_data import Interval, SeriesKey
from src.features.market_data.handlers import BulkItemResult
from src.features.market_data.messages import BulkSyncCommand, SyncSymbolCommand

ALL_SYMBOLS_BARS = 500
DAILY_BARS = 10


def _summary(results: list[BulkItemResult]) -> JobSummary:
    errors = tuple(f"{r.command.key}: {r.error}" for r in results if r.error is not None)
    return JobSummary(len(results), len(results) - len(errors), len(errors), errors[:20])


class SyncAllSymbolsJob:
    """Every tracked symbol at every tracked interval, from its source: the newest 500 bars."""

    def __init__(self, mediator: Mediator, symbols: SymbolRepository) -> None:
        self._mediator = mediator
        self._symbols = symbols

    async def __call__(self) -> JobSummary:
        commands = tuple(
            SyncSymbolCommand(SeriesKey(t.symbol, interval, t.source), ALL_SYMBOLS_BARS)
            for t in await self._symbols.list(active_only=True)
            for interval in t.intervals
        )
        return _summary(await self._mediator.send(BulkSyncCommand(commands)) if commands else [])


class SyncDailyDataJob:
    """The last 10 daily bars of every tracked symbol, during the trading day."""

    def __init__(self, mediator: Mediator, symbols: SymbolRepository) -> None:
        self._mediator = mediator
        self._symbols = symbols

    async def __call__(self) -> JobSummary:
        commands = tuple(
            SyncSymbolCommand(SeriesKey(t.symbol, Interval.D1, t.source), DAILY_BARS)
            for t in await self._symbols.list(active_only=True)
        )
        return _summary(await self._mediator.send(BulkSyncCommand(commands)) if commands else [])
