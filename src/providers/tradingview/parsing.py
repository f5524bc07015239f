"""Server payloads → domain objects: bars from `timescale_update`/`du`, symbol metadata, search results,
and merged quotes from `qsd`."""

import gc
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from src.common.ports import SymbolInfo, SymbolMatch
from src.domain.errors import DomainError
from src.domain.market_data import Interval, OHLCVBar, QuoteTick, Symbol

_EM = re.compile(r"</?em>")
_DELAYED = re.compile(r"delayed_streaming_(\d+)")
_FIELDS = ("interval", "time", "open", "high", "low", "close", "volume", "partial")
# Slot setters of the frozen bar: the fast path below assigns through them once it has checked every
# invariant `OHLCVBar.__post_init__` checks (a test keeps the two in agreement).
_SET = tuple(getattr(OHLCVBar, name).__set__ for name in _FIELDS)
_new = object.__new__


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one bounded, synchronous burst of allocations.

    A 5,000-bar page allocates 5,000 tracked objects that cannot form cycles; letting generation-0
    collections scan them repeatedly costs about a quarter of the decode time. The pause lasts one call,
    never spans an await, and restores the previous state (an application that disabled GC keeps it so).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_bars(rows: Iterable[Any], interval: Interval) -> tuple[list[OHLCVBar], int]:
    """Bars from the `s` list of a series (`[{"i": n, "v": [time, o, h, l, c, volume?]}, ...]`).

    Times are kept as TradingView sends them, whole seconds: bar opens of the symbol's session (NASDAQ 1h at
    13:30 UTC, daily bars at the session open, futures' daily bars the evening before), never moved here;
    the sync checks them against the symbol's calendar. A missing volume becomes 0.0. Rows that break a bar
    invariant are skipped and counted. Returns (bars, skipped).
    """
    with _gc_paused():
        return _parse_bars(rows, interval)


def _parse_bars(rows: Iterable[Any], interval: Interval) -> tuple[list[OHLCVBar], int]:
    set_iv, set_t, set_o, set_h, set_l, set_c, set_v, set_p = _SET
    isfinite = math.isfinite
    bars: list[OHLCVBar] = []
    append = bars.append
    skipped = 0
    for row in rows:
        try:
            v = row["v"]
            t, o, h, lo, c = v[0], float(v[1]), float(v[2]), float(v[3]), float(v[4])
            vol = float(v[5]) if len(v) > 5 and v[5] is not None else 0.0
            ts = int(t)
        except (TypeError, KeyError, IndexError, ValueError, OverflowError):
            skipped += 1
            continue
        # Sum is finite only if every term is; on overflow the validated constructor decides.
        if (lo <= o <= h and lo <= c <= h and vol >= 0.0 and ts >= 0
                and isfinite(o + h + lo + c + vol)):
            bar = _new(OHLCVBar)
            set_iv(bar, interval)
            set_t(bar, ts)
            set_o(bar, o)
            set_h(bar, h)
            set_l(bar, lo)
            set_c(bar, c)
            set_v(bar, vol)
            set_p(bar, False)
            append(bar)
            continue
        try:
            append(OHLCVBar(interval, ts, o, h, lo, c, vol))
        except DomainError:
            skipped += 1
    return bars, skipped


def series_rows(params: list[Any], series_id: str) -> list[Any]:
    """The bar rows for `series_id` in a `timescale_update`/`du` params list (may be empty)."""
    if len(params) < 2 or not isinstance(params[1], dict):
        return []
    series = params[1].get(series_id)
    if not isinstance(series, dict):
        return []
    rows = series.get("s")
    return rows if isinstance(rows, list) else []


def symbol_info(symbol: Symbol, info: dict[str, Any]) -> SymbolInfo:
    extra_keys = ("name", "full_name", "pro_name", "exchange", "listed_exchange", "pricescale", "minmov",
                  "minmove2", "has_intraday", "update_mode", "delay", "typespecs", "session_holidays",
                  "session-correction", "subsessions")
    return SymbolInfo(
        symbol=symbol,
        description=str(info.get("description") or ""),
        type=str(info.get("type") or ""),
        currency=str(info.get("currency_code") or ""),
        timezone=str(info.get("timezone") or ""),
        session=str(info.get("session") or ""),
        extra={k: info[k] for k in extra_keys if k in info},
    )


def strip_highlight(text: str) -> str:
    return _EM.sub("", text)


def search_matches(body: Any) -> list[SymbolMatch]:
    """Matches from a v3 search response (`{"symbols_remaining": n, "symbols": [...]}`); a bare list,
    the legacy shape, is accepted too. Entries without a usable `EXCHANGE:CODE` are skipped."""
    items = body.get("symbols", []) if isinstance(body, dict) else body
    matches: list[SymbolMatch] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        code = strip_highlight(str(item.get("symbol") or ""))
        exchange = str(item.get("prefix") or str(item.get("exchange") or "").split(" ")[0])
        try:
            symbol = Symbol(exchange, code)
        except DomainError:
            continue
        matches.append(SymbolMatch(
            symbol=symbol,
            description=strip_highlight(str(item.get("description") or "")),
            type=str(item.get("type") or ""),
            currency=str(item.get("currency_code") or ""),
            country=str(item.get("country") or ""),
        ))
    return matches


class QuoteBook:
    """Full quotes per symbol string, built by merging partial `qsd` values."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[str, Any]] = {}

    def merge(self, name: str, values: dict[str, Any]) -> dict[str, Any]:
        merged = self._fields.setdefault(name, {})
        merged.update(values)
        return merged

    def get(self, name: str) -> dict[str, Any] | None:
        return self._fields.get(name)

    def forget(self, name: str) -> None:
        self._fields.pop(name, None)


def quote_tick(symbol: Symbol, fields: dict[str, Any]) -> QuoteTick | None:
    """The tick a merged quote describes, or None while it lacks a price or a trade time."""
    price, when = fields.get("lp"), fields.get("lp_time")
    if price is None or when is None:
        return None
    try:
        return QuoteTick(
            symbol=symbol,
            time=float(when),
            price=float(price),
            cumulative_volume=_optional_float(fields.get("volume")),
            bid=_optional_float(fields.get("bid")),
            ask=_optional_float(fields.get("ask")),
            change=_optional_float(fields.get("ch")),
            change_percent=_optional_float(fields.get("chp")),
            delay=declared_delay(fields.get("update_mode")),
        )
    except (DomainError, TypeError, ValueError):
        return None


def declared_delay(update_mode: Any) -> float:
    """Seconds a quote's trade times run behind real time, from its `update_mode` (`delayed_streaming_900`)."""
    match = _DELAYED.fullmatch(update_mode) if isinstance(update_mode, str) else None
    return float(match[1]) if match else 0.0


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
