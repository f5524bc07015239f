"""Ports: what the application needs from the outside world, as Protocols. Adapters live in
`src.infrastructure` and satisfy these structurally; handlers depend only on these."""

import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from src.domain.alerts import AlertRule, AlertTriggeredEvent
from src.domain.identity import ApiKey, Principal, RefreshToken, User
from src.domain.market_data import Instrument, Interval, OHLCVBar, QuoteTick, SeriesKey, Symbol
from src.domain.market_data.columns import BarColumns as BarColumns  # noqa: PLC0414 - re-exported for the port users
from src.domain.market_data.trading_hours import SymbolMetadata, TradingHours
from src.domain.quality.series import SeriesQuality, Span
from src.domain.sync.status import SyncState, SyncStatus


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds, UTC."""
        ...


# --- storage -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesCoverage:
    key: SeriesKey
    first_bar_time: int | None
    last_bar_time: int | None
    bar_count: int
    # [start, end] ranges (inclusive, bar open times) of expected but missing bars: the UTC grid's intraday
    # bars from the store; every interval's calendar bars once `coverage_on_calendar` counted them.
    gaps: tuple[tuple[int, int], ...] = ()
    missing_bars: int = 0
    misplaced_bars: int = 0  # stored at times that are no bar open of the symbol's calendar (a repair replaces them)


class OHLCVRepository(Protocol):
    """Stored bars, column by column (`BarColumns`: numpy arrays, no object per bar)."""

    async def upsert(self, key: SeriesKey, bars: Sequence[OHLCVBar] | BarColumns) -> int:
        """Store bars idempotently (last write wins per timestamp, the rules of `BarColumns.check` enforced);
        returns how many were new or changed."""
        ...

    async def read(
        self,
        key: SeriesKey,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        descending: bool = False,
        oldest_first: bool = False,
    ) -> BarColumns:
        """Bars with start <= time <= end; with `limit`, the newest `limit` of them (the oldest with
        `oldest_first`); in the asked order."""
        ...

    def stream(
        self,
        key: SeriesKey,
        *,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
        descending: bool = False,
        oldest_first: bool = False,
    ) -> AsyncIterator[BarColumns]:
        """What `read` returns, in consecutive pieces (each in the asked order), holding only a few at a time."""
        ...

    async def page(
        self, key: SeriesKey, *, start: int | None = None, end: int | None = None, limit: int,
        oldest_first: bool = False,
    ) -> tuple[int | None, bool]:
        """Where `limit` bars counted from the newest (oldest) end of [start, end] stop: the time of the last
        one counted (None when the range holds fewer) and whether more bars lie beyond it."""
        ...

    async def has_bars(self, key: SeriesKey) -> bool: ...

    async def coverage(self, key: SeriesKey) -> SeriesCoverage: ...

    async def remove(self, key: SeriesKey, times: Sequence[int]) -> int:
        """Delete the bars stored at `times` (bars at no bar open of the series' calendar, found by a repair);
        returns how many were stored."""
        ...

    async def ensure_indexes(self) -> None: ...


class QualityRepository(Protocol):
    """Each series' quality record (`SeriesQuality`: results, score, flags, score history), one document per
    series: never a document per bar."""

    async def get(self, key: SeriesKey) -> SeriesQuality | None: ...

    async def save(self, key: SeriesKey, quality: SeriesQuality) -> None: ...

    async def list(self) -> list[tuple[SeriesKey, SeriesQuality]]:
        """Every series' record without its flags and history (the summary's read)."""
        ...

    async def excluded_spans(self, key: SeriesKey) -> tuple[Span, ...]:
        """The bars `exclude_flagged=true` leaves out of the series (`SeriesQuality.excluded_spans`)."""
        ...


@dataclass(frozen=True, slots=True)
class SyncStatusFilter:
    source: str | None = None
    exchange: str | None = None
    symbol: str | None = None
    interval: Interval | None = None
    status: SyncStatus | None = None


class SyncStatusRepository(Protocol):
    async def get(self, key: SeriesKey) -> SyncState | None: ...

    async def save(self, state: SyncState, *, expected_revision: int | None = None) -> bool:
        """Store `state`. With `expected_revision` only over that stored revision (0: nothing stored yet),
        atomically: False, and nothing written, when another writer changed the status since."""
        ...

    async def list(self, where: SyncStatusFilter) -> list[SyncState]: ...


class RunOwner(Protocol):
    """This process as the owner of sync runs, and what it can tell about other owners."""

    @property
    def id(self) -> str: ...

    def is_gone(self, owner: str) -> bool:
        """True when `owner` is known to have stopped (e.g. a dead process on this host); False when it
        may still live (then its lease decides)."""
        ...


@dataclass(frozen=True, slots=True)
class TrackedSymbol:
    symbol: Symbol
    source: str
    description: str = ""
    type: str = ""
    currency: str = ""
    active: bool = True
    intervals: tuple[Interval, ...] = ()
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def instrument(self) -> Instrument:
        return Instrument(self.source, self.symbol)


class SymbolMetadataRepository(Protocol):
    """What each source said of each instrument (time zone, sessions, ...), kept with the user's choices."""

    async def get(self, instrument: Instrument) -> SymbolMetadata | None: ...

    async def save(self, metadata: SymbolMetadata) -> None: ...


