"""The simulated Yahoo Finance instruments and their corporate actions.

Prices and volumes are served split-adjusted, as Yahoo serves `open/high/low/close/volume`; dividend amounts
are split-adjusted too. `adjclose` (daily and coarser) is additionally dividend-adjusted: for every dividend
with ex-date D, bars before D are multiplied by (1 - amount / close of the last session before D).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from simulators.yahoo.calendars import CRYPTO, LONDON, US, Calendar


@dataclass(frozen=True, slots=True)
class Split:
    day: date
    numerator: int
    denominator: int


@dataclass(frozen=True)
class Instrument:
    symbol: str
    short_name: str
    long_name: str
    quote_type: str  # EQUITY, ETF, INDEX, CRYPTOCURRENCY
    exchange: str  # Yahoo's exchange code (meta.exchangeName)
    full_exchange: str
    exchange_display: str
    type_display: str
    currency: str
    calendar: Calendar
    price: float  # typical price
    first_trade: date
    volatility: float = 0.0006  # per-minute log return
    shares_per_minute: float = 20_000.0  # 0: no volume (indices)
    price_hint: int = 2
    no_trade_share: float = 0.0  # share of regular minutes without trades (served as nulls intraday)
    splits: tuple[Split, ...] = ()
    dividend_amount: float = 0.0  # per quarter, split-adjusted
    dividend_months: tuple[int, ...] = ()
    dividend_day: int = 10  # the first session on or after this day of the month is the ex-date
    sector: str = ""
    industry: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def has_volume(self) -> bool:
        return self.shares_per_minute > 0

    @property
    def intraday_ticks(self) -> int:
        return int(10 ** self.price_hint)

    def dividend_dates(self, first: date, last: date,
                       is_session: Callable[[date], bool]) -> list[date]:
        """Ex-dividend dates between `first` and `last` (inclusive)."""
        found = []
        for year in range(max(first.year, self.first_trade.year), last.year + 1):
            for month in self.dividend_months:
                day = date(year, month, self.dividend_day)
                while not is_session(day):
                    day += timedelta(days=1)
                if first <= day <= last and day > self.first_trade:
                    found.append(day)
        return found


DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("AAPL", "Apple Inc.", "Apple Inc.", "EQUITY", "NMS", "NasdaqGS", "NASDAQ", "Equity", "USD", US,
               190.0, date(1980, 12, 12), splits=(Split(date(2014, 6, 9), 7, 1), Split(date(2020, 8, 31), 4, 1)),
               dividend_amount=0.25, dividend_months=(2, 5, 8, 11), sector="Technology",
               industry="Consumer Electronics", shares_per_minute=120_000.0),
    Instrument("MSFT", "Microsoft Corporation", "Microsoft Corporation", "EQUITY", "NMS", "NasdaqGS", "NASDAQ",
               "Equity", "USD", US, 420.0, date(1986, 3, 13), dividend_amount=0.75,
               dividend_months=(2, 5, 8, 11), dividend_day=15, sector="Technology",
               industry="Software - Infrastructure", shares_per_minute=50_000.0),
    Instrument("SPY", "SPDR S&P 500", "SPDR S&P 500 ETF Trust", "ETF", "PCX", "NYSEArca", "NYSEArca", "ETF", "USD",
               US, 550.0, date(1993, 1, 29), volatility=0.0004, dividend_amount=1.7,
               dividend_months=(3, 6, 9, 12), dividend_day=18, shares_per_minute=150_000.0),
    Instrument("^GSPC", "S&P 500", "S&P 500", "INDEX", "SNP", "SNP", "SNP", "Index", "USD", US, 5500.0,
               date(1985, 1, 2), volatility=0.0004, shares_per_minute=0.0),
    Instrument("VOD.L", "VODAFONE GROUP PLC ORD USD0.2095", "Vodafone Group Public Limited Company", "EQUITY",
               "LSE", "LSE", "London", "Equity", "GBp", LONDON, 72.0, date(1988, 10, 26), volatility=0.0008,
               no_trade_share=0.03, shares_per_minute=60_000.0),
    Instrument("BTC-USD", "Bitcoin USD", "Bitcoin USD", "CRYPTOCURRENCY", "CCC", "CCC", "CCC", "Cryptocurrency",
               "USD", CRYPTO, 65_000.0, date(2014, 9, 17), volatility=0.0009, shares_per_minute=2_000_000.0),
    Instrument("ETH-USD", "Ethereum USD", "Ethereum USD", "CRYPTOCURRENCY", "CCC", "CCC", "CCC", "Cryptocurrency",
               "USD", CRYPTO, 3_200.0, date(2017, 11, 9), volatility=0.001, shares_per_minute=1_000_000.0),
)
