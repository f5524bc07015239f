"""One page of `GET /ohlcv`, planned and encoded: which stored interval it reads, where it stops, what the
next page is, and its bytes, whole (small pages, cached) or streamed (large ones).

Rules (tests in tests/unit/market_data/test_pages.py and tests/e2e/test_ohlcv_formats.py):

* **Pages.** A page holds at most `limit` bars of [start, end], counted from the newest end, or from the
  oldest with `oldest_first`. When more bars lie beyond the page, `next` is the cursor of the following
  page: `before=<its oldest bar>` when counting from the newest end, `after=<its newest bar>` otherwise.
  Cursors are bar times, so a page never shifts when bars are written meanwhile: bars written beyond the
  cursor show up on later pages, bars written behind it were not asked for.
* **Resampling.** A page of an interval that is not stored (or with `resample_from`) is built from a finer
  stored interval by `domain.market_data.resample`; only whole target bars are served: a target bar whose
  source bars the range or the read cut is left to the neighbouring page. The source bars read are bounded
  (`MAX_RESAMPLE_SOURCE_BARS`), so a resampled page may hold fewer than `limit` bars and point to the next.
* **Flagged bars.** With `exclude_flagged`, the bars open or confirmed quality flags cover are left out
  after the page is planned: a page holds at most `limit` bars, fewer where flags cover some, and its
  cursor is where it would be without them, so paging visits every bar once. A resampled page is built
  from the finer series without its flagged bars.
* **Caching.** Pages of at most `cacheable_bars` bars are rendered whole and cached (the bytes with their
  meta data); larger pages are streamed and never cached, so no body larger than the near cache goes to
  Redis. At most `max_downloads` streamed pages run at once in this worker; another gets `Overloaded`.
"""

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

import orjson

from src.common.errors import InvalidRequest, NotFound, Overloaded
from src.common.ports import OHLCVRepository
from src.domain.market_data import BarColumns, Interval, SeriesKey, SessionCalendar
from src.domain.market_data.resample import can_resample, finer_sources, resample
from src.domain.quality.series import Span, outside
from src.features.market_data.messages import GetBarsQuery
from src.features.market_data.serialization import Encoder, JsonColumns, encoder, pieces_of

MAX_RESAMPLE_SOURCE_BARS = 1_000_000
PIECE_BARS = 50_000  # bars encoded per step of a resampled page
TEXT_SLICE_BARS = 1_024  # bars of JSON or CSV encoded at once on the event loop (about a millisecond)
_PERIOD_SECONDS = {Interval.D1: 86_400, Interval.W1: 7 * 86_400, Interval.MN1: 28 * 86_400}

type CalendarOf = Callable[[SeriesKey], Awaitable[SessionCalendar]]
type ExcludedOf = Callable[[SeriesKey], Awaitable[tuple[Span, ...]]]


@dataclass(frozen=True, slots=True)
class BarsPage:
    """What the route sends: the bytes (`body`, or `chunks` to stream) and the headers' facts."""

    media_type: str
    extension: str
    next_url: str | None
    resampled_from: Interval | None
    body: bytes | None = None
    chunks: AsyncIterator[bytes] | None = None

    async def read(self) -> bytes:
        if self.body is not None:
            return self.body
        assert self.chunks is not None
        return b"".join([chunk async for chunk in self.chunks])

    def packed(self) -> bytes:
        meta = {"media_type": self.media_type, "extension": self.extension, "next_url": self.next_url,
                "resampled_from": self.resampled_from.code if self.resampled_from else None}
        head = orjson.dumps(meta)
        return len(head).to_bytes(4, "big") + head + (self.body or b"")

    @classmethod
    def unpacked(cls, data: bytes) -> "BarsPage":
        size = int.from_bytes(data[:4], "big")
        meta = orjson.loads(data[4:4 + size])
        source = meta.pop("resampled_from")
        return cls(**meta, resampled_from=Interval.parse(source) if source else None, body=data[4 + size:])


