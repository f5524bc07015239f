"""`AlertEvaluator`: evaluates the alert rules of the shards this process holds, on live ticks and closed
bars, and persists what they remember before their triggers are delivered.

Rules:
* **One evaluator per rule.** Rules are split into `ALERT_SHARDS` shards by id; a process evaluates the rules
  of the shards whose lease (`alerts:shard:<n>`, Redis in a deployment) it holds, renewed every refresh. A
  shard whose lease it cannot renew is dropped at once; a free one (its holder stopped or died: the lease
  lapses after `ALERTS_LEASE_TTL_S`) is taken by whichever process asks first. Even two processes that both
  believe they hold a rule cannot both fire it: every write of a rule is checked against the revision read,
  and a trigger is delivered only after its write succeeded.
* **Ticks** (a listener of the live stream, on the tick path: it never awaits) go to the `AlertBook`; closed
  bars (`BarCompletedEvent`, after they were stored) go to the bar rules of their interval with the indicator
  values at that bar, and 1-minute bars also replay, for the tick rules, the path of bars the live stream did
  not show (parts older than the last tick are skipped): after an outage the quote service backfills the bars
  it missed and publishes them, so a crossing that happened meanwhile fires once, marked `late`.
* **Gaps.** The first tick of a symbol whose rules this evaluator restored with a past (after a start, or
  taking their shard: they last observed more than a bar ago) and, for a symbol already seen, a tick whose
  forming 1-minute bar does not cover its period (the feed lost ticks: an outage) open a gap for it: its
  ticks are held, not evaluated, until the backfilled 1-minute bars reach the forming bar (a bar closing at
  or after its open), so that what happened in the gap is evaluated before what came after it; then the
  held ticks are evaluated in order. A gap the backfill does not close (the source's history failed, or has
  no bar for the last minute) closes after `GAP_WAIT_S`.
* **Persisted first.** A rule that fired or expired is written at once (the writer is woken); other changes of
  what a rule remembers (its side of the level, the time it last saw) are written every `ALERTS_FLUSH_S`,
  coalesced. A trigger is written in the same atomic write as the state that fired it (the rule's outbox),
  then its events are published (the channels are subscribers), then it is moved to the history. A write
  that finds the rule changed by its owner meanwhile reloads the rule and drops what it would have
  delivered. Delivery is at most once: triggers a stopped process left in an outbox are recorded in the
  history by the next evaluator of the rule, not delivered again.
* **Restart.** Rules are loaded with what they remember; the next evaluation continues from there (see
  `AlertMemory`). A change not yet written when a process stops abruptly is at most `ALERTS_FLUSH_S` old,
  and the bars backfilled on the next start replay what it had seen.
* **Owners' changes** made in this process apply at once (`reload`); those made in another are found by
  polling the rules changed since the last refresh.
* **Symbols.** The evaluator holds the symbols of its rules subscribed (a holder like a WebSocket client),
  with 1-minute bars and the intervals of its bar rules built, while the quote session runs.
"""

import asyncio
import contextlib
import uuid
from collections.abc import Iterable, Sequence

import structlog

from src.common.event_bus import EventBus
from src.common.live import LiveQuotes
from src.common.ports import (
    ALERT_SHARDS,
    AlertRuleRepository,
    AlertTriggerRepository,
    Clock,
    Leases,
    OHLCVRepository,
    StoredAlertRule,
    alert_shard,
)
from src.domain.alerts import AlertBook, AlertChange, AlertRule, AlertStatus, AlertTriggeredEvent
from src.domain.events import BarCompletedEvent, DomainEvent
from src.domain.market_data import Instrument, Interval, QuoteTick
from src.domain.realtime.aggregator import BarUpdate
from src.features.alerts.indicator_values import indicator_values

log = structlog.get_logger("alerts.evaluator")

HOLDER = "alerts"  # its name as a holder of upstream subscriptions
PATH_INTERVAL = Interval.M1  # the bars whose path tick rules replay
PURGE_DELETED_AFTER_S = 3600.0
PURGE_EVERY_S = 60.0
GAP_WAIT_S = 10.0
_SETTINGS = ("cooldown_s", "one_time", "expires_at", "channels", "note")


