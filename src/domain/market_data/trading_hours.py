"""A symbol's trading hours as its source describes them, and which of them its series follow.

`SymbolMetadata` is what a source says of one instrument (source + symbol): its time zone, its regular
session and, when the source has one, its extended-hours session (pre- and post-market), each in TradingView's
session syntax with holidays and corrections (`session_strings`), plus its delay, type and currency.

Rules:
* A source that names no session describes a symbol trading 24x7; one that names no time zone, UTC. Such a
  symbol's calendar is `SessionCalendar.always_open()`: its bars are the UTC grid, exactly as before symbols
  carried sessions.
* Every series of an instrument follows one session: the regular one, unless the user asked for extended
  hours (`extended_hours`) and the source has an extended session. History, live bars and coverage all use
  that session's calendar (`TradingHours`).
* A refresh from the source replaces what the source says and keeps what the user chose.
"""

from dataclasses import dataclass, replace

from src.domain.market_data.calendar import SessionCalendar
from src.domain.market_data.instrument import Instrument
from src.domain.market_data.session_strings import ALWAYS_OPEN
from src.domain.market_data.time_zone import TimeZoneRules

UTC_NAMES = frozenset({"", "UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu"})


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """One session in TradingView's syntax: `session`, `session_holidays`, `session-correction`."""

    session: str = ALWAYS_OPEN
    holidays: str = ""
    corrections: str = ""

    def calendar(self, time_zone: TimeZoneRules) -> SessionCalendar:
        return SessionCalendar.from_tradingview(time_zone, self.session or ALWAYS_OPEN, self.holidays,
                                                self.corrections)


@dataclass(frozen=True, slots=True)
class SymbolMetadata:
    instrument: Instrument
    timezone: str = ""  # IANA name; "" when the source names none (UTC)
    regular: SessionSpec = SessionSpec()
    extended: SessionSpec | None = None  # pre- and post-market included, when the source has them
    delay: int = 0  # seconds the source's data runs behind real time
    type: str = ""
    currency: str = ""
    description: str = ""
    extended_hours: bool = False  # the user's choice: follow the extended session
    refreshed_at: float = 0.0  # when the source was last asked (epoch seconds)

    @property
    def follows_extended(self) -> bool:
        return self.extended_hours and self.extended is not None

    @property
    def session(self) -> SessionSpec:
        """The session every series of the instrument follows."""
        return self.extended if self.follows_extended and self.extended is not None else self.regular

    @property
    def is_always_open_utc(self) -> bool:
        spec = self.session
        return (spec.session in ("", ALWAYS_OPEN) and not spec.holidays and not spec.corrections
                and self.timezone in UTC_NAMES)

    def refreshed(self, newer: "SymbolMetadata") -> "SymbolMetadata":
        """What the source says now (`newer`), with the user's choices kept."""
        return replace(newer, extended_hours=self.extended_hours)


@dataclass(frozen=True, slots=True)
class TradingHours:
    """The calendar a series follows, and whether it is the extended-hours one (the source is asked for
    extended-hours bars then)."""

    calendar: SessionCalendar
    extended: bool = False


ALWAYS_OPEN_HOURS = TradingHours(SessionCalendar.always_open())
