"""Indicator specs: parsing, defaults, expansion to default sets, column names, and errors naming the spec."""

import pytest

from src.domain.errors import DomainError, InvalidIndicator
from src.domain.indicators import DEFAULT_INDICATORS, INDICATORS, IndicatorSpec, parse_spec, parse_specs


def texts(specs):
    return [spec.text for spec in specs]


def test_a_spec_with_all_parameters_parses_to_them():
    assert parse_spec("macd:12:26:9") == (IndicatorSpec("macd", (12, 26, 9)),)
    assert parse_spec("bb:20:2.5")[0].params == (20, 2.5)


def test_trailing_parameters_left_out_take_their_defaults():
    assert texts(parse_spec("macd:5")) == ["macd:5:26:9"]
    assert texts(parse_spec("stoch:5:2")) == ["stoch:5:2:3"]


def test_a_spec_without_parameters_expands_to_the_default_sets():
    assert texts(parse_spec("sma")) == ["sma:20", "sma:50", "sma:100", "sma:200"]
    assert texts(parse_spec("ema")) == ["ema:12", "ema:26", "ema:50"]
    assert texts(parse_spec("rsi")) == ["rsi:14"]
    assert texts(parse_spec("vwap")) == ["vwap"]


def test_the_default_indicators_are_the_ones_the_product_promises():
    assert texts(DEFAULT_INDICATORS) == [
        "rsi:14", "macd:12:26:9", "bb:20:2", "sma:20", "sma:50", "sma:100", "sma:200", "ema:12", "ema:26",
        "ema:50", "vwap", "stoch:14:3:3", "atr:14", "adx:14", "volume_sma:20",
    ]


def test_columns_are_named_by_output_and_parameters():
    columns = [column for spec in DEFAULT_INDICATORS for column in spec.columns]
    assert columns[:7] == [
        "rsi_14", "macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9",
        "bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2",
    ]
    assert {"sma_200", "ema_50", "vwap", "stoch_k_14_3_3", "stoch_d_14_3_3", "atr_14", "adx_14",
            "volume_sma_20"} <= set(columns)
    assert len(columns) == len(set(columns))
    assert parse_spec("bb:20:2.5")[0].columns == ("bb_upper_20_2.5", "bb_middle_20_2.5", "bb_lower_20_2.5")


def test_names_are_case_and_space_insensitive_and_duplicates_are_dropped():
    assert texts(parse_specs([" RSI:14 ", "rsi", "sma:20", "sma"])) == [
        "rsi:14", "sma:20", "sma:50", "sma:100", "sma:200",
    ]


def test_every_definition_lists_parameters_whose_defaults_are_valid():
    for name, definition in INDICATORS.items():
        for params in definition.defaults:
            assert IndicatorSpec(name, params).params == params


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo:3", "unknown indicator 'foo'"),
        ("rsi:abc", "period must be an integer, got 'abc'"),
        ("rsi:14.5", "period must be an integer, got '14.5'"),
        ("rsi:1", "period must be within 2..5000, got 1"),
        ("sma:100000", "period must be within 2..5000, got 100000"),
        ("bb:20:0", "stddev must be within 0.1..10, got 0"),
        ("bb:20:nan", "stddev must be a finite number"),
        ("macd:26:12:9", "fast period must be below slow period"),
        ("rsi:14:3", "too many parameters (takes period)"),
        ("vwap:3", "too many parameters (takes none)"),
        ("rsi:", "period must be an integer, got ''"),
    ],
)
def test_a_bad_spec_raises_a_domain_error_naming_it(text, message):
    with pytest.raises(InvalidIndicator) as raised:
        parse_spec(text)
    assert isinstance(raised.value, DomainError)
    assert message in str(raised.value)
    assert raised.value.field == text


def test_errors_in_a_list_name_the_position_of_the_offending_spec():
    with pytest.raises(InvalidIndicator) as raised:
        parse_specs(["rsi:14", "macd:12:26:x"])
    assert raised.value.field == "indicators[1]"
    assert "'macd:12:26:x'" in str(raised.value)


def test_a_spec_built_directly_is_validated_too():
    with pytest.raises(InvalidIndicator, match="period must be within"):
        IndicatorSpec("sma", (1,))
    with pytest.raises(InvalidIndicator, match="takes 3 parameters"):
        IndicatorSpec("macd", (12,))
    assert IndicatorSpec("sma", (50.0,)).text == "sma:50"
