"""Application errors with meaning; the HTTP edge maps each to one problem+json response."""


class ApplicationError(Exception):
    """Base for errors the API reports to clients as something other than a 500."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidRequest(ApplicationError):
    """A well-formed request naming something that does not fit (e.g. an unregistered source)."""


class NotFound(ApplicationError):
    pass


class SymbolNotFound(NotFound):
    pass


class Conflict(ApplicationError):
    pass


class UpstreamUnavailable(ApplicationError):
    """The upstream (TradingView) or a store could not be reached or timed out."""


class SourceUnavailable(UpstreamUnavailable):
    """A source refuses requests for a known time: its circuit is open, it rate-limited or banned us. The
    problem names the source and carries `Retry-After`."""

    def __init__(self, message: str, *, source: str, retry_after_s: float) -> None:
        super().__init__(message, field="source")
        self.source = source
        self.retry_after_s = retry_after_s


class ShuttingDown(UpstreamUnavailable):
    """The service is stopping: the work was not done (or was cut off). 503, retry elsewhere or later."""


class UpstreamRejected(ApplicationError):
    """The upstream answered but refused (bad token, banned, protocol error)."""


class StoreUnavailable(ApplicationError):
    """The database is down; requests fail fast until it returns."""


class Overloaded(ApplicationError):
    """This worker is at a configured bound of concurrent work (e.g. large downloads); retry shortly."""


class Unauthenticated(ApplicationError):
    """No credentials where they are required, or credentials that are not (or no longer) valid."""


class Forbidden(ApplicationError):
    """Authenticated, but the role does not allow this."""


class AuthenticationOff(Conflict):
    """An identity operation on a service running without authentication (no signing key configured)."""


class NoHandlerRegistered(LookupError):
    pass
