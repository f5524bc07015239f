"""`GET /v8/finance/chart/{symbol}`: the window a request selects, Yahoo's per-interval limits, and the
response (`chart.result[0]` with `meta`, `timestamp`, `indicators`, `events`).

Window rules: `period1`/`period2` (epoch seconds; `period2` defaults to now) select bars whose timestamp is in
[period1, period2); else `range` (default `1mo`): `1d`/`5d` are the newest 1 or 5 sessions that have started,
longer ranges count back from now (`ytd`: from January 1st, `max`: from the first trade). Limits, answered
422 "Unprocessable Entity": 1m only within the last 30 days and at most 8 days per request; other intervals
under a day only within the last 60 days; 60m/1h within the last 730 days.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from simulators.yahoo.calendars import Session
from simulators.yahoo.instruments import Instrument
from simulators.yahoo.market import Bars, YahooMarket
from simulators.yahoo.meta import current_trading_period, snapshot_meta, trading_periods

DAY = 86_400
INTRADAY_SECONDS = {"1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600, "90m": 5400,
                    "1h": 3600, "4h": 14_400}
PERIODIC = ("1d", "5d", "1wk", "1mo", "3mo")
INTERVALS = (*INTRADAY_SECONDS, *PERIODIC)
RANGES = ("1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max")
RANGE_DAYS = {"1mo": 31, "3mo": 92, "6mo": 183, "1y": 365, "2y": 730, "5y": 1826, "10y": 3652}
LOOKBACK_DAYS = {"1m": 30, "60m": 730, "1h": 730}
INTRADAY_LOOKBACK_DAYS = 60
ONE_MINUTE_SPAN_DAYS = 8


class ChartError(Exception):
    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def body(self) -> dict[str, Any]:
        return {"chart": {"result": None, "error": {"code": self.code, "description": self.description}}}


def not_found() -> ChartError:
    return ChartError(404, "Not Found", "No data found, symbol may be delisted")


@dataclass(frozen=True, slots=True)
class ChartRequest:
    interval: str
    first: int
    stop: int
    range: str  # "" for period1/period2 requests
    extended: bool
    events: frozenset[str]


def parse_request(query: dict[str, str], inst: Instrument, market: YahooMarket, now: float) -> ChartRequest:
    interval = query.get("interval", "1d")
    if interval not in INTERVALS:
        raise ChartError(400, "Bad Request", f"Invalid input - interval={interval} is not supported. "
                                             f"Valid intervals: [{', '.join(INTERVALS)}]")
    extended = query.get("includePrePost", "false").lower() == "true"
    events = frozenset(query.get("events", "").replace("|", ",").split(",")) - {""}
    if "period1" in query or "period2" in query:
        first, stop = _periods(query, now)
        request = ChartRequest(interval, first, stop, "", extended, events)
    else:
        request = _ranged(query.get("range", "1mo"), interval, inst, market, now, extended, events)
    _check_limits(request, now)
    return request


def _periods(query: dict[str, str], now: float) -> tuple[int, int]:
    try:
        first = int(float(query.get("period1", "0")))
        stop = int(float(query.get("period2", str(int(now)))))
    except ValueError as bad:
        raise ChartError(400, "Bad Request", "Invalid input - period1 and period2 must be epoch seconds") from bad
    if stop < first:
        raise ChartError(400, "Bad Request", f"Invalid input - start date cannot be after end date. "
                                             f"startDate = {first}, endDate = {stop}")
    return first, min(stop, int(now) + 60)


def _ranged(name: str, interval: str, inst: Instrument, market: YahooMarket, now: float, extended: bool,
            events: frozenset[str]) -> ChartRequest:
    if name not in RANGES:
        raise ChartError(422, "Unprocessable Entity", f"Invalid input - range={name} is not supported. "
                                                      f"Valid ranges: [{', '.join(RANGES)}]")
    stop = int(now) + 60
    if name in ("1d", "5d"):
        sessions = inst.calendar.latest_sessions(now, int(name[0]), extended)
        first = (sessions[0].pre_start if extended else sessions[0].start) if sessions else stop
        if interval in PERIODIC and sessions:
            first = min(first, _local_midnight(inst, sessions[0].day))
    elif name == "ytd":
        first = _local_midnight(inst, date(inst.calendar.local_date(now).year, 1, 1))
    elif name == "max":
        first = _max_start(interval, inst, now)
    else:
        first = int(now) - RANGE_DAYS[name] * DAY
    return ChartRequest(interval, first, stop, name, extended, events)


def _max_start(interval: str, inst: Instrument, now: float) -> int:
    lookback = _lookback(interval)
    earliest = _local_midnight(inst, inst.first_trade)
    if lookback is None:
        return earliest
    span = ONE_MINUTE_SPAN_DAYS if interval == "1m" else lookback
    return max(earliest, int(now) - span * DAY + 60)


def _lookback(interval: str) -> int | None:
    if interval not in INTRADAY_SECONDS:
        return None
    return LOOKBACK_DAYS.get(interval, INTRADAY_LOOKBACK_DAYS)


def _check_limits(request: ChartRequest, now: float) -> None:
    lookback = _lookback(request.interval)
    if lookback is None:
        return
    prefix = f"{request.interval} data not available for startTime={request.first} and endTime={request.stop}."
    if request.first < now - lookback * DAY:
        raise ChartError(422, "Unprocessable Entity",
                         f"{prefix} The requested range must be within the last {lookback} days.")
    if request.interval == "1m" and request.stop - request.first > ONE_MINUTE_SPAN_DAYS * DAY:
        raise ChartError(422, "Unprocessable Entity", f"{prefix} Only {ONE_MINUTE_SPAN_DAYS} days worth of 1m "
                                                      "granularity data are allowed to be fetched per request.")


def _local_midnight(inst: Instrument, day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), inst.calendar.zone).timestamp())


# --- the response ------------------------------------------------------------------------------------


def chart_body(request: ChartRequest, inst: Instrument, market: YahooMarket, now: float) -> dict[str, Any]:
    calendar = inst.calendar
    earliest = max(request.first, _local_midnight(inst, inst.first_trade))
    sessions = calendar.sessions_between(earliest, max(earliest + 1, request.stop)) if earliest < request.stop \
        else []
    if request.interval in INTRADAY_SECONDS:
        bars = market.intraday(inst, sessions, INTRADAY_SECONDS[request.interval], request.extended,
                               request.first, request.stop, now)
    else:
        started = [s for s in sessions if s.start <= now]
        bars = market.periodic(inst, started, request.interval, now)
        bars = _within(bars, request, inst)
    result: dict[str, Any] = {"meta": _meta(request, inst, market, sessions, bars, now)}
    if bars.timestamps:
        result["timestamp"] = bars.timestamps
        result["events"] = _events(request, inst, market, now)
        if not result["events"]:
            del result["events"]
    result["indicators"] = _indicators(request, inst, market, bars, now)
    return {"chart": {"result": [result], "error": None}}


def _within(bars: Bars, request: ChartRequest, inst: Instrument) -> Bars:
    """Daily+ bars: those whose period overlaps the window (a 1wk bar may be stamped before `first`)."""
    keep = [i for i, day in enumerate(bars.last_days) if _local_midnight(inst, day) + DAY > request.first
            and bars.timestamps[i] < request.stop]

    def pick(values: list[Any]) -> list[Any]:
        return [values[i] for i in keep]

    return Bars(pick(bars.timestamps), pick(bars.open), pick(bars.high), pick(bars.low), pick(bars.close),
                pick(bars.volume), pick(bars.last_days))


def _indicators(request: ChartRequest, inst: Instrument, market: YahooMarket, bars: Bars,
                now: float) -> dict[str, Any]:
    if not bars.timestamps:
        return {"quote": [{}]}
    quote = {"open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close, "volume": bars.volume}
    indicators: dict[str, Any] = {"quote": [quote]}
    if request.interval in PERIODIC:
        factors = dividend_factors(inst, market, bars.last_days, now)
        indicators["adjclose"] = [{"adjclose": [None if c is None else round(c * f, 6)
                                                for c, f in zip(bars.close, factors, strict=True)]}]
    return indicators


def dividends(inst: Instrument, market: YahooMarket, first: date, last: date) -> list[Session]:
    calendar = inst.calendar
    days = inst.dividend_dates(first, last, lambda d: calendar.session(d) is not None)
    return [s for s in (calendar.session(d) for d in days) if s is not None]


def dividend_factors(inst: Instrument, market: YahooMarket, last_days: list[date], now: float) -> list[float]:
    """Per bar, the product of (1 - amount / previous close) over the dividends after its last day."""
    if not inst.dividend_months or not last_days:
        return [1.0] * len(last_days)
    today = inst.calendar.local_date(now)
    ex_dates = dividends(inst, market, min(last_days) + timedelta(days=1), today)
    ratios = [(ex.day, 1 - inst.dividend_amount / _previous_close(inst, market, ex, now)) for ex in ex_dates]
    factors = []
    for day in last_days:
        factor = 1.0
        for ex_day, ratio in ratios:
            if ex_day > day:
                factor *= ratio
        factors.append(factor)
    return factors


def _previous_close(inst: Instrument, market: YahooMarket, ex: Session, now: float) -> float:
    previous = inst.calendar.latest_sessions(ex.start - 1, 1, False)
    close = market.last_close(inst, previous[0], now) if previous else None
    return close or inst.price


def _events(request: ChartRequest, inst: Instrument, market: YahooMarket, now: float) -> dict[str, Any]:
    events: dict[str, Any] = {}
    first_day = inst.calendar.local_date(request.first)
    last_day = inst.calendar.local_date(min(request.stop, now) - 1)
    if "div" in request.events and inst.dividend_months:
        paid = dividends(inst, market, first_day, last_day)
        if paid:
            events["dividends"] = {str(s.start): {"amount": inst.dividend_amount, "date": s.start} for s in paid}
    if "split" in request.events or "splits" in request.events:
        found = [(inst.calendar.session(s.day), s) for s in inst.splits if first_day <= s.day <= last_day]
        splits = {str(sess.start): {"date": sess.start, "numerator": float(s.numerator),
                                    "denominator": float(s.denominator), "splitRatio": f"{s.numerator}:{s.denominator}"}
                  for sess, s in found if sess is not None}
        if splits:
            events["splits"] = splits
    return events


def _meta(request: ChartRequest, inst: Instrument, market: YahooMarket, sessions: list[Session], bars: Bars,
          now: float) -> dict[str, Any]:
    meta = snapshot_meta(inst, market, now)
    previous = inst.calendar.latest_sessions(min(request.first, now) - 1, 1, False) if bars.timestamps else []
    meta["chartPreviousClose"] = market.last_close(inst, previous[0], now) if previous else None
    if request.range:
        meta["previousClose"], meta["scale"] = meta["chartPreviousClose"], 3
    meta["priceHint"] = inst.price_hint
    meta["currentTradingPeriod"] = current_trading_period(inst, now)
    if request.interval in INTRADAY_SECONDS and sessions:
        meta["tradingPeriods"] = trading_periods(inst, sessions, request.extended)
    meta.update(dataGranularity=request.interval, range=request.range, validRanges=list(RANGES))
    return meta
