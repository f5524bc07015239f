"""The registered data sources, each built from its settings. A new source is one adapter package under
`src/providers/` plus one entry here."""

from src.common.ports import Provider
from src.common.settings import Settings
from src.providers.tradingview import TradingViewConfig, tradingview_provider


def build_providers(settings: Settings) -> list[Provider]:
    password = settings.tradingview_password
    tradingview = TradingViewConfig(
        ws_url=settings.tradingview_ws_url,
        search_url=settings.tradingview_search_url,
        signin_url=settings.tradingview_signin_url,
        username=settings.tradingview_username,
        password=password.get_secret_value() if password else None,
        request_timeout=settings.tradingview_timeout_s,
        rate_limit=settings.tradingview_requests_per_s,
    )
    return [tradingview_provider(tradingview)]