class AlertEvaluator:
    def __init__(self, rules: AlertRuleRepository, triggers: AlertTriggerRepository, leases: Leases,
                 live: LiveQuotes, bars: OHLCVRepository, clock: Clock, event_bus: EventBus, *,
                 lease_ttl_s: float = 15.0, refresh_s: float = 2.0, flush_s: float = 1.0,
                 worker_id: str | None = None) -> None:
        self._rules = rules
        self._triggers = triggers
        self._leases = leases
        self._live = live
        self._bars = bars
        self._clock = clock
        self._event_bus = event_bus
        self._lease_ttl_s = lease_ttl_s
        self._refresh_s = refresh_s
        self._flush_s = flush_s
        self.worker_id = worker_id or uuid.uuid4().hex
        self.book = AlertBook()
        self._revisions: dict[str, int] = {}
        self._owned: set[int] = set()
        self._dirty: dict[str, None] = {}  # rules whose state is to be written
        self._events: dict[str, list[DomainEvent]] = {}  # what they raised, delivered once written
        self._unrecorded: dict[str, list[AlertTriggeredEvent]] = {}  # in rules' outboxes, not yet in the history
        self._urgent = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._held: set[Instrument] = set()
        self._gaps: dict[Instrument, _Gap] = {}
        self._restored: set[Instrument] = set()  # symbols of rules restored with a past, before their first tick
        self._since = 0.0
        self._purged_at = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self.evaluations = 0
        self.triggers_recorded = 0
        self.write_conflicts = 0
        self.write_failures = 0

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._live.add_listener(self)
        try:
            await self.refresh()
        except Exception:  # the store or Redis is down: the refresh loop keeps trying
            log.exception("alerts_refresh_failed")
        self._tasks = [asyncio.create_task(self._write_loop(), name="alerts-writer"),
                       asyncio.create_task(self._refresh_loop(), name="alerts-refresh")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        self._live.remove_listener(self)
        for instrument in list(self._gaps):
            self._close_gap(instrument)
        try:
            await self.write_pending()
        except Exception:  # the store is down: what was not written is replayed from history on the next start
            log.exception("alert_state_write_failed")
        with contextlib.suppress(Exception):
            await self._live.let_go(HOLDER, list(self._held))
        self._held.clear()
        await self._release_shards(self._owned)
        self._drop_shards(set(self._owned))

    async def _release_shards(self, shards: Iterable[int]) -> None:
        for shard in sorted(shards):
            with contextlib.suppress(Exception):  # unreleased, a lease lapses after its time to live
                await self._leases.release(_lease(shard), self.worker_id)

    async def check(self) -> bool:
        return all(not task.done() for task in self._tasks)

    @property
    def owned_shards(self) -> frozenset[int]:
        return frozenset(self._owned)

    def count_by_status(self, status: AlertStatus) -> int:
        return sum(1 for rule in self.book if rule.status is status)

    # --- the live stream (QuoteListener) ----------------------------------------------------------

    def wants(self, instrument: Instrument) -> bool:
        return self.book.watches_ticks(instrument.source, instrument.symbol)

    def on_quote(self, instrument: Instrument, tick: QuoteTick, forming: Sequence[BarUpdate]) -> None:
        gap = self._gaps.get(instrument)
        if gap is None:
            gap = self._gap_of(instrument, forming)
        if gap is not None:
            gap.ticks.append(tick)
            return
        self.evaluations += 1
        self._changed(self.book.on_tick(instrument.source, instrument.symbol, tick.price, tick.time))

    def _gap_of(self, instrument: Instrument, forming: Sequence[BarUpdate]) -> "_Gap | None":
        restored = instrument in self._restored
        self._restored.discard(instrument)
        seen = self.book.last_seen(instrument.source, instrument.symbol) is not None
        for update in forming:
            if update.bar.interval is PATH_INTERVAL and (restored or (seen and not update.full_period)):
                gap = self._gaps[instrument] = _Gap(update.bar.time)
                gap.timer = asyncio.get_running_loop().call_later(GAP_WAIT_S, self._close_gap, instrument)
                return gap
        return None

    def _close_gap(self, instrument: Instrument) -> None:
        gap = self._gaps.pop(instrument, None)
        if gap is None:
            return
        if gap.timer is not None:
            gap.timer.cancel()
        for tick in gap.ticks:
            self.evaluations += 1
            self._changed(self.book.on_tick(instrument.source, instrument.symbol, tick.price, tick.time))

    def on_bar_closed(self, update: BarUpdate) -> None:
        """Bars are taken once stored, from `BarCompletedEvent`."""

    async def on_bar_completed(self, event: BarCompletedEvent) -> None:
        """An EventBus subscriber: a closed (live or backfilled) bar, stored."""
        key, bar, now = event.key, event.bar, self._clock.now()
        if bar.interval is PATH_INTERVAL and self.book.watches_ticks(key.source, key.symbol):
            self.evaluations += 1
            self._changed(self.book.on_backfill(key.source, key.symbol, [bar], now))
        instrument = Instrument(key.source, key.symbol)
        gap = self._gaps.get(instrument)
        if gap is not None and bar.interval is PATH_INTERVAL and bar.closes_at >= gap.opens_at:
            self._close_gap(instrument)
        specs = self.book.indicator_specs(key.source, key.symbol, bar.interval)
        if not specs:  # every bar condition reads an indicator: no bar rule of this series
            return
        values = await indicator_values(self._bars, key, bar, specs)
        changes = self.book.on_bar_closed(key.source, key.symbol, bar, values, self._clock.now())
        self.evaluations += 1
        self._changed(changes)

    def _changed(self, changes: Iterable[AlertChange]) -> None:
        for change in changes:
            rule_id = change.rule.id
            self._dirty[rule_id] = None
            if change.events:
                self._events.setdefault(rule_id, []).extend(change.events)
                self._urgent.set()

    # --- writing and delivering ------------------------------------------------------------------

    async def _write_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._flush_s):
                    await self._urgent.wait()
            self._urgent.clear()
            try:
                await self.write_pending()
            except Exception as error:  # the store is down: what is pending stays pending
                log.warning("alert_state_write_failed", error=f"{type(error).__name__}: {error}")

    async def write_pending(self) -> None:
        """Write every changed rule (those with events first) and deliver their events, then record the triggers
        delivered in the history."""
        async with self._write_lock:
            ids = sorted(self._dirty, key=lambda rule_id: rule_id not in self._events)
            for rule_id in ids:
                self._dirty.pop(rule_id, None)
                events = self._events.pop(rule_id, [])
                try:
                    await self._write(rule_id, events)
                except Exception:
                    self.write_failures += 1
                    self._dirty[rule_id] = None
                    self._events[rule_id] = events + self._events.get(rule_id, [])
                    raise
            await self._record()

    async def _write(self, rule_id: str, events: list[DomainEvent]) -> None:
        rule = self.book.get(rule_id)
        if rule is None or rule_id not in self._revisions:
            return
        triggers = [event for event in events if isinstance(event, AlertTriggeredEvent)]
        revision = await self._rules.save(rule, expected_revision=self._revisions[rule_id], now=None,
                                          triggers=triggers)
        if revision is None:  # changed by its owner (or deleted) meanwhile: theirs wins, nothing is delivered
            self.write_conflicts += 1
            await self.reload(rule_id)
            return
        self._revisions[rule_id] = revision
        for event in events:
            await self._event_bus.publish(event)
        if triggers:
            self._unrecorded.setdefault(rule_id, []).extend(triggers)

    async def _record(self) -> None:
        """Move the triggers from the rules' outboxes to the history (idempotent: a trigger is recorded once)."""
        while self._unrecorded:
            rule_id, triggers = next(iter(self._unrecorded.items()))
            for trigger in triggers:
                if await self._triggers.add(trigger):
                    self.triggers_recorded += 1
            await self._rules.clear_outbox(rule_id, [trigger.trigger_count for trigger in triggers])
            del self._unrecorded[rule_id]

    # --- rules: shards, owners' changes ------------------------------------------------------------

    async def refresh(self) -> None:
        """One pass: renew and take shard leases, apply owners' changes, hold the symbols, let time pass."""
        now = self._clock.now()
        await self._hold_shards()
        await self._apply_changes(now)
        await self._hold_symbols()
        self._changed(self.book.advance_time(now))
        if now - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = now
            await self._rules.purge_deleted(now - PURGE_DELETED_AFTER_S)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.refresh()
            except Exception as error:  # the store is down: tried again next period
                log.warning("alerts_refresh_failed", error=f"{type(error).__name__}: {error}")

    async def reload(self, rule_id: str) -> None:
        """Take the stored version of a rule (its owner changed it), if this process evaluates its shard."""
        if alert_shard(rule_id) not in self._owned:
            return
        stored = await self._rules.get(rule_id)
        if stored is None:
            self._forget(rule_id)
        else:
            self._take(stored)
        await self._hold_symbols()

    async def _hold_shards(self) -> None:
        held: set[int] = set()
        if not self._live.running:
            # Ticks reach only the process whose live session runs (in a deployment: the leading collector);
            # a process that sees none leaves the shards to it, and lets go of those it held.
            await self._release_shards(self._owned)
            self._drop_shards(set(self._owned))
            return
        try:
            for shard in range(ALERT_SHARDS):
                if await self._leases.hold(_lease(shard), self.worker_id, self._lease_ttl_s):
                    held.add(shard)
        except Exception:  # the leases cannot be renewed: another process may take them, so stop now
            log.exception("alerts_leases_unavailable")
            held = set()
        self._drop_shards(self._owned - held)
        gained = held - self._owned
        self._owned = held
        if gained:
            for stored in await self._rules.in_shards(gained):
                self._take(stored)
            log.info("alerts_shards_taken", shards=sorted(gained), worker=self.worker_id, rules=len(self.book))

    def _drop_shards(self, shards: set[int]) -> None:
        if not shards:
            return
        for rule in self.book:
            if alert_shard(rule.id) in shards:
                self._forget(rule.id)
        self._owned -= shards
        log.info("alerts_shards_dropped", shards=sorted(shards), worker=self.worker_id)

    async def _apply_changes(self, now: float) -> None:
        since, self._since = self._since, now - 2 * self._refresh_s  # overlap: clocks of processes differ a bit
        for stored in await self._rules.changed_since(since, self._owned):
            if stored.deleted:
                self._forget(stored.rule.id)
            elif stored.revision > self._revisions.get(stored.rule.id, 0):
                self._take(stored)

    def _take(self, stored: StoredAlertRule) -> None:
        rule_id = stored.rule.id
        if stored.outbox:  # written by a process that stopped before recording them: recorded, not delivered again
            self._unrecorded[rule_id] = list(stored.outbox)
            self._urgent.set()
        current = self.book.get(rule_id)
        observed = stored.rule.memory.observed_at
        if current is None and observed is not None and observed < self._clock.now() - PATH_INTERVAL.seconds:
            self._restored.add(Instrument(stored.rule.source, stored.rule.symbol))
        if current is None:
            self.book.add(stored.rule)
        else:
            merged = _merged(current, stored.rule)
            self.book.replace(merged)
            if merged is stored.rule:  # theirs wins: what the replaced version raised is not delivered
                self._events.pop(rule_id, None)
            else:
                self._dirty[rule_id] = None
        self._revisions[rule_id] = stored.revision

    def _forget(self, rule_id: str) -> None:
        if rule_id in self.book:
            self.book.remove(rule_id)
        self._revisions.pop(rule_id, None)
        self._dirty.pop(rule_id, None)
        self._events.pop(rule_id, None)

    async def _hold_symbols(self) -> None:
        symbols, intervals = self.book.watched()
        wanted = {Instrument(source, symbol) for source, symbol in symbols}
        gone = self._held - wanted
        try:
            if gone:
                await self._live.let_go(HOLDER, sorted(gone, key=str))
                self._held -= gone
            if wanted and self._live.running:
                await self._live.hold(HOLDER, sorted(wanted, key=str), {PATH_INTERVAL, *intervals})
                self._held |= wanted
        except Exception as error:  # an unknown symbol, a source down: the others are held; retried next pass
            log.warning("alerts_symbols_not_held", error=f"{type(error).__name__}: {error}")


class _Gap:
    """The ticks of a symbol held while the bars of a gap in its stream are backfilled."""

    __slots__ = ("opens_at", "ticks", "timer")

    def __init__(self, opens_at: int) -> None:
        self.opens_at = opens_at  # open time of the forming 1-minute bar that did not cover its period
        self.ticks: list[QuoteTick] = []
        self.timer: asyncio.TimerHandle | None = None


def _lease(shard: int) -> str:
    return f"alerts:shard:{shard}"


def _merged(current: AlertRule, stored: AlertRule) -> AlertRule:
    """The stored rule, or, when its owner changed only how it is delivered (same status, same watch), the rule
    as evaluated here with those settings: what it remembers here may be newer than what was written."""
    same_watch = (current.source, current.symbol, current.interval, current.condition) == \
                 (stored.source, stored.symbol, stored.interval, stored.condition)
    newer_here = (current.memory.observed_at or 0.0) >= (stored.memory.observed_at or 0.0)
    if not (same_watch and current.status is stored.status and newer_here):
        return stored
    return current.revise(**{name: getattr(stored, name) for name in _SETTINGS})
