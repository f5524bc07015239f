"""Settings from the environment and `.env`: the schema. Read once, by the composition root (`load_settings`),
never at import; slices read the fields they need from the `Settings` the root hands them."""

from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from src.common import setting_rules as rules
from src.domain.features import feature_set
from src.domain.indicators import INDICATORS, parse_specs
from src.domain.market_data import Interval

Role = Literal["api", "collector", "scheduler"]
ALL_ROLES: tuple[Role, ...] = get_args(Role)

# Lists come from the environment as JSON text (`CORS_ORIGINS='["https://a"]'`), parsed by us so that a
# malformed value is one clear line rather than a traceback from the settings source.
T = TypeVar("T")
JsonList = Annotated[list[T], NoDecode, BeforeValidator(rules.json_list)]
HttpUrl = Annotated[str, AfterValidator(lambda v: rules.url(v, ("http", "https")))]
WsUrl = Annotated[str, AfterValidator(lambda v: rules.url(v, ("ws", "wss")))]
Origin = Annotated[str, AfterValidator(rules.origin)]
Cidr = Annotated[str, AfterValidator(rules.cidr)]
HostPattern = Annotated[str, AfterValidator(rules.host_pattern)]


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
    # Each chunk and each series directory in a collection of its own (flat write cost on the embedded store)
    # or shared collections (fewer files on MongoDB). Unset: own collections when embedded, shared on MongoDB.
    mongodb_collection_per_series: bool | None = None
    # Unset: an in-process cache.
    redis_url: SecretStr | None = None
    redis_timeout_s: float = Field(default=1.0, gt=0)
    # Near cache: hot query results also kept in each worker in front of Redis (Redis cache only).
    cache_near_enabled: bool = True
    cache_near_max_entries: int = Field(default=1000, ge=1)
    cache_near_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1)
    # GET /ohlcv: pages of at most this many bars are cached whole; larger ones are streamed, uncached, and
    # at most `ohlcv_max_downloads` of those run at once per worker (more get a 503 with Retry-After).
    ohlcv_cache_max_bars: int = Field(default=20_000, ge=0)
    ohlcv_max_downloads: int = Field(default=4, ge=1)

    tradingview_ws_url: WsUrl = "wss://data.tradingview.com/socket.io/websocket?from=chart%2F&type=chart"
    tradingview_search_url: HttpUrl = "https://symbol-search.tradingview.com/symbol_search/v3/"
    tradingview_signin_url: HttpUrl = "https://www.tradingview.com/accounts/signin/"
    tradingview_username: str | None = None
    tradingview_password: SecretStr | None = None
    tradingview_timeout_s: float = Field(default=20.0, gt=0)
    tradingview_requests_per_s: float = Field(default=5.0, gt=0)

    # --- Binance and Yahoo Finance (issue 15): on by default with their real hosts; tests use the simulators.
    binance_enabled: bool = True
    binance_api_url: HttpUrl = "https://api.binance.com/api"  # REST base ending in /api
    binance_stream_url: WsUrl = "wss://stream.binance.com:9443/"  # market streams base
    binance_timeout_s: float = Field(default=10.0, gt=0)
    binance_weight_per_minute: int = Field(default=6_000, ge=10)  # the exchange's REQUEST_WEIGHT limit per IP
    binance_weight_share: float = Field(default=0.8, gt=0, le=1)  # the share of it PocketQuant may spend
    binance_symbols_ttl_s: float = Field(default=3_600.0, gt=0)  # exchangeInfo cache
    binance_stream_lifetime_s: float = Field(default=23.5 * 3_600, gt=0)  # renewed before Binance's 24 h cut
    yahoo_enabled: bool = True
    yahoo_base_url: HttpUrl = "https://query2.finance.yahoo.com"
    yahoo_cookie_url: HttpUrl = "https://fc.yahoo.com"
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
    live_bar_intervals: JsonList[str] = ["1m", "5m", "15m", "1h", "1d"]
    live_close_every_s: float = Field(default=0.25, gt=0)
    live_close_grace_s: float = Field(default=2.0, ge=0)
    # Clients of WS /api/v1/ws/quotes: connections per client and per address, symbols per connection, how
    # long one send may stall (a client that does not read is then closed with 1013), frames queued per client.
    ws_max_connections_per_client: int = Field(default=8, ge=1)
    ws_max_connections_per_address: int = Field(default=32, ge=1)
    ws_max_symbols_per_connection: int = Field(default=500, ge=1)
    ws_send_timeout_s: float = Field(default=5.0, gt=0)
    ws_max_queued_frames: int = Field(default=256, ge=8)
    ws_auth_timeout_s: float = Field(default=5.0, gt=0)  # a socket without credentials must authenticate by then
    # Alerts: a process evaluates the rules of the shards whose lease it holds (in Redis when configured).
    alerts_lease_ttl_s: float = Field(default=15.0, gt=0)  # a stopped or dead evaluator's shards are free after
    alerts_refresh_s: float = Field(default=2.0, gt=0)  # lease renewal and polling for other processes' edits
    alerts_flush_s: float = Field(default=1.0, gt=0)  # what rules remember is written at least this often
    # Indicators (specs such as "rsi:14"; a bare name means its default sets) and feature set versions kept
    # current bar by bar for every series whose live bars close.
    live_indicators: JsonList[str] = Field(default_factory=lambda: list(INDICATORS))
    live_feature_sets: JsonList[str] = ["v1"]

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
    # What this process does: ROLES=api,scheduler (comma-separated; `all` or unset: every role). `api` serves
    # the whole HTTP API (without it only /health, /metrics and the jobs routes), `scheduler` runs the
    # scheduled jobs (together with SCHEDULER_ENABLED), `collector` owns the live quote sessions (with Redis:
    # one collector at a time, elected through a lease; see "Scaling out" in the README).
    roles: Annotated[frozenset[Role], NoDecode] = frozenset(ALL_ROLES)
    # --- Scale-out (with REDIS_URL): events, live data and collector commands go through Redis Streams.
    cluster_redis_prefix: str = "pq:cluster:"  # one deployment's keys and streams
    cluster_stream_max_length: int = Field(default=100_000, ge=100)  # entries kept per stream (MAXLEN ~)
    cluster_status_every_s: float = Field(default=1.0, gt=0)  # the collector's status to the API workers
    # The collector lease: renewed every third of it; a killed collector's standby takes over within it.
    collector_lease_s: float = Field(default=5.0, ge=1.0)
    collector_command_timeout_s: float = Field(default=15.0, gt=0)  # an API worker waits this long for the collector

    # --- Data quality (issue 19): each check's threshold (`QualityThresholds`, its fields prefixed `quality_`),
    # what a series keeps, and the reconciliation of live-built bars with the source's.
    quality_max_invalid_bars: int = Field(default=0, ge=0)
    quality_max_missing_bars: int = Field(default=0, ge=0)
    quality_max_stale_periods: int = Field(default=3, ge=0)
    quality_spike_z: float = Field(default=10.0, gt=0)
    quality_spike_range_multiple: float = Field(default=10.0, gt=0)
    quality_spike_neighbours: int = Field(default=5, ge=1, le=50)
    quality_spike_revert_bars: int = Field(default=3, ge=1, le=50)
    quality_spike_revert_fraction: float = Field(default=0.5, gt=0)
    quality_zero_volume_run_bars: int = Field(default=30, ge=1)
    quality_flat_run_bars: int = Field(default=30, ge=1)
    quality_future_tolerance_periods: int = Field(default=1, ge=0)
    quality_reconcile_price_tolerance: float = Field(default=1e-6, ge=0)
    quality_reconcile_volume_tolerance: float = Field(default=0.01, ge=0)
    quality_reconcile_policy: Literal["keep_live", "replace_with_source"] = "keep_live"
    quality_history_size: int = Field(default=500, ge=1, le=10_000)  # score history kept per series
    quality_max_flags: int = Field(default=10_000, ge=1, le=50_000)  # flags kept per series (one document)
    quality_max_bars: int = Field(default=500_000, ge=1)  # a full check reads at most the newest this many
    quality_check_every_s: float = Field(default=900.0, gt=0)  # the scheduled check of every series
    quality_check_concurrency: int = Field(default=2, ge=1, le=64)  # series checked at once after syncs

    # --- HTTP edge (issue 7). Lists come from the environment as JSON, e.g. CORS_ORIGINS='["https://a"]'.
    rate_limit_enabled: bool = True
    rate_limit_capacity: int = Field(default=200, ge=1)
    rate_limit_refill_per_s: float = Field(default=20.0, gt=0)
    rate_limit_exempt_paths: JsonList[str] = ["/health", "/metrics"]
    rate_limit_headers_always: bool = False  # False: RateLimit-* on 2xx only once half the bucket is spent
    trusted_proxies: JsonList[Cidr] = []  # CIDRs whose X-Forwarded-For is believed
    idempotency_ttl_s: int = Field(default=86_400, ge=1)
    idempotency_lock_ttl_s: float = Field(default=60.0, gt=0)  # a running first request holds the key this long
    idempotency_max_body_bytes: int = Field(default=1_048_576, ge=1)
    edge_redis_prefix: str = "pq:edge:"
    cors_origins: JsonList[Origin] = []  # empty: CORS closed
    webhook_urls: JsonList[HttpUrl] = []
    webhook_secret: SecretStr | None = None
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=5, ge=1)
    webhook_backoff_base_s: float = Field(default=1.0, ge=0)
    webhook_backoff_max_s: float = Field(default=60.0, ge=0)
    webhook_max_in_flight: int = Field(default=32, ge=1)
    webhook_drain_timeout_s: float = Field(default=5.0, ge=0)

    # --- Hardening (issue 13)
    max_request_body_bytes: int = Field(default=1_048_576, ge=1)  # every route; larger bodies get a 413
    # Host headers accepted (DNS rebinding). Empty: loopback names when bound to loopback, any host otherwise.
    trusted_hosts: JsonList[HostPattern] = []
    access_log: bool = True  # one line per request: route template, status, duration, client, correlation id
    # Circuit breaker in front of Redis: opens after this many failures in a row, fails fast while open,
    # then probes with a PING (the open time doubles after each failed probe, up to the maximum).
    redis_breaker_failures: int = Field(default=3, ge=1)
    redis_breaker_open_s: float = Field(default=1.0, gt=0)
    redis_breaker_max_open_s: float = Field(default=30.0, gt=0)

    # --- Authentication (issue 14). With a signing key set, every route but the public ones needs a JWT
    # or an API key. Without one the service runs open, which it does only in development on loopback.
    auth_jwt_secret: SecretStr | None = None  # signs access tokens (HS256); at least 32 characters
    auth_jwt_previous_secrets: JsonList[SecretStr] = []  # still verify tokens they signed (key rotation)
    auth_access_token_ttl_s: int = Field(default=3600, ge=60, le=86_400)
    auth_refresh_token_ttl_s: int = Field(default=30 * 86_400, ge=300)
    auth_open_registration: bool = False  # POST /api/v1/auth/register creates viewers; off: admins create users
    admin_username: str = Field(default="admin", pattern=r"^[a-z0-9][a-z0-9_.\-]{2,63}$")
    admin_password: SecretStr | None = None  # the first admin's; unset: a one-time password printed at first start
    health_public: bool = True  # /health without credentials (load balancers, probes)
    metrics_public: bool = False  # /metrics without credentials (otherwise: any authenticated role)

    @model_validator(mode="after")
    def _quality_spike_windows(self) -> "Settings":
        if self.quality_spike_revert_bars > self.quality_spike_neighbours:
            raise ValueError("quality_spike_revert_bars must be at most quality_spike_neighbours")
        return self

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

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            rules.url(value.get_secret_value(), ("redis", "rediss", "unix"))
        return value

    @field_validator("auth_jwt_secret", "auth_jwt_previous_secrets")
    @classmethod
    def _signing_keys(cls, value: Any) -> Any:
        for key in value if isinstance(value, list) else [value]:
            if key is not None and len(key.get_secret_value()) < 32:
                raise ValueError("signing keys must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("mongodb_url")
    @classmethod
    def _mongodb_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            rules.url(value.get_secret_value(), ("mongodb", "mongodb+srv"))
        return value

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
    """Stops the start with one line per invalid variable, naming it and what was expected."""


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as error:
        lines = dict.fromkeys(rules.error_line(tuple(e["loc"]), e["msg"]) for e in error.errors())
        raise SettingsError("\n".join(lines)) from None
    except SourceError as error:  # a value the settings source itself could not read
        raise SettingsError(f"invalid settings: {error}") from None
