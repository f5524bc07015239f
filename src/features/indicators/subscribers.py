"""Reactions of the indicators slice to domain events: live values follow closed bars; syncs reset them."""

from src.common.event_bus import EventBus
from src.common.ports import Clock
from src.domain.events import BarCompletedEvent, BarSyncedEvent
from src.domain.indicators.events import IndicatorsUpdatedEvent
from src.features.indicators.live import LiveIndicators


class UpdateIndicatorsOnBarCompleted:
    """Advance the series' live indicators and features by the closed bar, then publish the new values."""

    def __init__(self, live: LiveIndicators, event_bus: EventBus, clock: Clock) -> None:
        self._live = live
        self._event_bus = event_bus
        self._clock = clock

    async def __call__(self, event: BarCompletedEvent) -> None:
        latest = await self._live.advance(event.key, event.bar)
        if latest is None:
            return
        await self._event_bus.publish(IndicatorsUpdatedEvent(
            key=event.key, bar_time=latest.bar_time, specs=tuple(spec.text for spec in self._live.specs),
            values=latest.values, occurred_at=self._clock.now(), correlation_id=event.correlation_id,
        ))


class ResetLiveIndicatorsOnSync:
    """A sync may rewrite the history a live series was seeded from: seed it again on its next bar."""

    def __init__(self, live: LiveIndicators) -> None:
        self._live = live

    async def __call__(self, event: BarSyncedEvent) -> None:
        await self._live.forget(event.key)
