"""Identity rules that a request broke (answered 422, naming the field)."""

from src.domain.errors import DomainError


class InvalidUsername(DomainError):
    pass


class WeakPassword(DomainError):
    pass
