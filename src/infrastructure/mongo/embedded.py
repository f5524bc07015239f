"""An embedded MongoDB-compatible server: mongoeco's wire-protocol proxy on 127.0.0.1.

The server runs in its own thread with its own event loop (as `mongoeco._pytest_runtime` does), never
on the service's loop, so a slow SQLite write cannot stall request handling and the service talks to it
through a real `pymongo.AsyncMongoClient` exactly as it would talk to MongoDB.
"""

import asyncio
import concurrent.futures
import contextlib
import socket
import threading
from pathlib import Path
from typing import Any, Literal

import structlog

from src.infrastructure.mongo.data_dir_lock import DataDirInUse, DataDirLock

log = structlog.get_logger(__name__)

Engine = Literal["sqlite", "memory"]

_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 15.0


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class EmbeddedMongo:
    """mongoeco's wire server on `host:port` (a free port when 0), SQLite data under `data_dir`.

    `start()` blocks until the server listens and returns its URI; `stop()` blocks until it has closed.
    After `stop()` the same object can `start()` again on the same port (and the same SQLite file), which
    is how outage tests take the store away and give it back.
    """

    def __init__(
        self,
        data_dir: Path | str = Path("data"),
        *,
        engine: Engine = "sqlite",
        host: str = "127.0.0.1",
        port: int = 0,
        database_file: str = "pocketquant.sqlite",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.engine = engine
        self.host = host
        self.port = port
        self.database_file = database_file
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._lock = DataDirLock(self.data_dir) if engine == "sqlite" else None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> str:
        if self.running:
            return self.uri
        if self.port == 0:
            self.port = free_port(self.host)
        if self._lock is not None:
            try:
                self._lock.acquire()  # one process per data directory (`data_dir_lock`)
            except DataDirInUse as error:
                log.error("data_dir_in_use", detail=str(error))
                raise
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(ready,), name=f"mongoeco-{self.port}", daemon=True)
        self._thread.start()
        try:
            ready.result(timeout=_START_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        log.info("embedded_mongo_started", uri=self.uri, engine=self.engine, data_dir=str(self.data_dir))
        return self.uri

    def stop(self) -> None:
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(timeout=_STOP_TIMEOUT)
        if thread.is_alive():
            raise TimeoutError(f"embedded mongo on port {self.port} did not stop in {_STOP_TIMEOUT}s")
        self._thread = self._loop = self._stop_event = None
        if self._lock is not None:
            self._lock.release()
        log.info("embedded_mongo_stopped", port=self.port)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as error:
            if ready.done():
                self._error = error
            else:
                ready.set_exception(error)

    def _make_engine(self) -> Any:
        if self.engine == "memory":
            from mongoeco.engines.memory import MemoryEngine

            return MemoryEngine()
        from mongoeco.engines.sqlite import SQLiteEngine

        return SQLiteEngine(str(self.data_dir / self.database_file))

    async def _serve(self, ready: concurrent.futures.Future[None]) -> None:
        from mongoeco.wire._lifecycle import finish_cleanup
        from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        proxy = AsyncMongoEcoProxyServer(engine=self._make_engine(), host=self.host, port=self.port)
        try:
            await asyncio.wait_for(proxy.start(), timeout=_START_TIMEOUT)
            ready.set_result(None)
            await self._stop_event.wait()
        finally:
            await finish_cleanup(proxy.close())

    def __enter__(self) -> "EmbeddedMongo":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
