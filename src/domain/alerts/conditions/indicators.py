"""Indicator specs and output names, as alerts ask for them and read them.

A spec is the indicator name and its parameters joined by `:` (`rsi:14`, `macd:12:26:9`, `bb:20:2`,
`sma:50`, `ema:12`, `volume_sma:20`). The value of one output is looked up under the name, the output
(when the indicator has several) and the parameters joined by `_`: `rsi_14`, `macd_12_26_9` (the MACD
line), `macd_signal_12_26_9`, `bb_upper_20_2`, `bb_lower_20_2`, `sma_50`, `ema_12`, `volume_sma_20`.
"""

from src.domain.alerts.conditions.base import number_text


def spec(name: str, *params: float) -> str:
    return ":".join([name, *map(number_text, params)])


def output_name(indicator_spec: str, output: str | None = None) -> str:
    name, *params = indicator_spec.split(":")
    return "_".join([name, *([output] if output else []), *params])
