"""One small state-recording fake per port, for unit tests through the Mediator."""

import asyncio
import fnmatch
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from src.common.errors import Conflict, SymbolNotFound, UpstreamUnavailable
from src.common.ports import (
    BarColumns,
    DeadLetter,
    Provider,
    SeriesCoverage,
    StoredAlertRule,
    SymbolInfo,
    SymbolMatch,
    SyncStatusFilter,
    TrackedSymbol,
    alert_shard,
)
from src.domain.alerts import AlertTriggeredEvent
from src.domain.identity import ApiKey, RefreshToken, User
from src.domain.market_data import Instrument, Interval, OHLCVBar, SeriesKey, Symbol
from src.domain.market_data.trading_hours import SymbolMetadata, TradingHours
from src.domain.quality.series import SeriesQuality
from src.domain.sync.status import SyncState


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.value = now

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


class FakeProvider:
    """A source's history and symbol directory: serves bars from a dict per (symbol, interval); records
    every fetch."""

    def __init__(self) -> None:
        self.bars: dict[tuple[Symbol, Interval], list[OHLCVBar]] = {}
        self.infos: dict[Symbol, SymbolInfo] = {}  # what resolve_symbol answers (default: a 24x7 UTC symbol)
        self.fetches: list[tuple[Symbol, Interval, int]] = []
        self.ranges: list[tuple[Symbol, Interval, int, int]] = []
        self.hours: list[TradingHours | None] = []  # the `hours` of every fetch, in order
        self.resolved = 0
        self.unavailable = False
        self.gate: asyncio.Event | None = None  # when set, fetches wait for it

    def add_history(self, symbol: Symbol, interval: Interval, start: int, count: int, price: float = 100.0):
        t = interval.align(start)
        bars = []
        for i in range(count):
            p = price + i
            bars.append(OHLCVBar(interval, t, p, p + 1, p - 1, p + 0.5, 10.0 + i))
            t = interval.next_open(t)
        self.bars[(symbol, interval)] = bars
        return bars

    def add_bars_at(self, symbol: Symbol, interval: Interval, times, price: float = 100.0) -> list[OHLCVBar]:
        """History at the given open times (e.g. a session calendar's), in order."""
        bars = [OHLCVBar(interval, int(t), price + i, price + i + 1, price + i - 1, price + i + 0.5, 10.0 + i)
                for i, t in enumerate(sorted(times))]
        self.bars[(symbol, interval)] = bars
        return bars

    async def fetch_bars(self, symbol: Symbol, interval: Interval, n_bars: int, *,
                         hours: TradingHours | None = None) -> list[OHLCVBar]:
        self.fetches.append((symbol, interval, n_bars))
        self.hours.append(hours)
        if self.gate is not None:
            await self.gate.wait()
        if self.unavailable:
            raise UpstreamUnavailable("upstream down")
        if (symbol, interval) not in self.bars:
            raise SymbolNotFound(f"unknown symbol {symbol}", field="symbol")
        return self.bars[(symbol, interval)][-n_bars:]

    async def fetch_range(self, symbol: Symbol, interval: Interval, start: int, end: int, *,
                          hours: TradingHours | None = None) -> list[OHLCVBar]:
        self.ranges.append((symbol, interval, start, end))
        self.hours.append(hours)
        if self.unavailable:
            raise UpstreamUnavailable("upstream down")
        if (symbol, interval) not in self.bars:
            raise SymbolNotFound(f"unknown symbol {symbol}", field="symbol")
        return [b for b in self.bars[(symbol, interval)] if start <= b.time <= end]

    async def resolve_symbol(self, symbol: Symbol) -> SymbolInfo:
        self.resolved += 1
        if self.unavailable:
            raise UpstreamUnavailable("upstream down")
        if symbol in self.infos:
            return self.infos[symbol]
        if not any(s == symbol for s, _ in self.bars):
            raise SymbolNotFound(f"unknown symbol {symbol}", field="symbol")
        return SymbolInfo(symbol, description=f"{symbol.code} description", type="crypto", currency="USD")

    async def search_symbols(self, query: str, *, exchange: str | None = None) -> list[SymbolMatch]:
        return [SymbolMatch(s, f"{s.code} description") for s, _ in self.bars if query.upper() in s.code]


