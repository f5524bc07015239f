"""The MongoDB connection as a resource: an external server (MONGODB_URL) or the embedded one.

Every call is bounded by timeouts, and a server that cannot be reached surfaces as `StoreUnavailable`
within about `server_selection_timeout_ms`. pymongo keeps monitoring the server in the background and
reconnects by itself when it returns, so the same client recovers without a restart.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import structlog
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from src.common.errors import StoreUnavailable
from src.common.redaction import redact_url
from src.infrastructure.mongo.embedded import EmbeddedMongo, Engine, free_port

log = structlog.get_logger(__name__)

# Failures that mean "the store is not reachable right now" (ServerSelectionTimeoutError, AutoReconnect,
# NetworkTimeout and WaitQueueTimeoutError are all ConnectionFailure).
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (ConnectionFailure, ExecutionTimeout)


@asynccontextmanager
async def store_errors() -> AsyncIterator[None]:
    """Translate pymongo's connectivity failures into `StoreUnavailable`."""
    try:
        yield
    except UNAVAILABLE_ERRORS as error:
        raise StoreUnavailable(f"MongoDB is unavailable: {type(error).__name__}") from error


def translate_errors[**P, R](method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorator form of `store_errors` for repository methods."""

    @wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        async with store_errors():
            return await method(*args, **kwargs)

    return wrapper


class MongoStore:
    """Start/stop resource owning the client (and the embedded server when no URL is given).

    `url`: MONGODB_URL, or None for the embedded mongoeco server with SQLite under `data_dir`.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        database: str = "pocketquant",
        data_dir: Path | str = Path("data"),
        embedded_engine: Engine = "sqlite",
        server_selection_timeout_ms: int = 2_000,
        connect_timeout_ms: int = 2_000,
        socket_timeout_ms: int = 10_000,
        embedded_port: int = 0,
    ) -> None:
        self.url = url
        self.database_name = database
        self.data_dir = Path(data_dir)
        self.embedded_engine: Engine = embedded_engine
        self.embedded_port = embedded_port
        self._client_options: dict[str, Any] = {
            "serverSelectionTimeoutMS": server_selection_timeout_ms,
            "connectTimeoutMS": connect_timeout_ms,
            "socketTimeoutMS": socket_timeout_ms,
            "tz_aware": True,
        }
        self.embedded: EmbeddedMongo | None = None
        self._client: AsyncMongoClient[dict[str, Any]] | None = None

    @property
    def kind(self) -> str:
        return "external" if self.url else "embedded"

    @property
    def uri(self) -> str:
        if self.url is not None:
            return self.url
        if self.embedded is None:
            # The port is fixed now so that the client (and repositories holding the database) can be
            # built before the embedded server starts; `start()` binds it.
            self.embedded = EmbeddedMongo(self.data_dir, engine=self.embedded_engine, port=self.embedded_port)
            self.embedded.port = self.embedded.port or free_port(self.embedded.host)
        return self.embedded.uri

    @property
    def client(self) -> AsyncMongoClient[dict[str, Any]]:
        """Created on first use; it connects on its first operation, after `start()`."""
        if self._client is None:
            self._client = AsyncMongoClient(self.uri, **self._client_options)
        return self._client

    @property
    def database(self) -> AsyncDatabase[dict[str, Any]]:
        return self.client[self.database_name]

    async def start(self) -> AsyncDatabase[dict[str, Any]]:
        uri = self.uri
        if self.embedded is not None and not self.embedded.running:
            await asyncio.to_thread(self.embedded.start)
        log.info(
            "mongo_store_in_use",
            store=self.kind,
            engine=self.embedded_engine if self.embedded else "mongodb",
            uri=uri if self.embedded else redact_url(uri),
            database=self.database_name,
        )
        return self.database

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        if self.embedded is not None:
            await asyncio.to_thread(self.embedded.stop)

    async def ping(self) -> bool:
        """Health check: True when the server answers a ping within the selection timeout."""
        try:
            await self.client.admin.command("ping")
        except UNAVAILABLE_ERRORS as error:
            log.warning("mongo_ping_failed", error=type(error).__name__)
            return False
        return True

