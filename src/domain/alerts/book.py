"""`AlertBook`: an in-memory index of many alert rules, so that one tick touches only the rules it can fire.

Mutable like the bar aggregator; the rules it holds stay immutable values, replaced as they change.
Evaluations return the `AlertChange`s of the rules that changed (new rule + events), for the caller to
persist before publishing the events. Results are the same as evaluating every active rule on every
observation, except that rules no observation can change are left as they are (property-tested).

* **Level rules** (price above/below/crosses) of a (source, symbol) are kept sorted by level. A tick from
  `previous` to `price` can only change the side of levels in [previous, price) going up, or
  (price, previous] going down: two bisects find them. A level rule enters the sorted index once it has
  observed a price consistent with the book's last price: rules added (or restored after a restart)
  wait in a *pending* set and are evaluated on every tick until then.
* **Other tick rules** (percent change) of the symbol are evaluated on every tick.
* **Bar rules** are indexed by (source, symbol, interval) and evaluated on each closed bar.
* **Stale ticks** (older than the symbol's latest tick) are ignored, so sides stay consistent with the
  book's last price. **Backfill** replays closed bars as price paths (see `moment.bar_path`) through the
  same path, with late triggers; the parts already seen live are skipped as stale.
* Only active rules (armed, cooling down) are indexed; others are held for `get` but never evaluated.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping

from src.domain.alerts.conditions import BarCondition, PriceLevel
from src.domain.alerts.errors import DuplicateAlertRule, UnknownAlertRule
from src.domain.alerts.moment import Moment, bar_path
from src.domain.alerts.rule import AlertChange, AlertRule
from src.domain.market_data.bar import OHLCVBar
from src.domain.market_data.interval import Interval
from src.domain.market_data.symbol import Symbol

type _SymbolKey = tuple[str, Symbol]  # (source, symbol)
type _SeriesKey = tuple[str, Symbol, Interval]  # (source, symbol, interval)


class _SymbolTicks:
    """The tick rules of one (source, symbol) and the last price they were evaluated at."""

    __slots__ = ("last_price", "last_time", "level_ids", "levels", "others", "pending")

    def __init__(self) -> None:
        self.levels: list[float] = []  # sorted
        self.level_ids: list[str] = []  # parallel to `levels`
        self.others: dict[str, None] = {}  # ordered set of non-level tick rules
        self.pending: dict[str, None] = {}  # level rules not yet in sync with `last_price`
        self.last_price: float | None = None
        self.last_time: float | None = None

    def crossed(self, price: float) -> list[str]:
        """Ids of synced level rules whose side a move from the last price to `price` can change."""
        previous = self.last_price
        levels = self.levels
        if previous is None or price == previous or not levels:
            return []
        if price > previous:
            return self.level_ids[bisect_left(levels, previous) : bisect_left(levels, price)]
        return self.level_ids[bisect_right(levels, price) : bisect_right(levels, previous)]

    @property
    def is_empty(self) -> bool:
        return not (self.levels or self.others or self.pending)

    def insert_level(self, rule_id: str, level: float) -> None:
        position = bisect_right(self.levels, level)
        self.levels.insert(position, level)
        self.level_ids.insert(position, rule_id)

    def remove_level(self, rule_id: str, level: float) -> None:
        position = bisect_left(self.levels, level)
        while self.level_ids[position] != rule_id:
            position += 1
        del self.levels[position]
        del self.level_ids[position]


class AlertBook:
    def __init__(self, rules: Iterable[AlertRule] = ()) -> None:
        self._rules: dict[str, AlertRule] = {}
        self._ticks: dict[_SymbolKey, _SymbolTicks] = {}
        self._bars: dict[_SeriesKey, dict[str, None]] = {}
        for rule in rules:
            self.add(rule)

    # -- holding rules ---------------------------------------------------------------------------------

    def add(self, rule: AlertRule) -> None:
        if rule.id in self._rules:
            raise DuplicateAlertRule(f"alert rule {rule.id} is already in the book", field="id")
        self._rules[rule.id] = rule
        self._index(rule)

    def replace(self, rule: AlertRule) -> None:
        """Put a new version of a held rule (edited, enabled, disabled, restored...)."""
        self._unindex(self._held(rule.id))
        self._rules[rule.id] = rule
        self._index(rule)

    def remove(self, rule_id: str) -> AlertRule:
        rule = self._held(rule_id)
        self._unindex(rule)
        del self._rules[rule_id]
        return rule

    def get(self, rule_id: str) -> AlertRule | None:
        return self._rules.get(rule_id)

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[AlertRule]:
        return iter(list(self._rules.values()))

    def watches_ticks(self, source: str, symbol: Symbol) -> bool:
        """Whether an active tick rule of (source, symbol) is held: its ticks are worth evaluating."""
        return (source, symbol) in self._ticks

    def last_seen(self, source: str, symbol: Symbol) -> float | None:
        """Market time of the last price of (source, symbol) its tick rules evaluated; None before the first."""
        ticks = self._ticks.get((source, symbol))
        return None if ticks is None else ticks.last_time

    def watched(self) -> tuple[set[tuple[str, Symbol]], set[Interval]]:
        """What the active rules watch: their (source, symbol) pairs, and the intervals of their bar rules."""
        symbols = {key for key in self._ticks} | {(source, symbol) for source, symbol, _ in self._bars}
        return symbols, {interval for _, _, interval in self._bars}

    def indicator_specs(self, source: str, symbol: Symbol, interval: Interval) -> frozenset[str]:
        """The indicator specs the active bar rules of this series need on each closed bar."""
        ids = self._bars.get((source, symbol, interval), {})
        return frozenset(spec for rule_id in ids for spec in self._rules[rule_id].condition.indicators)

    # -- evaluation ------------------------------------------------------------------------------------

    def on_tick(self, source: str, symbol: Symbol, price: float, time: float) -> list[AlertChange]:
        ticks = self._ticks.get((source, symbol))
        if ticks is None:
            return []
        return self._on_price(ticks, price, Moment.live(time))

    def on_bar_closed(
        self, source: str, symbol: Symbol, bar: OHLCVBar, indicator_values: Mapping[str, float], now: float
    ) -> list[AlertChange]:
        """Evaluate the bar rules of (source, symbol, bar.interval) on a closed bar (live or backfilled)."""
        ids = self._bars.get((source, symbol, bar.interval))
        if not ids:
            return []
        return self._apply(self._rules[rule_id].on_bar_closed(bar, indicator_values, now) for rule_id in list(ids))

    def on_backfill(self, source: str, symbol: Symbol, bars: Iterable[OHLCVBar], now: float) -> list[AlertChange]:
        """Replay closed bars fetched after an outage for the tick rules of the symbol (late triggers).

        Pass the bars from the one that was forming when the stream was lost, in the finest interval
        available (1m gives the closest path); parts older than the symbol's latest tick are skipped."""
        ticks = self._ticks.get((source, symbol))
        if ticks is None:
            return []
        changes: list[AlertChange] = []
        for bar in sorted(bars, key=lambda b: b.time):
            for price, moment in bar_path(bar, now):
                changes.extend(self._on_price(ticks, price, moment))
        return changes

    def advance_time(self, now: float) -> list[AlertChange]:
        """Expire due rules and end due cooldowns everywhere, without an observation (a timer's sweep)."""
        return self._apply(rule.advance(now) for rule in list(self._rules.values()) if rule.is_active)

    def _on_price(self, ticks: _SymbolTicks, price: float, moment: Moment) -> list[AlertChange]:
        if ticks.last_time is not None and moment.at < ticks.last_time:
            return []
        crossed = ticks.crossed(price)
        changes = self._observe(crossed, price, moment) if crossed else []
        if ticks.others:
            changes += self._observe(list(ticks.others), price, moment)
        if ticks.pending:
            changes += self._observe_pending(ticks, price, moment)
        ticks.last_price = price
        ticks.last_time = moment.at
        return changes

    def _observe(self, ids: list[str], price: float, moment: Moment) -> list[AlertChange]:
        rules = self._rules
        return self._apply(rules[rule_id].observe_price(price, moment) for rule_id in ids)

    def _observe_pending(self, ticks: _SymbolTicks, price: float, moment: Moment) -> list[AlertChange]:
        ids = list(ticks.pending)
        changes = self._observe(ids, price, moment)
        for rule_id in ids:
            rule = self._rules[rule_id]
            # In sync once it has observed this price; a rule restored with a later `observed_at` skips it.
            if rule_id in ticks.pending and rule.memory.observed_at == moment.at:
                del ticks.pending[rule_id]
                ticks.insert_level(rule_id, _level(rule))
        return changes

    def _apply(self, changes: Iterable[AlertChange]) -> list[AlertChange]:
        """Keep the changed rules (re-indexing those no longer active) and return the changes."""
        changed = []
        for change in changes:
            new = change.rule
            old = self._rules[new.id]
            if new is old:
                continue
            self._rules[new.id] = new
            if not new.is_active:
                self._unindex(old)
            changed.append(change)
        return changed

    # -- the index -------------------------------------------------------------------------------------

    def _held(self, rule_id: str) -> AlertRule:
        rule = self._rules.get(rule_id)
        if rule is None:
            raise UnknownAlertRule(f"no alert rule {rule_id} in the book", field="id")
        return rule

    def _index(self, rule: AlertRule) -> None:
        if not rule.is_active:
            return
        if isinstance(rule.condition, BarCondition):
            assert rule.interval is not None  # a bar rule always has one (AlertRule checks it)
            self._bars.setdefault((rule.source, rule.symbol, rule.interval), {})[rule.id] = None
            return
        ticks = self._ticks.setdefault((rule.source, rule.symbol), _SymbolTicks())
        (ticks.pending if isinstance(rule.condition, PriceLevel) else ticks.others)[rule.id] = None

    def _unindex(self, rule: AlertRule) -> None:
        if not rule.is_active:
            return
        if isinstance(rule.condition, BarCondition):
            assert rule.interval is not None
            series = (rule.source, rule.symbol, rule.interval)
            del self._bars[series][rule.id]
            if not self._bars[series]:
                del self._bars[series]
            return
        ticks = self._ticks[(rule.source, rule.symbol)]
        if rule.id in ticks.others:
            del ticks.others[rule.id]
        elif rule.id in ticks.pending:
            del ticks.pending[rule.id]
        else:
            ticks.remove_level(rule.id, _level(rule))
        if ticks.is_empty:  # a rule added later starts pending, so the last price is not needed
            del self._ticks[(rule.source, rule.symbol)]


def _level(rule: AlertRule) -> float:
    condition = rule.condition
    assert isinstance(condition, PriceLevel)
    return condition.level
