"""Who holds each live subscription: upstream subscriptions are reference-counted.

Rules (each has a unit test named for it):

* **Holders.** A holder is a name: the REST API is one holder (`API_HOLDER`: what `POST /quotes/subscribe`
  added, `POST /quotes/unsubscribe` releases), each WebSocket connection another. A holder holds an
  instrument at most once: taking it again changes nothing.
* **Upstream follows the references.** `take` returns the instruments that had no holder before (to be
  subscribed upstream); `release` and `release_all` return those that have no holder left (to be
  unsubscribed upstream). An instrument is referenced exactly while some holder holds it.
* **Releasing what is not held** changes nothing and returns nothing: a holder cannot release another's
  reference, and a release repeated (a cancelled subscribe, then the connection's end) is harmless.
"""

from collections.abc import Iterable

from src.domain.market_data.instrument import Instrument

API_HOLDER = "api"


class SubscriptionReferences:
    """The holders of every referenced instrument, and the instruments of every holder."""

    __slots__ = ("_by_holder", "_holders")

    def __init__(self) -> None:
        self._holders: dict[Instrument, set[str]] = {}
        self._by_holder: dict[str, set[Instrument]] = {}

    def take(self, holder: str, instruments: Iterable[Instrument]) -> list[Instrument]:
        """`holder` holds `instruments`; returns those nobody held before, in order."""
        first = []
        held = self._by_holder.setdefault(holder, set())
        for instrument in dict.fromkeys(instruments):
            holders = self._holders.setdefault(instrument, set())
            if not holders:
                first.append(instrument)
            holders.add(holder)
            held.add(instrument)
        return first

    def release(self, holder: str, instruments: Iterable[Instrument]) -> list[Instrument]:
        """`holder` no longer holds `instruments`; returns those nobody holds any more, in order."""
        held = self._by_holder.get(holder, set())
        last = []
        for instrument in dict.fromkeys(instruments):
            if instrument not in held:
                continue
            held.discard(instrument)
            holders = self._holders[instrument]
            holders.discard(holder)
            if not holders:
                del self._holders[instrument]
                last.append(instrument)
        if not held:
            self._by_holder.pop(holder, None)
        return last

    def release_all(self, holder: str) -> list[Instrument]:
        """Everything `holder` holds (its connection ended); returns what nobody holds any more."""
        return self.release(holder, sorted(self._by_holder.get(holder, ()), key=str))

    def referenced(self, instrument: Instrument) -> bool:
        return instrument in self._holders

    def holders(self, instrument: Instrument) -> int:
        return len(self._holders.get(instrument, ()))

    def holdings(self) -> dict[str, list[Instrument]]:
        """Every holder and what it holds, instruments in their text order."""
        return {holder: sorted(held, key=str) for holder, held in self._by_holder.items() if held}

    def held_by(self, holder: str) -> frozenset[Instrument]:
        return frozenset(self._by_holder.get(holder, ()))
