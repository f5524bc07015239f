"""The correlation id of the work in progress, carried in a contextvar across awaits and tasks."""

import asyncio
import contextvars
import itertools
import os
import re
from collections.abc import Coroutine, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

import structlog

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class _IdSource:
    """A random 16-hex-digit prefix per process (drawn on first use, and again in a forked child) and
    a counter: ids unique across processes without uuid4's syscall and UUID object per request."""

    def __init__(self) -> None:
        self._prefix = ""
        self._counter = itertools.count(1)

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def next(self) -> str:
        if not self._prefix:
            self.reseed()
        return f"{self._prefix}{next(self._counter):016x}"


_ids = _IdSource()
os.register_at_fork(after_in_child=_ids.reseed)


def new_correlation_id() -> str:
    """32 hex digits."""
    return _ids.next()


def is_valid_correlation_id(value: str) -> bool:
    return bool(_VALID.match(value))


def get_correlation_id() -> str | None:
    return _correlation_id.get()


@contextmanager
def correlation_scope(correlation_id: str | None = None) -> Iterator[str]:
    """Bind a correlation id (a new one if none is given) for the block, in context and in logs."""
    cid = correlation_id or new_correlation_id()
    tokens = bind_correlation_id(cid)
    try:
        yield cid
    finally:
        reset_correlation_id(tokens)


CorrelationTokens = tuple[Token[str | None], Mapping[str, Token[Any]]]


def bind_correlation_id(correlation_id: str) -> CorrelationTokens:
    """`correlation_scope` without the context manager, for the per-request hot path: bind, then
    `reset_correlation_id(tokens)` in a `finally`. Tokens, not `bound_contextvars`, which copies the
    whole context twice."""
    return _correlation_id.set(correlation_id), structlog.contextvars.bind_contextvars(
        correlation_id=correlation_id
    )


def reset_correlation_id(tokens: CorrelationTokens) -> None:
    structlog.contextvars.reset_contextvars(**tokens[1])
    _correlation_id.reset(tokens[0])


def spawn_detached[T](coro: Coroutine[Any, Any, T], *, name: str) -> "asyncio.Task[T]":
    """A long-lived background task (a connection supervisor, a listener, a batcher) that must not carry the
    correlation id of whichever request happened to start it: it runs in a copy of the current context
    with the correlation id and every structlog-bound value unbound. Work done *for* a request (a
    background sync it started) keeps the request's id and uses `asyncio.create_task` as usual."""
    context = contextvars.copy_context()
    context.run(_unbind)
    return asyncio.get_running_loop().create_task(coro, name=name, context=context)


def _unbind() -> None:
    _correlation_id.set(None)
    structlog.contextvars.clear_contextvars()
