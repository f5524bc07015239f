"""`Core`: the shared objects every slice may ask for, built once by the root. Each slice declares a
Protocol naming the part it reads; `Core` satisfies them all structurally."""

from dataclasses import dataclass

from src.common.calendars import SymbolCalendars
from src.common.event_bus import EventBus
from src.common.mediator import Mediator
from src.common.ports import (
    AccessTokens,
    ApiKeyRepository,
    Authenticator,
    Cache,
    ClientLimits,
    Clock,
    DeadLetterRepository,
    HealthCheck,
    JobRunner,
    OHLCVRepository,
    OperatorConsole,
    PasswordHasher,
    QualityRepository,
    RefreshTokenRepository,
    RunOwner,
    Secrets,
    SymbolMetadataRepository,
    SymbolRepository,
    SyncStatusRepository,
    UserRepository,
    WebhookSender,
)
from src.common.providers import ProviderRegistry
from src.common.settings import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Core:
    settings: Settings
    clock: Clock
    event_bus: EventBus
    mediator: Mediator  # handlers are registered into it after every slice is built
    providers: ProviderRegistry
    bars: OHLCVRepository
    sync_status: SyncStatusRepository
    symbols: SymbolRepository
    dead_letters: DeadLetterRepository
    cache: Cache
    webhooks: WebhookSender | None
    health: HealthCheck  # the lifecycle: every component's check
    jobs: JobRunner
    run_owner: RunOwner  # this process, as the owner of the sync runs it starts
    # identity: accounts, credentials, and turning a credential into a principal (HTTP edge, WebSocket)
    users: UserRepository
    api_keys: ApiKeyRepository
    refresh_tokens: RefreshTokenRepository
    passwords: PasswordHasher
    access_tokens: AccessTokens
    authenticator: Authenticator
    secrets: Secrets
    console: OperatorConsole
    symbol_metadata: SymbolMetadataRepository
    quality: QualityRepository  # each series' quality record: scores, checks, anomaly flags
    calendars: SymbolCalendars  # each instrument's trading calendar, from its stored metadata
    client_limits: ClientLimits  # the HTTP edge's per-client buckets, for the WebSocket
