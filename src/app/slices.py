"""Every feature slice of the service. Adding a slice is its folder plus one line here; mypy checks on
this line that the root's `Core` offers everything the slice's build function asks for."""

from src.app.core import Core
from src.features.identity.slice import SLICE as IDENTITY
from src.features.indicators.slice import SLICE as INDICATORS
from src.features.market_data.slice import SLICE as MARKET_DATA
from src.features.quality.slice import SLICE as QUALITY
from src.features.quotes.slice import SLICE as QUOTES
from src.features.shared.slice import Slice
from src.features.system.slice import SLICE as SYSTEM
from src.features.webhooks.slice import SLICE as WEBHOOKS

SLICES: tuple[Slice[Core], ...] = (SYSTEM, IDENTITY, MARKET_DATA, QUOTES, WEBHOOKS, INDICATORS, QUALITY)
