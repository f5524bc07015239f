"""The provider registry: each source id maps to what that source offers (history, symbols, quotes).

Handlers look a source up here; an id nobody registered is the caller's mistake, reported naming the
`source` field.
"""

from collections.abc import Iterable, Iterator

from src.common.errors import InvalidRequest
from src.common.ports import HistoryProvider, Provider, QuoteFeed, SymbolDirectory


class ProviderRegistry:
    def __init__(self, providers: Iterable[Provider]) -> None:
        self._providers: dict[str, Provider] = {}
        for provider in providers:
            if provider.source in self._providers:
                raise ValueError(f"source {provider.source!r} is registered twice")
            self._providers[provider.source] = provider

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(self._providers)

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._providers.values())

    def get(self, source: str) -> Provider:
        provider = self._providers.get(source)
        if provider is None:
            known = ", ".join(self._providers) or "none"
            raise InvalidRequest(f"unknown source {source!r}; registered sources: {known}", field="source")
        return provider

    def history(self, source: str) -> HistoryProvider:
        return self.get(source).history

    def symbols(self, source: str) -> SymbolDirectory:
        return self.get(source).symbols

    def quotes(self, source: str) -> QuoteFeed:
        feed = self.get(source).quotes
        if feed is None:
            raise InvalidRequest(f"source {source!r} has no live quotes", field="source")
        return feed
