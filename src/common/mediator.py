"""The Mediator: each Command or Query type has exactly one handler; `send` runs it."""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from src.common.errors import NoHandlerRegistered

Handler = Callable[[Any], Awaitable[Any]]


class Mediator:
    def __init__(self, handlers: Mapping[type, Handler] | None = None) -> None:
        self._handlers: dict[type, Handler] = {}
        for message_type, handler in (handlers or {}).items():
            self.register(message_type, handler)

    def register(self, message_type: type, handler: Handler) -> None:
        if message_type in self._handlers:
            raise ValueError(f"a handler for {message_type.__name__} is already registered")
        self._handlers[message_type] = handler

    @property
    def handlers(self) -> Mapping[type, Handler]:
        return self._handlers

    async def send(self, message: Any) -> Any:
        """Run the one handler of `message`'s type; its exception reaches the caller unchanged."""
        handler = self._handlers.get(type(message))
        if handler is None:
            raise NoHandlerRegistered(f"no handler registered for {type(message).__name__}")
        return await handler(message)
