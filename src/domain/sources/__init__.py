"""What the domain knows about data sources themselves (as opposed to their data): their circuit breaker."""

from src.domain.sources.circuit import (
    TRANSITIONS,
    Admission,
    BreakerPolicy,
    CircuitBreaker,
    CircuitState,
    Signal,
)

__all__ = ["TRANSITIONS", "Admission", "BreakerPolicy", "CircuitBreaker", "CircuitState", "Signal"]
