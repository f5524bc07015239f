"""Each instrument's trading calendar, built from what its source says of it (stored, refreshed by syncs and
subscriptions), cached in the process: the calendar the sync planner, history validation, live bars, coverage
and session indicators all use.

Rules:
* `hours(instrument)` is the calendar every series of the instrument follows (`SymbolMetadata.session`: the
  regular session, or the extended one when the user asked for extended hours); an instrument whose metadata
  was never fetched follows 24x7 UTC, the UTC grid.
* `refreshed(instrument)` (syncs) asks the source first when nothing is stored or the stored metadata is older
  than `max_age_s`; `known(instrument)` (live subscriptions, which may name hundreds of symbols at once) only
  when nothing is stored. Concurrent refreshes of one instrument ask once. A source that fails
  (down, refusing) leaves the stored metadata in use; with nothing stored the failure is the caller's. An
  unknown symbol always stops.
* Metadata read from the store is reused for `memory_s` seconds, so a choice made through another process is
  seen within that time.
* Metadata whose time zone or session cannot be read is refused as the source's fault (`UpstreamRejected`).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from src.common.errors import SymbolNotFound, UpstreamRejected
from src.common.ports import Clock, SymbolInfo, SymbolMetadataRepository
from src.common.providers import ProviderRegistry
from src.domain.errors import DomainError
from src.domain.market_data import Instrument, SeriesKey, SessionCalendar
from src.domain.market_data.time_zone import TimeZoneRules
from src.domain.market_data.trading_hours import (
    ALWAYS_OPEN_HOURS,
    UTC_NAMES,
    SessionSpec,
    SymbolMetadata,
    TradingHours,
)

ZoneRules = Callable[[str], TimeZoneRules]
DEFAULT_MAX_AGE_S = 3_600.0
MEMORY_S = 60.0
_EXTENDED_IDS = ("extended",)


@dataclass(frozen=True, slots=True)
class _Known:
    metadata: SymbolMetadata | None
    hours: TradingHours
    read_at: float


class SymbolCalendars:
    def __init__(self, providers: ProviderRegistry, store: SymbolMetadataRepository, clock: Clock,
                 zone_rules: ZoneRules, *, max_age_s: float = DEFAULT_MAX_AGE_S, memory_s: float = MEMORY_S) -> None:
        self._providers = providers
        self._store = store
        self._clock = clock
        self._zone_rules = zone_rules
        self._max_age_s = max_age_s
        self._memory_s = memory_s
        self._known: dict[Instrument, _Known] = {}
        self._refreshing: dict[Instrument, asyncio.Task[_Known]] = {}

    async def hours(self, instrument: Instrument) -> TradingHours:
        return (await self._load(instrument)).hours

    async def calendar_of(self, key: SeriesKey) -> SessionCalendar:
        """The calendar a series follows (its symbol's, regular or extended hours)."""
        return (await self.hours(key.instrument)).calendar

    async def metadata(self, instrument: Instrument) -> SymbolMetadata | None:
        return (await self._load(instrument)).metadata

    async def refreshed(self, instrument: Instrument) -> TradingHours:
        """The instrument's calendar, its metadata asked of the source first when missing or old."""
        known = await self._load(instrument)
        stale = known.metadata is None or self._clock.now() - known.metadata.refreshed_at >= self._max_age_s
        return (await self._refreshing_once(instrument)).hours if stale else known.hours

    async def known(self, instrument: Instrument) -> TradingHours:
        """The instrument's calendar, its metadata asked of the source only when none is stored."""
        known = await self._load(instrument)
        return (await self._refreshing_once(instrument)).hours if known.metadata is None else known.hours

    async def refresh(self, instrument: Instrument) -> SymbolMetadata:
        """Ask the source now (joining a refresh of the instrument already under way); its metadata."""
        metadata = (await self._refreshing_once(instrument)).metadata
        assert metadata is not None
        return metadata

    async def _refreshing_once(self, instrument: Instrument) -> _Known:
        task = self._refreshing.get(instrument)
        if task is None:
            task = asyncio.create_task(self._refresh(instrument), name=f"metadata {instrument}")
            self._refreshing[instrument] = task
            task.add_done_callback(lambda _: self._refreshing.pop(instrument, None))
        return await asyncio.shield(task)

    async def choose_extended(self, instrument: Instrument, extended: bool) -> SymbolMetadata:
        """Record the user's choice of extended hours (the metadata fetched first if none is stored)."""
        known = await self._load(instrument)
        metadata = known.metadata if known.metadata is not None else await self.refresh(instrument)
        chosen = replace(metadata, extended_hours=extended)
        await self._store.save(chosen)
        self._remember(chosen)
        return chosen

    async def _refresh(self, instrument: Instrument) -> _Known:
        stored = await self._store.get(instrument)
        try:
            info = await self._providers.symbols(instrument.source).resolve_symbol(instrument.symbol)
        except SymbolNotFound:
            raise
        except Exception:
            if stored is None:
                raise
            return self._remember(stored)  # the source is down: what it said before still holds
        fresh = metadata_of(instrument, info, self._clock.now())
        metadata = fresh if stored is None else stored.refreshed(fresh)
        known = self._remember(metadata)  # refused before it is stored when its hours cannot be read
        await self._store.save(metadata)
        return known

    async def _load(self, instrument: Instrument) -> _Known:
        known = self._known.get(instrument)
        if known is not None and self._clock.now() - known.read_at < self._memory_s:
            return known
        stored = await self._store.get(instrument)
        if stored is None:
            known = _Known(None, ALWAYS_OPEN_HOURS, self._clock.now())
            self._known[instrument] = known
            return known
        return self._remember(stored)

    def _remember(self, metadata: SymbolMetadata) -> _Known:
        known = self._known.get(metadata.instrument)
        if known is None or known.metadata != metadata:
            known = _Known(metadata, self._hours_of(metadata), self._clock.now())
        else:
            known = replace(known, read_at=self._clock.now())
        self._known[metadata.instrument] = known
        return known

    def _hours_of(self, metadata: SymbolMetadata) -> TradingHours:
        if metadata.is_always_open_utc:
            return replace(ALWAYS_OPEN_HOURS, extended=metadata.follows_extended)
        zone = metadata.timezone if metadata.timezone not in UTC_NAMES else "UTC"
        try:
            calendar = metadata.session.calendar(self._zone_rules(zone))
        except DomainError as error:
            raise UpstreamRejected(f"{metadata.instrument}: the source's trading hours cannot be read: {error}") \
                from error
        return TradingHours(calendar, metadata.follows_extended)


def metadata_of(instrument: Instrument, info: SymbolInfo, now: float) -> SymbolMetadata:
    """What a source's `SymbolInfo` says of trading hours: TradingView's `session`, `session_holidays`,
    `session-correction` and the `extended` entry of `subsessions`; Yahoo's `session_extended`."""
    extra = info.extra
    holidays = str(extra.get("session_holidays") or "")
    regular = SessionSpec(info.session or "24x7", holidays, str(extra.get("session-correction") or ""))
    return SymbolMetadata(
        instrument, timezone=info.timezone, regular=regular, extended=_extended(extra, holidays),
        delay=_int(extra.get("delay")), type=info.type, currency=info.currency, description=info.description,
        refreshed_at=now,
    )


def _extended(extra: dict[str, Any], holidays: str) -> SessionSpec | None:
    for sub in extra.get("subsessions") or ():
        if isinstance(sub, dict) and sub.get("id") in _EXTENDED_IDS and sub.get("session"):
            return SessionSpec(str(sub["session"]), holidays, str(sub.get("session-correction") or ""))
    text = extra.get("session_extended")
    return SessionSpec(str(text), holidays) if text else None


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