class FakeOHLCVRepository:
    """A dict of bars per series; reads rebuild the columns from it (a straightforward reimplementation)."""

    def __init__(self) -> None:
        self.series: dict[SeriesKey, dict[int, OHLCVBar]] = {}
        self.upserts = 0

    async def upsert(self, key: SeriesKey, bars: Sequence[OHLCVBar] | BarColumns) -> int:
        self.upserts += 1
        if isinstance(bars, BarColumns):
            bars = bars.check().to_bars()
        stored = self.series.setdefault(key, {})
        latest = {bar.time: bar for bar in bars}
        changed = sum(1 for bar in latest.values() if stored.get(bar.time) != bar)
        stored.update(latest)
        return changed

    async def read(self, key, *, start=None, end=None, limit=None, descending=False, oldest_first=False) -> BarColumns:
        bars = sorted(self.series.get(key, {}).values(), key=lambda b: b.time)
        bars = [b for b in bars if (start is None or b.time >= start) and (end is None or b.time <= end)]
        if limit is not None:
            bars = bars[:limit] if oldest_first else bars[-limit:] if limit else []
        if descending:
            bars.reverse()
        return BarColumns.from_bars(key, bars)

    async def stream(self, key, **options) -> AsyncIterator[BarColumns]:
        columns = await self.read(key, **options)
        for i in range(0, len(columns), 1000):
            yield columns.rows(i, i + 1000)

    async def page(self, key, *, start=None, end=None, limit, oldest_first=False) -> tuple[int | None, bool]:
        times = (await self.read(key, start=start, end=end, descending=not oldest_first)).time.tolist()
        return (times[limit - 1] if len(times) >= limit else None), len(times) > limit

    async def has_bars(self, key: SeriesKey) -> bool:
        return bool(self.series.get(key))

    async def coverage(self, key: SeriesKey) -> SeriesCoverage:
        times = sorted(self.series.get(key, {}))
        return SeriesCoverage(key, times[0] if times else None, times[-1] if times else None, len(times))

    async def remove(self, key: SeriesKey, times: Sequence[int]) -> int:
        stored = self.series.get(key, {})
        return sum(stored.pop(t, None) is not None for t in set(times))

    async def ensure_indexes(self) -> None:
        return None


class FakeSyncStatusRepository:
    def __init__(self) -> None:
        self.states: dict[SeriesKey, SyncState] = {}
        self.history: list[SyncState] = []

    async def get(self, key: SeriesKey) -> SyncState | None:
        return self.states.get(key)

    async def save(self, state: SyncState, *, expected_revision: int | None = None) -> bool:
        stored = self.states.get(state.key)
        if expected_revision is not None and (stored.revision if stored else 0) != expected_revision:
            return False
        self.states[state.key] = state
        self.history.append(state)
        return True

    async def list(self, where: SyncStatusFilter) -> list[SyncState]:
        return [
            s for s in self.states.values()
            if (where.source is None or s.key.source == where.source)
            and (where.exchange is None or s.key.symbol.exchange == where.exchange)
            and (where.symbol is None or s.key.symbol.code == where.symbol)
            and (where.interval is None or s.key.interval is where.interval)
            and (where.status is None or s.status is where.status)
        ]


class FakeRunOwner:
    """This process as a run owner; `gone` lists the owners to report as stopped."""

    def __init__(self, id: str = "test-process") -> None:
        self.id = id
        self.gone: set[str] = set()

    def is_gone(self, owner: str) -> bool:
        return owner in self.gone


class FakeSymbolRepository:
    def __init__(self) -> None:
        self.symbols: dict[Instrument, TrackedSymbol] = {}

    async def get(self, instrument: Instrument) -> TrackedSymbol | None:
        return self.symbols.get(instrument)

    async def save(self, tracked: TrackedSymbol) -> None:
        self.symbols[tracked.instrument] = replace(tracked)

    async def list(self, *, active_only: bool = True) -> list[TrackedSymbol]:
        return [t for t in self.symbols.values() if t.active or not active_only]

    async def delete(self, instrument: Instrument) -> bool:
        return self.symbols.pop(instrument, None) is not None


class FakeSymbolMetadataRepository:
    def __init__(self) -> None:
        self.metadata: dict[Instrument, SymbolMetadata] = {}
        self.saves = 0

    async def get(self, instrument: Instrument) -> SymbolMetadata | None:
        return self.metadata.get(instrument)

    async def save(self, metadata: SymbolMetadata) -> None:
        self.saves += 1
        self.metadata[metadata.instrument] = metadata


class FakeQualityRepository:
    """Each series' quality record, as saved (the list drops flags and history, as the store's does)."""

    def __init__(self) -> None:
        self.records: dict[SeriesKey, SeriesQuality] = {}
        self.saves = 0

    async def get(self, key: SeriesKey) -> SeriesQuality | None:
        return self.records.get(key)

    async def save(self, key: SeriesKey, quality: SeriesQuality) -> None:
        self.saves += 1
        self.records[key] = quality

    async def list(self) -> list[tuple[SeriesKey, SeriesQuality]]:
        return [(key, replace(q, flags=(), history=())) for key, q in self.records.items()]

    async def excluded_spans(self, key: SeriesKey) -> tuple[tuple[int, int], ...]:
        record = self.records.get(key)
        return record.excluded_spans() if record is not None else ()


