"""Binance's switches beside the common ones (all live: change them on a running simulator)."""

from dataclasses import dataclass

from simulators.common.faults import Faults


@dataclass
class BinanceFaults(Faults):
    weight_limit: int = 6000  # request weight per window (exchangeInfo's REQUEST_WEIGHT limit)
    weight_window: float = 60.0  # seconds; Binance: one minute
    ban_after: int = 3  # requests tolerated while 429'ed before the IP is banned (418)
    ban_seconds: float = 120.0  # length of a ban; Binance: 2 minutes up to 3 days for repeat offenders
    force_status: int | None = None  # 429 or 418: answer every REST request so, whatever the weight
    trade_rate: float = 2.0  # generated trades per second per TRADING symbol (0: only pushed trades)
    ping_interval: float = 20.0  # seconds between the server's WebSocket pings
    pong_timeout: float = 60.0  # a connection that has not ponged for this long is dropped
    connection_lifetime: float = 86_400.0  # connections are closed after this many seconds (Binance: 24 h)
    kline_push_interval: float = 2.0  # seconds between kline stream updates (Binance: 2 s; 1 s for 1s klines)
    max_messages_per_second: int = 5  # incoming WebSocket messages; above it the connection is dropped