class SymbolRepository(Protocol):
    async def get(self, instrument: Instrument) -> TrackedSymbol | None: ...

    async def save(self, tracked: TrackedSymbol) -> None: ...

    async def list(self, *, active_only: bool = True) -> list[TrackedSymbol]: ...

    async def delete(self, instrument: Instrument) -> bool: ...


class Cache(Protocol):
    """Values are JSON-like (dict/list/str/number/bool/None, datetimes) or bytes."""

    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl_seconds: float) -> None: ...

    async def set_many(self, entries: Sequence[tuple[str, Any, float]]) -> int:
        """Write every `(key, value, ttl_seconds)` in batches (one round trip per batch, not per key);
        returns how many entries could not be written (0: all were). Never raises for an outage."""
        ...

    async def delete(self, *keys: str) -> int: ...

    async def delete_pattern(self, pattern: str) -> int:
        """Delete keys matching a glob pattern (`*`, `?`)."""
        ...

    async def get_or_set(self, key: str, ttl_seconds: float, compute: Callable[[], Awaitable[Any]]) -> Any:
        """Cached value, or `compute()` stored; concurrent misses on one key compute once."""
        ...

    async def ping(self) -> bool: ...


# --- market data providers (TradingView, and one adapter package per further source) --------------


@dataclass(frozen=True, slots=True)
class SymbolInfo:
    symbol: Symbol
    description: str = ""
    type: str = ""
    currency: str = ""
    timezone: str = ""
    session: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SymbolMatch:
    symbol: Symbol
    description: str = ""
    type: str = ""
    currency: str = ""
    country: str = ""
    source: str = ""


class SourceBars(list[OHLCVBar]):
    """A history provider's answer: its bars, and how many rows the source sent that were no valid bar (a
    high below the low, a negative volume, a missing price), which the adapter skipped. A sync counts those
    as rejected upstream."""

    def __init__(self, bars: Iterable[OHLCVBar] = (), *, unusable: int = 0) -> None:
        super().__init__(bars)
        self.unusable = unusable


class HistoryProvider(Protocol):
    """A source's bar history. Both methods return bars oldest first, unique by time, stamped at their open
    as the source stamps them (a source whose own stamps differ from the calendar's rule stamps them by
    `hours.calendar`), and raise SymbolNotFound, UpstreamUnavailable or UpstreamRejected. `hours` is the
    calendar the series follows (None: the source's regular session, 24x7 UTC where it has no other);
    with `hours.extended` the source is asked for extended-hours bars."""

    async def fetch_bars(self, symbol: Symbol, interval: Interval, n_bars: int, *,
                         hours: TradingHours | None = None) -> list[OHLCVBar]:
        """The newest `n_bars` bars (fewer if history is shorter), the forming bar included."""
        ...

    async def fetch_range(self, symbol: Symbol, interval: Interval, start: int, end: int, *,
                          hours: TradingHours | None = None) -> list[OHLCVBar]:
        """The bars opening at `start <= time <= end` (epoch seconds), as far as the source's history goes."""
        ...


