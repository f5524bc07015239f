"""Yahoo's switches beside the common ones (all live)."""

from dataclasses import dataclass

from simulators.common.faults import Faults


@dataclass
class YahooFaults(Faults):
    require_crumb: str = "quote"  # which endpoints need a valid crumb: "none", "quote" (v7 quote, as Yahoo) or "all"
    rate_limit: int | None = None  # requests per `rate_window` from one address; above it 429 Too Many Requests
    rate_window: float = 60.0
    force_rate_limit: bool = False  # answer every data request 429