class FakeDeadLetterRepository:
    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    async def add(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        return list(reversed(self.letters))[:limit]

    async def get(self, delivery_id: str) -> DeadLetter | None:
        return next((letter for letter in self.letters if letter.delivery_id == delivery_id), None)

    async def remove(self, letter: DeadLetter) -> None:
        self.letters = [kept for kept in self.letters if kept != letter]


class FakeWebhookSender:
    """Records what would be delivered."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, float, str | None]] = []
        self.redelivered: list[DeadLetter] = []

    async def send(self, event_type, data, *, occurred_at, correlation_id) -> None:
        self.sent.append((event_type, data, occurred_at, correlation_id))

    async def redeliver(self, letter) -> bool:
        self.redelivered.append(letter)
        return True


class FakeCache:
    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self.computed = 0

    async def get(self, key):
        return self.values.get(key)

    async def set(self, key, value, ttl_seconds):
        self.values[key] = value

    async def set_many(self, entries):
        for key, value, ttl_seconds in entries:
            await self.set(key, value, ttl_seconds)
        return 0

    async def delete(self, *keys):
        return sum(1 for k in keys if self.values.pop(k, None) is not None)

    async def delete_pattern(self, pattern):
        doomed = [k for k in self.values if fnmatch.fnmatchcase(k, pattern)]
        for k in doomed:
            del self.values[k]
        return len(doomed)

    async def get_or_set(self, key, ttl_seconds, compute):
        if key not in self.values:
            self.computed += 1
            self.values[key] = await compute()
        return self.values[key]

    async def ping(self):
        return True


class FakeQuoteFeed:
    """A `QuoteFeed`: records subscriptions; `await push(tick)` delivers a tick to the callbacks."""

    def __init__(self, unknown: set[Symbol] | None = None) -> None:
        self.unknown = unknown or set()
        self.subscribed: list[Symbol] = []
        self.callbacks: list = []
        self.connected = True
        self.reconnect_count = 0
        self.unsubscribe_calls: list[list[Symbol]] = []
        self.subscribe_calls: list[list[Symbol]] = []
        self.gate: asyncio.Event | None = None  # when set, subscribes wait for it (the snapshots are slow)

    async def subscribe(self, symbols) -> None:
        symbols = list(symbols)
        self.subscribe_calls.append(symbols)
        if self.gate is not None:
            await self.gate.wait()
        for symbol in symbols:
            if symbol not in self.unknown and symbol not in self.subscribed:
                self.subscribed.append(symbol)
        missing = [s for s in symbols if s in self.unknown]
        if missing:
            raise SymbolNotFound(f"unknown symbols: {', '.join(map(str, missing))}", field="symbol")

    async def unsubscribe(self, symbols) -> None:
        symbols = list(symbols)
        self.unsubscribe_calls.append(symbols)
        self.subscribed = [s for s in self.subscribed if s not in symbols]

    def add_quote_callback(self, callback) -> None:
        self.callbacks.append(callback)

    def remove_quote_callback(self, callback) -> None:
        if callback in self.callbacks:
            self.callbacks.remove(callback)

    @property
    def subscriptions(self) -> list[Symbol]:
        return list(self.subscribed)

    async def push(self, tick) -> None:
        for callback in list(self.callbacks):
            await callback(tick)


def fake_provider(source: str = "tradingview", history: FakeProvider | None = None,
                  quotes: "FakeQuoteFeed | None" = None) -> Provider:
    history = history or FakeProvider()
    return Provider(source, history=history, symbols=history, quotes=quotes)


class FakeUserRepository:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}

    async def get(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    async def get_by_name(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    async def add(self, user: User) -> None:
        if await self.get_by_name(user.username) is not None:
            raise Conflict(f"the username {user.username!r} is taken", field="username")
        self.users[user.user_id] = user

    async def save(self, user: User) -> None:
        self.users[user.user_id] = user

    async def list(self) -> list[User]:
        return sorted(self.users.values(), key=lambda u: u.username)

    async def count(self) -> int:
        return len(self.users)


class FakeApiKeyRepository:
    def __init__(self) -> None:
        self.keys: dict[str, ApiKey] = {}
        self.lookups = 0

    async def get(self, key_id: str) -> ApiKey | None:
        self.lookups += 1
        return self.keys.get(key_id)

    async def add(self, key: ApiKey) -> None:
        self.keys[key.key_id] = key

    async def save(self, key: ApiKey) -> None:
        self.keys[key.key_id] = key

    async def list(self, owner_id: str | None = None) -> list[ApiKey]:
        keys = [k for k in self.keys.values() if owner_id is None or k.owner_id == owner_id]
        return sorted(keys, key=lambda k: k.created_at, reverse=True)

    async def touch(self, key_id: str, used_at: float) -> None:
        if key_id in self.keys:
            self.keys[key_id] = self.keys[key_id].used(used_at)


class FakeRefreshTokenRepository:
    def __init__(self) -> None:
        self.tokens: dict[str, RefreshToken] = {}

    async def add(self, token: RefreshToken) -> None:
        self.tokens[token.token_digest] = token

    async def get(self, token_digest: str) -> RefreshToken | None:
        return self.tokens.get(token_digest)

    async def mark_used(self, token_digest: str, used_at: float) -> bool:
        token = self.tokens.get(token_digest)
        if token is None or token.used_at is not None or token.revoked_at is not None:
            return False
        self.tokens[token_digest] = replace(token, used_at=used_at)
        return True

    async def revoke_family(self, family_id: str, revoked_at: float) -> None:
        self._revoke(lambda t: t.family_id == family_id, revoked_at)

    async def revoke_user(self, user_id: str, revoked_at: float, *, keep_family: str | None = None) -> None:
        self._revoke(lambda t: t.user_id == user_id and t.family_id != keep_family, revoked_at)

    def _revoke(self, which, revoked_at: float) -> None:
        for digest, token in list(self.tokens.items()):
            if which(token) and token.revoked_at is None:
                self.tokens[digest] = replace(token, revoked_at=revoked_at)


class FakePasswordHasher:
    """Not a hash at all: Argon2's cost belongs to its own tests, not to every test that logs in."""

    async def hash(self, password: str) -> str:
        return "fake$" + password[::-1]

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "fake$" + password[::-1]


class FakeConsole:
    def __init__(self) -> None:
        self.shown: list[str] = []

    def show(self, text: str) -> None:
        self.shown.append(text)


class FakeAlertRuleRepository:
    """Alert rules by id with the revision check of the real one; `saves` counts writes."""

    def __init__(self) -> None:
        self.rules: dict[str, StoredAlertRule] = {}
        self.saves = 0

    async def add(self, rule, now):
        if rule.id in self.rules:
            raise Conflict(f"alert rule {rule.id} exists")
        self.rules[rule.id] = stored = StoredAlertRule(rule, 1, now, now)
        return stored

    async def get(self, rule_id):
        stored = self.rules.get(rule_id)
        return None if stored is None or stored.deleted else stored

    async def of_owner(self, owner, *, limit):
        live = [s for s in self.rules.values() if not s.deleted and owner in (None, s.rule.owner)]
        return sorted(live, key=lambda s: (s.created_at, s.rule.id))[:limit]

    async def save(self, rule, *, expected_revision, now, triggers=()):
        stored = self.rules.get(rule.id)
        if stored is None or stored.deleted or stored.revision != expected_revision:
            return None
        self.saves += 1
        self.rules[rule.id] = StoredAlertRule(rule, expected_revision + 1, stored.created_at,
                                              stored.updated_at if now is None else now,
                                              outbox=(*stored.outbox, *triggers))
        return expected_revision + 1

    async def clear_outbox(self, rule_id, trigger_counts):
        stored = self.rules[rule_id]
        kept = tuple(t for t in stored.outbox if t.trigger_count not in trigger_counts)
        self.rules[rule_id] = replace(stored, outbox=kept)

    async def delete(self, rule_id, *, now):
        stored = self.rules.get(rule_id)
        if stored is None or stored.deleted:
            return False
        self.rules[rule_id] = replace(stored, revision=stored.revision + 1, updated_at=now, deleted=True)
        return True

    async def in_shards(self, shards):
        wanted = set(shards)
        return [s for s in self.rules.values() if not s.deleted and alert_shard(s.rule.id) in wanted]

    async def changed_since(self, since, shards):
        wanted = set(shards)
        return [s for s in self.rules.values() if s.updated_at >= since and alert_shard(s.rule.id) in wanted]

    async def purge_deleted(self, before):
        gone = [i for i, s in self.rules.items() if s.deleted and s.updated_at < before]
        for rule_id in gone:
            del self.rules[rule_id]
        return len(gone)


class FakeAlertTriggerRepository:
    def __init__(self) -> None:
        self.triggers: dict[tuple[str, int], AlertTriggeredEvent] = {}

    async def add(self, event):
        key = (event.rule_id, event.trigger_count)
        if key in self.triggers:
            return False
        self.triggers[key] = event
        return True

    async def of_rule(self, rule_id, *, limit):
        found = [e for (r, _), e in self.triggers.items() if r == rule_id]
        return sorted(found, key=lambda e: -e.trigger_count)[:limit]

    async def remove_rule(self, rule_id):
        for key in [k for k in self.triggers if k[0] == rule_id]:
            del self.triggers[key]
