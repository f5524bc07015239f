"""The Yahoo Finance adapter's settings (built by the root from `YAHOO_*`)."""

from dataclasses import dataclass

DEFAULT_BASE_URL = "https://query2.finance.yahoo.com"
DEFAULT_COOKIE_URL = "https://fc.yahoo.com"


@dataclass(frozen=True, slots=True)
class YahooConfig:
    base_url: str = DEFAULT_BASE_URL  # chart, search, quote and getcrumb endpoints
    cookie_url: str = DEFAULT_COOKIE_URL  # the page that sets the cookie the crumb belongs to
    request_timeout: float = 10.0
    poll_interval_s: float = 15.0  # live quotes are polled this often
    quotes_per_request: int = 50
    pages_in_flight: int = 4  # chart windows fetched at once by one history request
    rate_limited_pause_s: float = 30.0  # how long a 429 without Retry-After stops every worker
