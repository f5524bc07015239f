"""The quotes slice: live quote sessions per source, live bars, REST and the client WebSocket."""

from typing import Protocol

from src.common.alert_shape import ALERT_FRAMES
from src.common.calendars import SymbolCalendars
from src.common.lifecycle import Component
from src.common.live import LiveQuotes
from src.common.ports import Authenticator, Broadcast, ClientLimits
from src.domain.indicators import parse_specs
from src.domain.indicators.events import IndicatorsUpdatedEvent
from src.domain.market_data import Interval
from src.features.quotes import handlers as h
from src.features.quotes import messages as m
from src.features.quotes.routes import router
from src.features.quotes.service import QuoteService
from src.features.quotes.sessions import RoutedQuoteSessions
from src.features.quotes.ws import HubLimits, QuoteHub
from src.features.quotes.ws import router as ws_router
from src.features.shared.deps import SharedDeps
from src.features.shared.slice import Counter, Slice, SliceParts


class QuotesDeps(SharedDeps, Protocol):
    @property
    def calendars(self) -> SymbolCalendars: ...
    @property
    def client_limits(self) -> ClientLimits: ...
    @property
    def authenticator(self) -> Authenticator: ...
    @property
    def live(self) -> LiveQuotes: ...
    @property
    def broadcast(self) -> Broadcast: ...


def build(d: QuotesDeps) -> SliceParts:
    s = d.settings
    service = QuoteService(d.providers, d.bars, d.cache, d.event_bus, d.clock, calendars=d.calendars,
                           intervals=[Interval.parse(code) for code in s.live_bar_intervals],
                           close_every_s=s.live_close_every_s, close_grace_s=s.live_close_grace_s)
    limits = HubLimits(max_connections_per_client=s.ws_max_connections_per_client,
                       max_connections_per_address=s.ws_max_connections_per_address,
                       max_symbols_per_connection=s.ws_max_symbols_per_connection,
                       max_queued_per_client=s.ws_max_queued_frames, send_timeout_s=s.ws_send_timeout_s,
                       auth_timeout_s=s.ws_auth_timeout_s)
    sessions = RoutedQuoteSessions(service)  # a remote collector is attached by the root in a deployment
    hub = QuoteHub(d.mediator.send, snapshot=sessions.snapshot, client_limits=d.client_limits, limits=limits,
                   live_indicators=parse_specs(s.live_indicators), authenticator=d.authenticator)
    service.add_listener(hub)
    service.add_listener(d.live)
    d.broadcast.listen(ALERT_FRAMES, hub.on_alert_frame)
    d.live.serve(service)
    return SliceParts(
        handlers={
            m.StartQuotesCommand: h.StartQuotesHandler(sessions),
            m.StopQuotesCommand: h.StopQuotesHandler(sessions),
            m.SubscribeQuotesCommand: h.SubscribeQuotesHandler(sessions),
            m.UnsubscribeQuotesCommand: h.UnsubscribeQuotesHandler(sessions),
            m.ReleaseQuotesCommand: h.ReleaseQuotesHandler(sessions),
            m.SetBarIntervalsCommand: h.SetBarIntervalsHandler(sessions),
            m.ServeQuoteStreamCommand: h.ServeQuoteStreamHandler(hub),
            m.GetLatestQuoteQuery: h.GetLatestQuoteHandler(sessions, d.cache),
            m.GetAllQuotesQuery: h.GetAllQuotesHandler(sessions),
            m.GetCurrentBarQuery: h.GetCurrentBarHandler(sessions, d.cache),
            m.GetQuoteStatusQuery: h.GetQuoteStatusHandler(sessions),
        },
        subscribers={IndicatorsUpdatedEvent: [hub.on_indicators_updated]},
        components=[
            Component("quotes", start=service.start, stop=service.stop, check=service.check),
            Component("quote-hub", stop=hub.close),
        ],
        counters=[
            Counter("quote_ticks_aggregated", "Ticks fed to the live bar aggregators", lambda: service.ticks_received),
            Counter("quotes_ws_clients_dropped", "WebSocket clients disconnected for being too slow (1013)",
                    lambda: hub.clients_dropped),
            Counter("quotes_ws_connections_refused", "WebSocket connections beyond a connection cap (1008)",
                    lambda: hub.connections_refused),
            Counter("quotes_ws_messages_refused", "WebSocket client messages over the rate limit",
                    lambda: hub.messages_refused),
            Counter("quote_cache_write_failures", "Quote and forming-bar cache writes that failed",
                    lambda: service.cache_write_failures),
        ],
        exposed={"service": service, "hub": hub, "sessions": sessions},
    )


SLICE = Slice("quotes", build, routers=(router, ws_router))
