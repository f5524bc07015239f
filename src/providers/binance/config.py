"""The Binance adapter's settings (built by the root from `BINANCE_*`)."""

from dataclasses import dataclass

DEFAULT_API_URL = "https://api.binance.com/api"
DEFAULT_STREAM_URL = "wss://stream.binance.com:9443/"


@dataclass(frozen=True, slots=True)
class BinanceConfig:
    api_url: str = DEFAULT_API_URL  # REST base ending in `/api`, as python-binance has it
    stream_url: str = DEFAULT_STREAM_URL  # market streams base; `stream?streams=...` is appended
    request_timeout: float = 10.0  # each REST request, and each wait for a stream's answer
    weight_per_minute: int = 6_000  # the exchange's REQUEST_WEIGHT limit per IP and minute
    weight_share: float = 0.8  # used weight above this share of it (other clients on the IP): wait for the next minute
    symbols_ttl_s: float = 3_600.0  # exchangeInfo is cached this long
    pages_in_flight: int = 8  # kline pages fetched at once by one history request
    stream_lifetime_s: float = 23.5 * 3_600  # a stream is renewed (seamlessly) before Binance's 24-hour cut
    heartbeat_s: float = 30.0  # our own pings: a connection that stops answering them is replaced
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    backfill_max_trades: int = 10_000  # per symbol and reconnect; beyond it the gap is not replayed
    max_streams: int = 1_024  # Binance's limit per connection
    messages_per_s: float = 4.0  # requests we send on a stream connection (Binance closes one above 5/s)
