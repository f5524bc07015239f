"""One process per embedded store: an exclusive lock on `DATA_DIR/pocketquant.lock`, held while the
embedded server runs.

Two processes on one SQLite file would each keep in-process caches the other never invalidates (stale
reads), so a second process refuses to start with a message saying why and what to do instead: several
workers share MongoDB (`MONGODB_URL`) and Redis (`REDIS_URL`), whose caches are kept coherent. The lock is
`flock`: the kernel releases it when its holder exits, however it exits.
"""

import fcntl
import os
from pathlib import Path

LOCK_FILE = "pocketquant.lock"


class DataDirInUse(RuntimeError):
    pass


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUse(
                f"DATA_DIR {self.path.parent.resolve()} is in use by another PocketQuant process (pid {holder}); "
                "the embedded store serves one process. Stop that process, give this one another DATA_DIR, or "
                "run several workers against MongoDB (MONGODB_URL) and Redis (REDIS_URL)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
