"""Fault switches every simulator understands; each source adds its own fields in a subclass.

A switch is a plain attribute: tests flip it on the Python object or with `POST /_sim/faults {"name": value}`
while clients are connected, and the next request sees it.
"""

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Faults:
    latency: float = 0.0  # seconds added before every answer
    error_rate: float = 0.0  # share of requests answered with the source's 5xx error (seeded, reproducible)
    hang: bool = False  # accept requests and never answer them (until the switch is turned off or the server stops)
    unknown_symbols: set[str] = field(default_factory=set)  # symbols answered as the source answers an unknown one

    def update(self, changes: dict[str, Any]) -> None:
        """Apply `changes` (as decoded from JSON); an unknown name is a KeyError, a set field takes a list."""
        names = {f.name: f for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in names:
                raise KeyError(name)
            current = getattr(self, name)
            setattr(self, name, set(value) if isinstance(current, set) else value)

    def as_json(self) -> dict[str, Any]:
        return {k: sorted(v) if isinstance(v, set) else v for k, v in dataclasses.asdict(self).items()}
