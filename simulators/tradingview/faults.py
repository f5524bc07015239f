"""Knobs tests turn on a running simulator to inject faults and control the feed; each is also a command
line option of `python -m simulators.tradingview` (`make simulator ARGS="--no-heartbeats ..."`)."""

from dataclasses import dataclass, field


@dataclass
class Faults:
    delay: float = 0.0  # seconds to wait before answering each client message
    unknown_symbols: set[str] = field(default_factory=set)  # resolve as `symbol_error`
    protocol_error: str | None = None  # answer the next client message with protocol_error + close
    series_error: str | None = None  # answer create_series with series_error <reason>
    critical_error_methods: set[str] = field(default_factory=set)  # answer with critical_error
    pack_frames: bool = True  # several frames per WebSocket message, as the real server does
    heartbeats: bool = True  # False: stop heartbeats (the connection goes silent)
    # Close clients that leave this many beats unanswered, as TradingView drops silent clients (None: never).
    close_after_unanswered: int | None = 6
    reject_upgrade: int | None = None  # answer the WebSocket upgrade with this HTTP status (403/429)
    tick_rate: float = 0.0  # generated ticks per second per symbol (0: only pushed ticks)
    # The history records each trade at its price times (1 + this): bars built live from the quotes and the
    # history's bars of the same periods then disagree by that much (reconciliation of live bars).
    history_drift: float = 0.0
    # History rows whose minute (bar time // 60) is a multiple of this are sent broken, their high below their
    # low, as a source's bad rows are (0: none); a client must skip them and say so.
    broken_rows_every: int = 0