class ClientLimits(Protocol):
    """The per-client request budget of the HTTP edge (the very same buckets), for entry points outside it:
    the quotes WebSocket spends it per message."""

    def client_of(self, peer: str, headers: Sequence[tuple[bytes, bytes]]) -> str:
        """Whom a connection from `peer` with these headers counts as (behind TRUSTED_PROXIES, the forwarded
        address)."""
        ...

    async def spend(self, client: str, cost: int = 1) -> float:
        """Take `cost` requests from `client`'s budget: 0 when allowed, else the seconds before retrying."""
        ...


class UpstreamLimiter(Protocol):
    """One source's request budget, shared by every worker (a token bucket in Redis, or in this process
    without Redis). The root gives each adapter its source's limiter; the adapter spends before each request."""

    async def acquire(self, cost: float = 1.0) -> None:
        """Return once `cost` units may be spent now (waiting for them if need be); raise SourceUnavailable,
        spending nothing, when the source is blocked or the wait would exceed the limiter's bound."""
        ...

    async def block(self, seconds: float) -> None:
        """Spend nothing at this source for `seconds` in any worker (its Retry-After, a ban)."""
        ...


class SymbolDirectory(Protocol):
    async def resolve_symbol(self, symbol: Symbol) -> SymbolInfo: ...

    async def search_symbols(self, query: str, *, exchange: str | None = None) -> list[SymbolMatch]: ...


# --- scheduled jobs ------------------------------------------------------------------------------


class JobRunner(Protocol):
    @property
    def names(self) -> list[str]: ...

    async def run(self, name: str) -> Any:
        """Run the named job now unless a run of it holds it; the returned run has outcome and detail."""
        ...

    async def status(self) -> list[dict[str, Any]]: ...


# --- real-time quotes ----------------------------------------------------------------------------

QuoteCallback = Callable[[QuoteTick], Awaitable[None]]


class QuoteFeed(Protocol):
    """A source's live quote session: subscriptions survive reconnects; every merged quote goes to the
    registered callbacks, one at a time, in arrival order."""

    async def subscribe(self, symbols: Iterable[Symbol]) -> None:
        """Add symbols and wait for their snapshots; unknown ones raise SymbolNotFound after the others
        are added."""
        ...

    async def unsubscribe(self, symbols: Iterable[Symbol]) -> None: ...

    def add_quote_callback(self, callback: QuoteCallback) -> None: ...

    def remove_quote_callback(self, callback: QuoteCallback) -> None: ...

    @property
    def subscriptions(self) -> list[Symbol]: ...

    @property
    def connected(self) -> bool: ...

    @property
    def reconnect_count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Provider:
    """Everything one source offers, registered under its id (`source`)."""

    source: str
    history: HistoryProvider
    symbols: SymbolDirectory
    quotes: QuoteFeed | None = None
    close: Callable[[], Awaitable[None]] | None = None  # releases its connections on shutdown


# --- webhooks ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A webhook delivery that failed for good."""

    delivery_id: str
    url: str
    event_type: str
    body: bytes
    attempts: int
    error: str
    correlation_id: str | None
    failed_at: float  # epoch seconds


class DeadLetterRepository(Protocol):
    async def add(self, letter: DeadLetter) -> None: ...

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        """Newest first."""
        ...

    async def get(self, delivery_id: str) -> DeadLetter | None: ...

    async def remove(self, letter: DeadLetter) -> None:
        """This letter; not a newer one of the same delivery (redelivered and failed again meanwhile)."""
        ...


@dataclass(frozen=True, slots=True)
class OutboxDelivery:
    """One webhook delivery to one URL, kept until it is delivered or dead-lettered."""

    delivery_id: str
    url: str
    event_type: str
    body: bytes
    correlation_id: str | None
    created_at: float  # epoch seconds
    next_attempt_at: float
    attempts: int = 0  # made so far
    last_error: str | None = None


