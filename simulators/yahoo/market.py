"""Bars of the simulated Yahoo instruments, built from each instrument's seeded `MinutePath`.

Rules:
- A 1m bar exists for every minute of a session segment (pre-market, regular, post-market) that has started
  by now; the current minute is included as it stands. Extended-hours minutes carry a tenth of the volume.
- Some regular minutes of thinly traded instruments have no trades: their 1m bar is all nulls and coarser bars
  aggregate only the minutes that traded (a bar with none is all nulls).
- Intraday bars open at the start of their segment and every interval after it (09:30, 10:30, ... for 1h on
  a US exchange), the last one cut at the segment's end. A daily bar aggregates the regular session and is
  stamped at its open; 5d/1wk/1mo/3mo bars aggregate their sessions and are stamped at local midnight of the
  first day of the period (5d: groups of five sessions from the first one requested).
"""

import zlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np

from simulators.common.pricepath import CLOSE, HIGH, LOW, OPEN, VOLUME, MinutePath, aggregate
from simulators.yahoo.calendars import Session
from simulators.yahoo.instruments import Instrument

EXTENDED_VOLUME_SHARE = 10  # extended-hours minutes carry 1/10 of the volume


@dataclass(frozen=True, slots=True)
class Bars:
    """Parallel arrays as the chart endpoint sends them; None marks a bar without trades."""

    timestamps: list[int]
    open: list[float | None]
    high: list[float | None]
    low: list[float | None]
    close: list[float | None]
    volume: list[int | None]
    last_days: list[date]  # the last session day in each bar (for adjclose)


