"""Errors raised by the domain when an invariant would be broken."""


class DomainError(ValueError):
    """Base of every domain rule violation; `field` names what was wrong when one input is at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidSymbol(DomainError):
    pass


class InvalidSource(DomainError):
    pass


class InvalidInterval(DomainError):
    pass


class InvalidBar(DomainError):
    pass


class InvalidSeries(DomainError):
    pass


class InvalidQuote(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class InvalidTimeZone(DomainError):
    pass


class InvalidSession(DomainError):
    """A malformed trading-session description; `field` is `session`, `session_holidays` or `session-correction`."""


class NotABarOpen(DomainError):
    """A time given as a bar's open that is not the open of any bar of that interval in the calendar."""


class InvalidIndicator(DomainError):
    """An indicator spec names no known indicator or gives a parameter it does not accept."""


class UnknownFeatureSet(DomainError):
    pass