class WebhookOutbox(Protocol):
    """Durable deliveries: written before the first attempt, leased by the process attempting one (a lease
    that outlives a dead process expires), removed once delivered or dead-lettered."""

    async def add(self, deliveries: Sequence[OutboxDelivery]) -> None: ...

    async def claim_due(self, owner: str, now: float, lease_s: float, limit: int) -> list[OutboxDelivery]:
        """Lease up to `limit` due deliveries (the earliest due first) to `owner`."""
        ...

    async def retry_later(self, delivery: OutboxDelivery, owner: str) -> None:
        """Store its attempts, error and next attempt time, and release it."""
        ...

    async def remove(self, delivery_id: str) -> None:
        """Delivered or dead-lettered: whoever holds it now, nothing is left to attempt."""
        ...

    async def release(self, owner: str) -> None:
        """Every lease of `owner` (at shutdown): its deliveries are due again at once."""
        ...

    async def pending(self) -> int: ...


class WebhookSender(Protocol):
    async def send(self, event_type: str, data: dict[str, Any], *, occurred_at: float,
                   correlation_id: str | None) -> None:
        """Write one delivery per configured URL to the outbox; they are delivered in the background."""
        ...

    async def redeliver(self, letter: DeadLetter) -> bool:
        """Queue a dead letter again (attempts from zero); False when its URL is no longer configured."""
        ...


# --- health --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    healthy: bool
    detail: str = "ok"


class HealthCheck(Protocol):
    async def health(self, timeout_s: float) -> list[ComponentHealth]: ...


# --- identity ------------------------------------------------------------------------------------


class UserRepository(Protocol):
    async def get(self, user_id: str) -> User | None: ...

    async def get_by_name(self, username: str) -> User | None: ...

    async def add(self, user: User) -> None:
        """Raises Conflict when the username is taken."""
        ...

    async def save(self, user: User) -> None: ...

    async def list(self) -> list[User]: ...

    async def count(self) -> int: ...


class ApiKeyRepository(Protocol):
    async def get(self, key_id: str) -> ApiKey | None: ...

    async def add(self, key: ApiKey) -> None: ...

    async def save(self, key: ApiKey) -> None: ...

    async def list(self, owner_id: str | None = None) -> list[ApiKey]:
        """Every key (owner_id None) or one user's, newest first."""
        ...

    async def touch(self, key_id: str, used_at: float) -> None:
        """Record when the key was last used (without reading it first)."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get(self, token_digest: str) -> RefreshToken | None: ...

    async def mark_used(self, token_digest: str, used_at: float) -> bool:
        """Atomically mark the token used if it is neither used nor revoked; whether this call did it."""
        ...

    async def revoke_family(self, family_id: str, revoked_at: float) -> None: ...

    async def revoke_user(self, user_id: str, revoked_at: float, *, keep_family: str | None = None) -> None:
        """Every family of the user but `keep_family` (password change, disabled user)."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    principal: Principal
    expires_at: float


class AccessTokens(Protocol):
    """Short-lived signed access tokens that carry the principal: verified without a store lookup."""

    def issue(self, principal: Principal, now: float) -> IssuedToken: ...

    def verify(self, token: str, now: float) -> VerifiedToken:
        """Raises Unauthenticated (expired, tampered, signed with an unknown key)."""
        ...


class Secrets(Protocol):
    """Randomness for ids and secrets, and the digest of high-entropy secrets (API keys, refresh tokens)."""

    def new_id(self) -> str:
        """16 hex digits."""
        ...

    def new_secret(self) -> str: ...

    def digest(self, secret: str) -> str: ...


class Authenticator(Protocol):
    """Turns a credential (an access token or an API key) into the principal it stands for. The HTTP edge
    calls it once per request; a WebSocket can call it with the token of its first message."""

    async def authenticate(self, credential: str) -> Principal:
        """Raises Unauthenticated naming why (expired, tampered, revoked key, unknown key, disabled user)."""
        ...

    def forget_key(self, key_id: str) -> None:
        """Drop what is cached about an API key (it was revoked)."""
        ...

    def forget_owner(self, user_id: str) -> None:
        """Drop what is cached about a user's API keys (the user was demoted or disabled)."""
        ...