class YahooMarket:
    def __init__(self, instruments: dict[str, Instrument], seed: int) -> None:
        self.instruments = instruments
        self.seed = seed
        self._paths = {name: _path(seed, inst) for name, inst in instruments.items()}
        self._daily: dict[tuple[str, date], np.ndarray | None] = {}

    # --- minutes -------------------------------------------------------------------------------------

    def segments(self, session: Session, extended: bool) -> list[tuple[int, int, bool]]:
        """(start, end, regular) of the session's non-empty segments, in seconds."""
        parts = [(session.pre_start, session.start, False), (session.start, session.end, True),
                 (session.end, session.post_end, False)]
        return [p for p in parts if p[0] < p[1] and (extended or p[2])]

    def minutes(self, inst: Instrument, start: int, end: int, regular: bool) -> tuple[np.ndarray, np.ndarray]:
        """Rows (ticks, shares) of minutes in [start, end) seconds, and the mask of minutes that traded."""
        first, stop = start // 60, end // 60
        rows = self._paths[inst.symbol].minutes(first, stop).copy()
        if not regular:
            rows[:, VOLUME] //= EXTENDED_VOLUME_SHARE
        if not inst.has_volume:
            rows[:, VOLUME] = 0
        return rows, self._traded(inst, first, stop, regular)

    def _traded(self, inst: Instrument, first: int, stop: int, regular: bool) -> np.ndarray:
        if not regular or not inst.no_trade_share:
            return np.ones(stop - first, dtype=bool)
        salt = zlib.crc32(f"{self.seed}:{inst.symbol}:quiet".encode())
        hashed = (np.arange(first, stop, dtype=np.int64) * 2_654_435_761 + salt) % 10_000
        return hashed >= inst.no_trade_share * 10_000

    # --- intraday ------------------------------------------------------------------------------------

    def intraday(self, inst: Instrument, sessions: list[Session], step: int, extended: bool, first: int,
                 stop: int, now: float) -> Bars:
        """Bars of `step` seconds opening in [first, stop) and by `now`."""
        out = _Builder(inst)
        for session in sessions:
            for start, end, regular in self.segments(session, extended):
                self._segment(out, inst, session.day, (start, min(end, int(now) // 60 * 60 + 60), end),
                              regular, step, (first, stop))
        return out.bars()

    def _segment(self, out: "_Builder", inst: Instrument, day: date, span: tuple[int, int, int], regular: bool,
                 step: int, window: tuple[int, int]) -> None:
        start, available_end, end = span
        if available_end <= start:
            return
        rows, traded = self.minutes(inst, start, min(available_end, end), regular)
        groups = (np.arange(len(rows)) * 60) // step
        opens = start + np.unique(groups) * step
        kept = rows[traded]
        kept_groups = groups[traded]
        present, first_index = np.unique(kept_groups, return_index=True)
        aggregated = aggregate(kept, first_index) if len(kept) else kept
        by_group = dict(zip(present.tolist(), range(len(present)), strict=True))
        for group, open_time in zip(np.unique(groups).tolist(), opens.tolist(), strict=True):
            if window[0] <= open_time < window[1]:
                index = by_group.get(group)
                out.add(open_time, None if index is None else aggregated[index], day)

    # --- daily and coarser ---------------------------------------------------------------------------

    def session_bar(self, inst: Instrument, session: Session, now: float) -> np.ndarray | None:
        """The regular session aggregated (ticks, shares), None when nothing traded yet."""
        key = (inst.symbol, session.day)
        if key in self._daily:
            return self._daily[key]
        end = min(session.end, int(now) // 60 * 60 + 60)
        row = None
        if end > session.start:
            rows, traded = self.minutes(inst, session.start, end, True)
            row = aggregate(rows[traded], np.array([0]))[0] if traded.any() else None
        if session.end <= now:
            self._daily[key] = row
        return row

    def periodic(self, inst: Instrument, sessions: list[Session], period: str, now: float) -> Bars:
        out = _Builder(inst)
        for stamp, members in _group_sessions(inst, sessions, period):
            rows = [r for r in (self.session_bar(inst, s, now) for s in members) if r is not None]
            row = aggregate(np.array(rows), np.array([0]))[0] if rows else None
            out.add(stamp, row, members[-1].day)
        return out.bars()

    def last_close(self, inst: Instrument, session: Session, now: float) -> float | None:
        row = self.session_bar(inst, session, now)
        return None if row is None else int(row[CLOSE]) / inst.intraday_ticks


class _Builder:
    def __init__(self, inst: Instrument) -> None:
        self.scale = inst.intraday_ticks
        self.timestamps: list[int] = []
        self.values: list[list[float | None]] = [[], [], [], []]
        self.volume: list[int | None] = []
        self.last_days: list[date] = []

    def add(self, timestamp: int, row: np.ndarray | None, last_day: date) -> None:
        self.timestamps.append(int(timestamp))
        self.last_days.append(last_day)
        for column, values in zip((OPEN, HIGH, LOW, CLOSE), self.values, strict=True):
            values.append(None if row is None else int(row[column]) / self.scale)
        self.volume.append(None if row is None else int(row[VOLUME]))

    def bars(self) -> Bars:
        opens, highs, lows, closes = self.values
        return Bars(self.timestamps, opens, highs, lows, closes, self.volume, self.last_days)


def _path(seed: int, inst: Instrument) -> MinutePath:
    origin = (inst.first_trade - date(1970, 1, 1)).days
    return MinutePath(seed, inst.symbol, start_ticks=round(inst.price * inst.intraday_ticks),
                      sigma=inst.volatility, lots_per_minute=max(inst.shares_per_minute, 1.0), origin_day=origin)


def _period_key(period: str) -> Callable[[date], Hashable]:
    return {
        "1d": lambda d: d,
        "1wk": lambda d: d - timedelta(days=d.weekday()),
        "1mo": lambda d: (d.year, d.month),
        "3mo": lambda d: (d.year, (d.month - 1) // 3),
    }[period]


def _period_start(period: str, day: date) -> date:
    if period == "1wk":
        return day - timedelta(days=day.weekday())
    if period == "1mo":
        return day.replace(day=1)
    if period == "3mo":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day


def _group_sessions(inst: Instrument, sessions: list[Session], period: str) -> list[tuple[int, list[Session]]]:
    if period == "1d":
        return [(s.start, [s]) for s in sessions]
    if period == "5d":
        chunks = [sessions[i:i + 5] for i in range(0, len(sessions), 5)]
        return [(_midnight(inst, chunk[0].day), chunk) for chunk in chunks]
    key = _period_key(period)
    groups: dict[Hashable, list[Session]] = {}
    for session in sessions:
        groups.setdefault(key(session.day), []).append(session)
    return [(_midnight(inst, _period_start(period, members[0].day)), members) for members in groups.values()]


def _midnight(inst: Instrument, day: date) -> int:
    return int(datetime.combine(day, time(0), inst.calendar.zone).timestamp())
