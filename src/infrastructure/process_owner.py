"""`ProcessOwner`: this process as the owner of sync runs (`RunOwner`). Its id is
`host:pid:boot` (`boot` random per start), so a run left by a killed process on this host is recognised
at once (its pid is gone, or it is our pid with another boot id); on other hosts the lease decides."""

import os
import socket
import uuid


class ProcessOwner:
    def __init__(self) -> None:
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.boot = uuid.uuid4().hex[:12]

    @property
    def id(self) -> str:
        return f"{self.host}:{self.pid}:{self.boot}"

    def is_gone(self, owner: str) -> bool:
        try:
            host, pid_text, boot = owner.rsplit(":", 2)
            pid = int(pid_text)
        except ValueError:
            return False  # not one of ours: its lease decides
        if host != self.host:
            return False
        if pid == self.pid:
            return boot != self.boot
        return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """A killed process its parent has not reaped yet still has a pid, but it runs nothing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
