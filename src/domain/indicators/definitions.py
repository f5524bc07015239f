"""The indicators PocketQuant computes: parameters with defaults and bounds, outputs, formulas' source, warm-up.

`INDICATORS` maps a name to its definition; a spec such as `macd:12:26:9` gives its parameters in the
order of `parameters` (see `spec`). Output columns are named `<output>_<parameters joined by "_">`
(e.g. `macd_signal_12_26_9`, `bb_upper_20_2`, `sma_50`), or `<output>` for an indicator without
parameters (`vwap`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from src.domain.indicators import batch, streaming, streaming_ranges
from src.domain.indicators.batch import Outputs, Params
from src.domain.indicators.columns import Columns
from src.domain.indicators.streaming import StreamingIndicator
from src.domain.indicators.warmup import Warmup, convergence_bars, ema_keep, wilder_keep

MAX_PERIOD = 5000


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    default: float
    minimum: float
    maximum: float
    integer: bool = True


def _period(name: str = "period", default: int = 14, minimum: int = 2) -> Parameter:
    return Parameter(name, default, minimum, MAX_PERIOD)


def _no_constraint(params: Params) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class IndicatorDefinition:
    name: str
    title: str
    source: str  # where the formula comes from
    parameters: tuple[Parameter, ...]
    outputs: tuple[str, ...]
    compute: Callable[[Columns, Params], Outputs]
    stream: Callable[[Params], StreamingIndicator]
    warmup: Callable[[Params], Warmup]
    default_sets: tuple[Params, ...] = ()  # parameter sets used when a spec gives none; else the defaults
    constraint: Callable[[Params], str | None] = _no_constraint  # a message when parameters don't fit together

    @property
    def defaults(self) -> tuple[Params, ...]:
        return self.default_sets or (tuple(parameter.default for parameter in self.parameters),)


def _macd_constraint(params: Params) -> str | None:
    return "fast period must be below slow period" if params[0] >= params[1] else None


def _ints(params: Params) -> tuple[int, ...]:
    return tuple(map(int, params))


def _warmup_macd(params: Params) -> Warmup:
    _, slow, signal = _ints(params)
    lookback = slow - 1 + signal - 1
    return Warmup(lookback + convergence_bars(ema_keep(slow)) + convergence_bars(ema_keep(signal)))


def _warmup_wilder(params: Params) -> Warmup:
    period = int(params[0])
    return Warmup(period + convergence_bars(wilder_keep(period)))


def _warmup_adx(params: Params) -> Warmup:
    period = int(params[0])
    return Warmup(2 * period - 1 + 2 * convergence_bars(wilder_keep(period)))


def _warmup_ema(params: Params) -> Warmup:
    period = int(params[0])
    return Warmup(period - 1 + convergence_bars(ema_keep(period)))


def _warmup_window(params: Params) -> Warmup:
    return Warmup(int(params[0]) - 1)


def _warmup_stochastic(params: Params) -> Warmup:
    return Warmup(sum(_ints(params)) - 3)


_SOURCE = "TA-Lib {} (default compatibility, unstable period 0)"
_SIGNAL = Parameter("signal_period", 9, 1, MAX_PERIOD)
_STOCH_SMOOTHING = (Parameter("slowk_period", 3, 1, MAX_PERIOD), Parameter("slowd_period", 3, 1, MAX_PERIOD))

_DEFINITIONS = (
    IndicatorDefinition(
        "rsi", "Relative Strength Index (Wilder)", _SOURCE.format("RSI"), (_period(),), ("rsi",),
        batch.rsi, lambda p: streaming.Rsi(int(p[0])), _warmup_wilder,
    ),
    IndicatorDefinition(
        "macd", "Moving Average Convergence/Divergence", _SOURCE.format("MACD"),
        (_period("fast_period", 12), _period("slow_period", 26), _SIGNAL), ("macd", "macd_signal", "macd_hist"),
        batch.macd, lambda p: streaming.Macd(*_ints(p)), _warmup_macd, constraint=_macd_constraint,
    ),
    IndicatorDefinition(
        "bb", "Bollinger Bands (SMA middle, population stddev)", _SOURCE.format("BBANDS, matype SMA"),
        (_period(default=20), Parameter("stddev", 2.0, 0.1, 10.0, integer=False)),
        ("bb_upper", "bb_middle", "bb_lower"),
        batch.bollinger, lambda p: streaming.Bollinger(int(p[0]), p[1]), _warmup_window,
    ),
    IndicatorDefinition(
        "sma", "Simple Moving Average of close", _SOURCE.format("SMA"), (_period(default=20),), ("sma",),
        batch.sma, lambda p: streaming.SmaIndicator(int(p[0])), _warmup_window,
        default_sets=((20,), (50,), (100,), (200,)),
    ),
    IndicatorDefinition(
        "ema", "Exponential Moving Average of close (seeded with an SMA)", _SOURCE.format("EMA"),
        (_period(default=12),), ("ema",),
        batch.ema, lambda p: streaming.EmaIndicator(int(p[0])), _warmup_ema,
        default_sets=((12,), (26,), (50,)),
    ),
    IndicatorDefinition(
        "vwap", "Volume-Weighted Average Price of (h + l + c) / 3, anchored at each session's first bar",
        "PocketQuant (TA-Lib has no VWAP)", (), ("vwap",),
        batch.vwap, lambda p: streaming.Vwap(), lambda p: Warmup(0, to_session_start=True),
    ),
    IndicatorDefinition(
        "stoch", "Stochastic oscillator (slow %K and %D, SMA smoothing)", _SOURCE.format("STOCH, matype SMA"),
        (Parameter("fastk_period", 14, 1, MAX_PERIOD), *_STOCH_SMOOTHING), ("stoch_k", "stoch_d"),
        batch.stochastic, lambda p: streaming_ranges.Stochastic(*_ints(p)), _warmup_stochastic,
    ),
    IndicatorDefinition(
        "atr", "Average True Range (Wilder)", _SOURCE.format("ATR"), (_period(minimum=1),), ("atr",),
        batch.atr, lambda p: streaming_ranges.Atr(int(p[0])), _warmup_wilder,
    ),
    IndicatorDefinition(
        "adx", "Average Directional Index (Wilder)", _SOURCE.format("ADX"), (_period(),), ("adx",),
        batch.adx, lambda p: streaming_ranges.Adx(int(p[0])), _warmup_adx,
    ),
    IndicatorDefinition(
        "volume_sma", "Simple Moving Average of volume", _SOURCE.format("SMA of volume"),
        (_period(default=20),), ("volume_sma",),
        batch.volume_sma, lambda p: streaming.SmaIndicator(int(p[0]), streaming.VOLUME), _warmup_window,
    ),
)

INDICATORS: dict[str, IndicatorDefinition] = {definition.name: definition for definition in _DEFINITIONS}