class OperatorConsole(Protocol):
    """Where the service tells its operator something once, outside the logs (a one-time password)."""

    def show(self, text: str) -> None: ...


# --- alerts --------------------------------------------------------------------------------------

ALERT_SHARDS = 16  # rules are evaluated by shard: one lease per shard, held by one process at a time


def alert_shard(rule_id: str) -> int:
    """The evaluation shard of a rule: stable across processes and restarts (stored with the rule)."""
    return zlib.crc32(rule_id.encode()) % ALERT_SHARDS


@dataclass(frozen=True, slots=True)
class StoredAlertRule:
    """A rule as stored: `revision` grows with every write (the optimistic check of concurrent writers),
    `updated_at` only with its owner's changes (create, edit, enable, disable, delete). `outbox`: triggers
    written with the rule's state, in the same write, and not yet recorded in the history."""

    rule: AlertRule
    revision: int
    created_at: float
    updated_at: float
    deleted: bool = False
    outbox: tuple[AlertTriggeredEvent, ...] = ()


class AlertRuleRepository(Protocol):
    async def add(self, rule: AlertRule, now: float) -> StoredAlertRule: ...

    async def get(self, rule_id: str) -> StoredAlertRule | None:
        """The rule, None when there is none or it was deleted."""
        ...

    async def of_owner(self, owner: str | None, *, limit: int) -> list[StoredAlertRule]:
        """Rules (of `owner`, or everyone's with None), oldest first."""
        ...

    async def save(self, rule: AlertRule, *, expected_revision: int, now: float | None,
                   triggers: Sequence[AlertTriggeredEvent] = ()) -> int | None:
        """Write `rule` over revision `expected_revision`, with `triggers` added to its outbox, atomically; the new
        revision, or None (nothing written) when another writer changed it since. `now` marks an owner's change
        (`updated_at`); None an evaluation's."""
        ...

    async def clear_outbox(self, rule_id: str, trigger_counts: Sequence[int]) -> None:
        """Drop these triggers from the rule's outbox (they are in the history now); the revision stays."""
        ...

    async def delete(self, rule_id: str, *, now: float) -> bool:
        """Mark the rule deleted (evaluators in other processes see it among the changes); False if absent."""
        ...

    async def in_shards(self, shards: Iterable[int]) -> list[StoredAlertRule]:
        """The rules (not deleted) of these evaluation shards."""
        ...

    async def changed_since(self, since: float, shards: Iterable[int]) -> list[StoredAlertRule]:
        """Rules of these shards whose owner changed them at or after `since`, deleted ones included."""
        ...

    async def purge_deleted(self, before: float) -> int: ...

    async def ensure_indexes(self) -> None: ...


class AlertTriggerRepository(Protocol):
    async def add(self, event: AlertTriggeredEvent) -> bool:
        """Record a trigger; False when this trigger (rule, trigger count) is already recorded."""
        ...

    async def of_rule(self, rule_id: str, *, limit: int) -> list[AlertTriggeredEvent]:
        """The rule's triggers, newest first."""
        ...

    async def remove_rule(self, rule_id: str) -> None: ...

    async def ensure_indexes(self) -> None: ...


class Leases(Protocol):
    """Named leases shared by the processes of a deployment: one holder at a time, until it lapses."""

    async def hold(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take the lease, or extend it when `holder` has it; False when another holder has it."""
        ...

    async def release(self, name: str, holder: str) -> None: ...


class Broadcast(Protocol):
    """Messages on a topic to every process of a deployment (this one included), each at most once: through
    Redis pub/sub when configured, else within this process."""

    def listen(self, topic: str, receive: Callable[[bytes], None]) -> None:
        """Call `receive` with each message on `topic` (register before the lifecycle starts)."""
        ...

    async def publish(self, topic: str, message: bytes) -> None: ...
