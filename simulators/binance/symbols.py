"""The simulated exchange's symbols: what `exchangeInfo` lists and what the price path is scaled by.

All amounts inside the simulator are integers in units of 1e-8 (Binance prints 8 decimals), so prices are
multiples of the tick size and quantities multiples of the step size.
"""

from dataclasses import dataclass
from decimal import Decimal

UNITS = 100_000_000  # 1e-8 units per whole coin


def units(text: str) -> int:
    return int(Decimal(text) * UNITS)


def decimal_text(amount: int) -> str:
    """`12345` -> `"0.00012345"`: Binance's fixed 8-decimal strings."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), UNITS)
    return f"{sign}{whole}.{fraction:08d}"


@dataclass(frozen=True, slots=True)
class BinanceSymbol:
    symbol: str
    base: str
    quote: str
    price: str  # typical price, the path's anchor
    tick: str  # PRICE_FILTER tickSize
    step: str  # LOT_SIZE stepSize
    listed_ms: int  # open time of the first 1m kline
    status: str = "TRADING"  # TRADING, BREAK (delisted: no bars after `stopped_ms`) or HALT (no trades)
    stopped_ms: int | None = None  # BREAK/HALT: when trading stopped
    volatility: float = 0.0008  # per-minute log return
    lots_per_minute: float = 400.0  # mean 1m volume in steps
    min_notional: str = "5.00000000"

    @property
    def tick_units(self) -> int:
        return units(self.tick)

    @property
    def step_units(self) -> int:
        return units(self.step)


DEFAULT_SYMBOLS: tuple[BinanceSymbol, ...] = (
    BinanceSymbol("BTCUSDT", "BTC", "USDT", "60000.00", "0.01", "0.00001", 1_502_942_400_000,
                  lots_per_minute=400_000.0),
    BinanceSymbol("ETHUSDT", "ETH", "USDT", "3000.00", "0.01", "0.0001", 1_502_942_400_000,
                  lots_per_minute=300_000.0),
    BinanceSymbol("BNBUSDT", "BNB", "USDT", "550.0", "0.1", "0.001", 1_509_940_800_000,
                  lots_per_minute=50_000.0),
    BinanceSymbol("SOLUSDT", "SOL", "USDT", "150.00", "0.01", "0.001", 1_597_125_600_000, volatility=0.0012,
                  lots_per_minute=200_000.0),
    BinanceSymbol("ETHBTC", "ETH", "BTC", "0.05000", "0.00001", "0.0001", 1_500_004_800_000,
                  lots_per_minute=5_000.0, min_notional="0.00010000"),
    BinanceSymbol("BCCUSDT", "BCC", "USDT", "600.00", "0.01", "0.00001", 1_512_000_000_000, status="BREAK",
                  stopped_ms=1_542_240_000_000, lots_per_minute=20_000.0),
    BinanceSymbol("LUNAUSDT", "LUNA", "USDT", "0.50000000", "0.00000001", "0.01", 1_598_400_000_000,
                  status="HALT", stopped_ms=1_652_400_000_000, lots_per_minute=50_000.0),
)
