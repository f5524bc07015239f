"""The registered data sources, each built from its settings. A new source is one adapter package under
`src/providers/` plus one entry here.

Each source gets its request budget (`UpstreamLimiter`, shared by every worker through Redis when configured)
from `limiter_for(source, capacity, refill_per_s)`; the root wraps every provider returned here in the source's
circuit breaker. A budget sized from a per-minute limit lets at most that many units start in any 60 seconds:
`capacity + 60 * refill_per_s == per_minute`, a sixth of it as the burst.
"""

from collections.abc import Callable

from src.common.ports import Provider, UpstreamLimiter
from src.common.settings import Settings
from src.providers.binance import BinanceConfig, binance_provider
from src.providers.tradingview import TradingViewConfig, tradingview_provider
from src.providers.yahoo import YahooConfig, yahoo_provider

LimiterFor = Callable[[str, float, float], UpstreamLimiter]
TRADINGVIEW_BURST = 5


def minute_budget(per_minute: float) -> tuple[float, float]:
    """(capacity, refill per second) such that no 60-second window starts more than `per_minute` units."""
    capacity = max(1.0, per_minute / 6)
    return capacity, max(per_minute - capacity, 1.0) / 60


def build_providers(settings: Settings, limiter_for: LimiterFor) -> list[Provider]:
    providers = [_tradingview(settings, limiter_for)]
    if settings.binance_enabled:
        providers.append(_binance(settings, limiter_for))
    if settings.yahoo_enabled:
        providers.append(_yahoo(settings, limiter_for))
    return providers


def _tradingview(settings: Settings, limiter_for: LimiterFor) -> Provider:
    password = settings.tradingview_password
    config = TradingViewConfig(
        ws_url=settings.tradingview_ws_url,
        search_url=settings.tradingview_search_url,
        signin_url=settings.tradingview_signin_url,
        username=settings.tradingview_username,
        password=password.get_secret_value() if password else None,
        request_timeout=settings.tradingview_timeout_s,
        rate_limit=settings.tradingview_requests_per_s,
        rate_burst=TRADINGVIEW_BURST,
    )
    return tradingview_provider(config, limiter_for("tradingview", TRADINGVIEW_BURST,
                                                    settings.tradingview_requests_per_s))


def _binance(settings: Settings, limiter_for: LimiterFor) -> Provider:
    config = BinanceConfig(
        api_url=settings.binance_api_url,
        stream_url=settings.binance_stream_url,
        request_timeout=settings.binance_timeout_s,
        weight_per_minute=settings.binance_weight_per_minute,
        weight_share=settings.binance_weight_share,
        symbols_ttl_s=settings.binance_symbols_ttl_s,
        stream_lifetime_s=settings.binance_stream_lifetime_s,
    )
    budget = minute_budget(settings.binance_weight_per_minute * settings.binance_weight_share)
    return binance_provider(config, limiter_for("binance", *budget))


def _yahoo(settings: Settings, limiter_for: LimiterFor) -> Provider:
    config = YahooConfig(
        base_url=settings.yahoo_base_url,
        cookie_url=settings.yahoo_cookie_url,
        request_timeout=settings.yahoo_timeout_s,
        poll_interval_s=settings.yahoo_poll_interval_s,
    )
    return yahoo_provider(config, limiter_for("yahoo", *minute_budget(settings.yahoo_requests_per_minute)))
