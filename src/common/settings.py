"""Settings from the environment and `.env`: the schema. Read once, by the composition root (`load_settings`),
never at import; slices read the fields they need from the `Settings` the root hands them."""

from collections.abc import Iterable
from typing import Annotated, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from src.domain.features import feature_set
from src.domain.indicators import INDICATORS, parse_specs
from src.domain.market_data import Interval

Role = Literal["api", "collector", "scheduler"]
ALL_ROLES: tuple[Role, ...] = get_args(Role)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    log_format: Literal["json", "console"] | None = None  # default: json in production, console otherwise
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Unset: an embedded mongoeco server over SQLite under `data_dir`.
    mongodb_url: SecretStr | None = None
    mongodb_database: str = "pocketquant"
    mongodb_timeout_s: float = Field(default=5.0, gt=0)
    data_dir: str = "./data"
    # Chunk documents in one collection per series (fast on the embedded store) or one shared collection
    # (fewer files on MongoDB). Unset: per series when embedded, shared on MongoDB. Keep it fixed per database.
    mongodb_collection_per_series: bool | None = None
    # Unset: an in-process cache.
    redis_url: SecretStr | None = None
    redis_timeout_s: float = Field(default=1.0, gt=0)
    # Near cache: hot query results also kept in each worker in front of Redis (Redis cache only).
    cache_near_enabled: bool = True
    cache_near_max_entries: int = Field(default=1000, ge=1)
    cache_near_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1)

    tradingview_ws_url: str = "wss://data.tradingview.com/socket.io/websocket?from=chart%2F&type=chart"
    tradingview_search_url: str = "https://symbol-search.tradingview.com/symbol_search/v3/"
    tradingview_signin_url: str = "https://www.tradingview.com/accounts/signin/"
    tradingview_username: str | None = None
    tradingview_password: SecretStr | None = None
    tradingview_timeout_s: float = Field(default=20.0, gt=0)
    tradingview_requests_per_s: float = Field(default=5.0, gt=0)

    # --- Binance and Yahoo Finance (issue 15): on by default with their real hosts; tests use the simulators.
    binance_enabled: bool = True
    binance_api_url: str = "https://api.binance.com/api"  # REST base ending in /api
    binance_stream_url: str = "wss://stream.binance.com:9443/"  # market streams base
    binance_timeout_s: float = Field(default=10.0, gt=0)
    binance_weight_per_minute: int = Field(default=6_000, ge=10)  # the exchange's REQUEST_WEIGHT limit per IP
    binance_weight_share: float = Field(default=0.8, gt=0, le=1)  # the share of it PocketQuant may spend
    binance_symbols_ttl_s: float = Field(default=3_600.0, gt=0)  # exchangeInfo cache
    binance_stream_lifetime_s: float = Field(default=23.5 * 3_600, gt=0)  # renewed before Binance's 24 h cut
    yahoo_enabled: bool = True
    yahoo_base_url: str = "https://query2.finance.yahoo.com"
    yahoo_cookie_url: str = "https://fc.yahoo.com"
    yahoo_timeout_s: float = Field(default=10.0, gt=0)
    yahoo_requests_per_minute: float = Field(default=60.0, gt=0)
    yahoo_poll_interval_s: float = Field(default=15.0, ge=2.0)  # live quotes are polled this often
    # Every source: its circuit breaker, and the longest a request waits for its share of the source's budget.
    source_breaker_failures: int = Field(default=5, ge=1)
    source_breaker_open_s: float = Field(default=30.0, gt=0)
    source_max_wait_s: float = Field(default=30.0, ge=0)
    upstream_redis_prefix: str = "pq:upstream:"

    health_check_timeout_s: float = Field(default=2.0, gt=0)
    # The built web app (`make web` → web/dist); unset: web/dist beside the sources (a checkout).
    web_dist_dir: str | None = None

    # Live bars: the intervals built by default (changed at run time with PUT /api/v1/quotes/intervals),
    # how often the timer closes bars whose period ended, and the grace it leaves late ticks.
    live_bar_intervals: list[str] = ["1m", "5m", "15m", "1h", "1d"]
    live_close_every_s: float = Field(default=0.25, gt=0)
    live_close_grace_s: float = Field(default=2.0, ge=0)
    # Indicators (specs such as "rsi:14"; a bare name means its default sets) and feature set versions kept
    # current bar by bar for every series whose live bars close.
    live_indicators: list[str] = Field(default_factory=lambda: list(INDICATORS))
    live_feature_sets: list[str] = ["v1"]

    sync_bulk_concurrency: int = Field(default=4, ge=1, le=64)  # series of one source synced at once
    # On shutdown, in-flight requests and running syncs get this long (from the signal) to finish; then
    # syncs are cancelled and recorded as interrupted.
    sync_drain_timeout_s: float = Field(default=5.0, ge=0)
    # A running sync holds its series for this long and renews it every third of it; a run whose lease
    # expired (its process died elsewhere) is taken over and recorded as interrupted.
    sync_lease_s: float = Field(default=30.0, gt=0)
    # A sync or a subscription asks the source for a symbol's metadata (time zone, sessions, holidays) when
    # what is stored is older than this.
    symbol_metadata_max_age_s: float = Field(default=3_600.0, ge=0)
    # Each component gets this long to stop; above the sync drain, so the drain decides.
    component_stop_timeout_s: float = Field(default=10.0, gt=0)
    scheduler_enabled: bool = True
    # What this process does: ROLES=api,scheduler (comma-separated; `all` or unset: every role). Today `api`
    # serves the whole HTTP API (without it only /health, /metrics and the jobs routes), `scheduler` runs the
    # scheduled jobs (together with SCHEDULER_ENABLED), `collector` is accepted and changes nothing yet.
    roles: Annotated[frozenset[Role], NoDecode] = frozenset(ALL_ROLES)

    # --- HTTP edge (issue 7). Lists come from the environment as JSON, e.g. CORS_ORIGINS='["https://a"]'.
    rate_limit_enabled: bool = True
    rate_limit_capacity: int = Field(default=200, ge=1)
    rate_limit_refill_per_s: float = Field(default=20.0, gt=0)
    rate_limit_exempt_paths: list[str] = ["/health", "/metrics"]
    rate_limit_headers_always: bool = False  # False: RateLimit-* on 2xx only once half the bucket is spent
    trusted_proxies: list[str] = []  # CIDRs whose X-Forwarded-For is believed
    idempotency_ttl_s: int = Field(default=86_400, ge=1)
    idempotency_lock_ttl_s: float = Field(default=60.0, gt=0)  # a running first request holds the key this long
    idempotency_max_body_bytes: int = Field(default=1_048_576, ge=1)
    edge_redis_prefix: str = "pq:edge:"
    cors_origins: list[str] = []  # empty: CORS closed
    webhook_urls: list[str] = []
    webhook_secret: SecretStr | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=5, ge=1)
    webhook_backoff_base_s: float = Field(default=1.0, ge=0)
    webhook_backoff_max_s: float = Field(default=60.0, ge=0)
    webhook_max_in_flight: int = Field(default=32, ge=1)
    webhook_drain_timeout_s: float = Field(default=5.0, ge=0)

    @field_validator("live_bar_intervals")
    @classmethod
    def _intervals(cls, value: list[str]) -> list[str]:
        return [Interval.parse(code).code for code in value]

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, value: object) -> object:
        names = [part.strip() for part in value.split(",")] if isinstance(value, str) else value
        if not isinstance(names, Iterable):
            return value
        names = [name for name in names if name]
        if names == ["all"]:
            return frozenset(ALL_ROLES)
        unknown = [name for name in names if name not in ALL_ROLES]
        if unknown or not names:
            raise ValueError(f"roles are a comma-separated subset of {', '.join(ALL_ROLES)} (or all); got {value!r}")
        return frozenset(names)

    @field_validator("live_indicators")
    @classmethod
    def _indicators(cls, value: list[str]) -> list[str]:
        return [spec.text for spec in parse_specs(value)]

    @field_validator("live_feature_sets")
    @classmethod
    def _feature_sets(cls, value: list[str]) -> list[str]:
        return [feature_set(version).version for version in dict.fromkeys(value)]

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def serves_api(self) -> bool:
        return "api" in self.roles

    @property
    def runs_scheduler(self) -> bool:
        return self.scheduler_enabled and "scheduler" in self.roles

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format:
            return self.log_format
        return "json" if self.environment == "production" else "console"


class SettingsError(SystemExit):
    """Stops the start with one line naming the variable at fault."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        variable = "_".join(str(part) for part in first["loc"]).upper() or "settings"
        raise SettingsError(f"invalid setting {variable}: {first['msg']}") from None