class DownloadGate:
    """A bound on streamed pages running at once; refuses rather than queues (the client retries)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self.running = 0

    def enter(self) -> Callable[[], None]:
        """Take a place; returns its release, which frees it once however often it is called."""
        if self.running >= self._limit:
            raise Overloaded(f"{self._limit} large downloads are running; retry shortly")
        self.running += 1
        held = [True]

        def release() -> None:
            if held:
                held.clear()
                self.running -= 1

        return release

    @staticmethod
    def hold(chunks: AsyncIterator[bytes], release: Callable[[], None]) -> AsyncIterator[bytes]:
        """`chunks`, keeping a place taken by `enter` until they end, fail, or are dropped unread (a client
        gone before the body started), whichever comes first."""
        held = _released_after(chunks, release)
        weakref.finalize(held, release)
        return held


async def _released_after(chunks: AsyncIterator[bytes], release: Callable[[], None]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        release()


@dataclass(frozen=True, slots=True)
class Plan:
    """The range a page of stored bars covers, and the cursor of the next page."""

    start: int | None
    end: int | None
    next_cursor: tuple[str, int] | None


class PageRenderer:
    def __init__(self, bars: OHLCVRepository, calendar_of: CalendarOf, excluded_of: ExcludedOf) -> None:
        self._bars = bars
        self._calendar_of = calendar_of
        self._excluded_of = excluded_of

    async def source(self, query: GetBarsQuery) -> Interval:
        """The interval read: the asked one, `resample_from`, or the coarsest stored finer interval; NotFound
        when none is stored."""
        target = query.key.interval
        if query.resample_from is not None:
            if not can_resample(query.resample_from, target):
                raise InvalidRequest(f"{target.code} bars cannot be built from {query.resample_from.code} bars",
                                     field="resample_from")
            return query.resample_from
        if await self._bars.has_bars(query.key):
            return target
        for source in finer_sources(target) if query.auto_resample else ():
            if await self._bars.has_bars(replace(query.key, interval=source)):
                return source
        # A stored series with no bar in the asked range is an empty answer; a series never stored is none.
        raise NotFound(f"no bars are stored for {query.key}; sync it first", field="symbol")

    async def render(self, query: GetBarsQuery, url: str) -> BarsPage:
        """The page with a stream of its bytes; `url` (without a cursor) leads to the next page."""
        source = await self.source(query)
        codec = encoder(query.format, query.key)
        spans = await self._excluded_of(replace(query.key, interval=source)) if query.exclude_flagged else ()
        if source is query.key.interval:
            plan = await self._plan(query)
            pieces = _unflagged(self._stored(query, plan, codec.whole), spans)
            cursor = plan.next_cursor
        else:
            columns, cursor = await self._resampled(query, source, spans)
            pieces = _iterate(pieces_of(columns, len(columns) if codec.whole else PIECE_BARS))
        next_url = f"{url}&{cursor[0]}={cursor[1]}" if cursor else None
        resampled = source if source is not query.key.interval else None
        chunks = _encoded(codec, pieces, next_url)
        return BarsPage(codec.media_type, codec.extension, next_url, resampled, chunks=chunks)

    async def _plan(self, query: GetBarsQuery) -> Plan:
        edge, more = await self._bars.page(query.key, start=query.start, end=query.end, limit=query.limit,
                                           oldest_first=query.oldest_first)
        if edge is None:
            return Plan(query.start, query.end, None)
        if query.oldest_first:
            return Plan(query.start, edge, ("after", edge) if more else None)
        return Plan(edge, query.end, ("before", edge) if more else None)

    async def _stored(self, query: GetBarsQuery, plan: Plan, whole: bool) -> AsyncIterator[BarColumns]:
        stream = self._bars.stream(query.key, start=plan.start, end=plan.end, descending=query.descending)
        if not whole:
            async for piece in stream:
                yield piece
            return
        yield BarColumns.concat(query.key, [piece async for piece in stream])

    async def _resampled(self, query: GetBarsQuery, source: Interval,
                         spans: tuple[Span, ...]) -> tuple[BarColumns, tuple[str, int] | None]:
        target, calendar = query.key.interval, await self._calendar_of(query.key)
        lo, hi = query.start or 0, query.end
        if hi is not None:  # read the whole target bar the range ends in
            closes = calendar.bar_spans(target, hi, hi).closes
            hi = max(hi, int(closes[-1]) - 1) if closes.size else hi
        budget = min(MAX_RESAMPLE_SOURCE_BARS, (query.limit + 1) * _ratio(source, target))
        read = await self._bars.read(replace(query.key, interval=source), start=lo, end=hi, limit=budget,
                                     oldest_first=query.oldest_first)
        kept = _without_flagged(read, spans)
        built = await asyncio.to_thread(resample, kept, target, calendar)  # numpy work, off the event loop
        built = built.between(lo, query.end if query.end is not None else 1 << 62)
        if len(read) == budget and len(built):  # the read stopped inside a target bar: leave it out
            built = built.last(len(built) - 1) if not query.oldest_first else built.first(len(built) - 1)
        page = built.first(query.limit) if query.oldest_first else built.last(query.limit)
        more = len(built) > query.limit or len(read) == budget
        cursor = None
        if more and len(page):
            cursor = ("after", int(page.time[-1])) if query.oldest_first else ("before", int(page.time[0]))
        return (page.reversed() if query.descending else page), cursor


def _ratio(source: Interval, target: Interval) -> int:
    """How many source bars one target bar holds at most."""
    length = target.seconds if target.is_intraday else _PERIOD_SECONDS[target] + 3 * 86_400
    return max(1, -(-length // (source.seconds or _PERIOD_SECONDS[source])))


def cacheable_bars(query: GetBarsQuery) -> int:
    """An upper bound of the bars a page holds, known without reading: its limit, or fewer when the range
    is short."""
    if query.start is None or query.end is None:
        return query.limit
    step = query.key.interval.seconds if query.key.interval.is_intraday else _PERIOD_SECONDS[query.key.interval]
    return min(query.limit, max(0, (query.end - query.start) // step + 1))


async def _unflagged(pieces: AsyncIterator[BarColumns], spans: tuple[Span, ...]) -> AsyncIterator[BarColumns]:
    async for piece in pieces:
        yield _without_flagged(piece, spans)


def _without_flagged(piece: BarColumns, spans: tuple[Span, ...]) -> BarColumns:
    if not spans:
        return piece
    keep = outside(piece.time, spans)
    return piece.map(lambda column: column[keep])


async def _iterate(pieces: Iterable[BarColumns]) -> AsyncIterator[BarColumns]:
    for piece in pieces:
        yield piece


async def _encoded(codec: Encoder, pieces: AsyncIterator[BarColumns], next_url: str | None) -> AsyncIterator[bytes]:
    """The body a piece at a time, never holding the event loop for long: text is encoded on the loop in
    slices of `TEXT_SLICE_BARS` with other requests served in between; Arrow and Parquet in a worker thread
    (pyarrow releases the GIL while it encodes and compresses)."""
    yield codec.head()
    count = 0
    async for piece in pieces:
        count += len(piece)
        async for data in _slices(codec, piece):
            if data:
                yield data
            await asyncio.sleep(0)
    yield codec.tail(count, next_url)


async def _slices(codec: Encoder, piece: BarColumns) -> AsyncIterator[bytes]:
    if isinstance(codec, JsonColumns):
        for data in codec.parts(piece):
            yield data
    elif codec.text:
        for part in pieces_of(piece, TEXT_SLICE_BARS):
            yield codec.piece(part)
    else:
        yield await asyncio.to_thread(codec.piece, piece)
