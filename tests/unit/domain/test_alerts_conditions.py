"""Conditions: their dict form, their validation, and each one fed inputs that cross, touch and stay."""

import json
import math

import pytest

from src.domain.alerts import CONDITION_TYPES, AlertStatus, EvaluatedOn, parse_condition
from src.domain.alerts.conditions import output_name
from src.domain.alerts.errors import InvalidCondition, MissingIndicatorValue, UnknownIndicator
from src.domain.market_data import Interval
from tests.unit.domain.alert_builders import T0, feed, minute_bar, rule

FULL_FORMS = [
    {"kind": "price_above", "level": 100.0},
    {"kind": "price_below", "level": 100.0},
    {"kind": "price_crosses", "level": 100.0, "direction": "either"},
    {"kind": "percent_change", "percent": 5.0, "window_s": 3600},
    {"kind": "volume_spike", "multiplier": 2.0, "period": 20},
    {"kind": "rsi_above", "level": 70.0, "period": 14},
    {"kind": "rsi_below", "level": 30.0, "period": 14},
    {"kind": "macd_crosses_signal", "fast": 12, "slow": 26, "signal": 9, "direction": "either"},
    {"kind": "price_crosses_bollinger", "band": "upper", "period": 20, "stddev": 2.0},
    {"kind": "price_crosses_ma", "average": "sma", "period": 50, "direction": "either"},
]


def test_every_kind_is_covered_here():
    assert {form["kind"] for form in FULL_FORMS} == set(CONDITION_TYPES)


@pytest.mark.parametrize("form", FULL_FORMS, ids=lambda f: f["kind"])
def test_a_condition_survives_a_json_round_trip_through_its_dict(form):
    condition = parse_condition(json.loads(json.dumps(form)))
    assert condition.to_dict() == form
    assert parse_condition(condition.to_dict()) == condition


@pytest.mark.parametrize(
    ("short", "filled"),
    [
        ({"kind": "price_crosses", "level": 5}, {"direction": "either"}),
        ({"kind": "rsi_above", "level": 70}, {"period": 14}),
        ({"kind": "macd_crosses_signal"}, {"fast": 12, "slow": 26, "signal": 9, "direction": "either"}),
        ({"kind": "price_crosses_bollinger", "band": "lower"}, {"period": 20, "stddev": 2.0}),
        ({"kind": "volume_spike", "multiplier": 3}, {"period": 20}),
    ],
)
def test_omitted_parameters_take_their_defaults(short, filled):
    assert parse_condition(short).to_dict() == {**short, **filled} | {
        k: float(v) for k, v in short.items() if k in ("level", "multiplier")
    }


def test_each_condition_states_where_it_is_evaluated():
    on_ticks = {kind for kind, cls in CONDITION_TYPES.items() if cls.evaluated_on is EvaluatedOn.TICK}
    assert on_ticks == {"price_above", "price_below", "price_crosses", "percent_change"}


@pytest.mark.parametrize(
    ("form", "specs"),
    [
        ({"kind": "price_above", "level": 1}, ()),
        ({"kind": "volume_spike", "multiplier": 2, "period": 30}, ("volume_sma:30",)),
        ({"kind": "rsi_below", "level": 30, "period": 7}, ("rsi:7",)),
        ({"kind": "macd_crosses_signal", "fast": 5, "slow": 35, "signal": 5}, ("macd:5:35:5",)),
        ({"kind": "price_crosses_bollinger", "band": "upper", "stddev": 2.5}, ("bb:20:2.5",)),
        ({"kind": "price_crosses_ma", "average": "ema", "period": 12}, ("ema:12",)),
    ],
)
def test_a_condition_declares_the_indicator_specs_it_needs(form, specs):
    assert parse_condition(form).indicators == specs


def test_output_names_join_indicator_output_and_parameters():
    assert [output_name("rsi:14"), output_name("macd:12:26:9"), output_name("macd:12:26:9", "signal"),
            output_name("bb:20:2", "upper"), output_name("volume_sma:20")] == [
        "rsi_14", "macd_12_26_9", "macd_signal_12_26_9", "bb_upper_20_2", "volume_sma_20"]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"level": 1}, "condition.kind"),
        ({"kind": "price_sideways", "level": 1}, "condition.kind"),
        ({"kind": "price_above"}, "condition.level"),
        ({"kind": "price_above", "level": math.nan}, "condition.level"),
        ({"kind": "price_above", "level": math.inf}, "condition.level"),
        ({"kind": "price_above", "level": "100"}, "condition.level"),
        ({"kind": "price_above", "level": True}, "condition.level"),
        ({"kind": "price_above", "level": 1, "levle": 2}, "condition.levle"),
        ({"kind": "price_crosses", "level": 1, "direction": "sideways"}, "condition.direction"),
        ({"kind": "percent_change", "percent": 0, "window_s": 60}, "condition.percent"),
        ({"kind": "percent_change", "percent": -100, "window_s": 60}, "condition.percent"),
        ({"kind": "percent_change", "percent": 5, "window_s": 0}, "condition.window_s"),
        ({"kind": "percent_change", "percent": 5, "window_s": 1.5}, "condition.window_s"),
        ({"kind": "volume_spike", "multiplier": 0}, "condition.multiplier"),
        ({"kind": "volume_spike", "multiplier": 2, "period": 1}, "condition.period"),
        ({"kind": "rsi_above", "level": 101}, "condition.level"),
        ({"kind": "macd_crosses_signal", "fast": 26, "slow": 12}, "condition.fast"),
        ({"kind": "price_crosses_bollinger", "band": "middle"}, "condition.band"),
        ({"kind": "price_crosses_bollinger", "band": "upper", "stddev": -1}, "condition.stddev"),
        ({"kind": "price_crosses_ma", "period": 50}, "condition.average"),
    ],
)
def test_a_malformed_condition_is_refused_naming_the_field(form, field):
    with pytest.raises(InvalidCondition) as raised:
        parse_condition(form)
    assert raised.value.field == field


def test_an_unknown_moving_average_is_an_unknown_indicator():
    with pytest.raises(UnknownIndicator) as raised:
        parse_condition({"kind": "price_crosses_ma", "average": "wma", "period": 50})
    assert raised.value.field == "condition.average"


def test_a_condition_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidCondition) as raised:
        parse_condition(["price_above", 100])  # type: ignore[arg-type]
    assert raised.value.field == "condition"


# --- price conditions on ticks -------------------------------------------------------------------------

ABOVE = {"kind": "price_above", "level": 100.0}
BELOW = {"kind": "price_below", "level": 100.0}


def _fired_at(form, *prices, **fields):
    """The tick indexes (0-based) at which a rule fed `prices` one second apart fired."""
    alert = rule(form, **fields)
    fired = []
    for i, price in enumerate(prices):
        alert, events = alert.on_tick(price, T0 + i)
        fired += [i] * len(events)
    return fired


def test_price_above_fires_when_the_price_rises_above_the_level_and_not_again_while_it_stays():
    assert _fired_at(ABOVE, 99, 101, 102, 150) == [1]


def test_price_above_does_not_fire_on_a_touch():
    assert _fired_at(ABOVE, 99, 100, 100, 99) == []


def test_price_above_fires_after_a_touch_once_the_price_is_strictly_above():
    assert _fired_at(ABOVE, 99, 100, 100.01) == [2]


def test_price_above_fires_on_the_first_tick_when_the_price_is_already_above():
    assert _fired_at(ABOVE, 101, 102) == [0]


def test_price_above_re_arms_only_after_the_price_was_strictly_below():
    assert _fired_at(ABOVE, 101, 100, 101, 99.99, 101) == [0, 4]


def test_price_below_mirrors_price_above():
    assert _fired_at(BELOW, 101, 100, 99, 98, 100, 99, 101, 99) == [2, 7]


@pytest.mark.parametrize(
    ("direction", "fired"),
    [("up", [1, 5]), ("down", [3]), ("either", [1, 3, 5])],
)
def test_price_crosses_fires_on_each_crossing_in_its_direction(direction, fired):
    prices = (99, 101, 102, 98, 100, 101)  # up at 1, down at 3, touch at 4 then up at 5
    assert _fired_at({"kind": "price_crosses", "level": 100, "direction": direction}, *prices) == fired


def test_price_crosses_needs_a_witnessed_crossing_after_creation():
    assert _fired_at({"kind": "price_crosses", "level": 100, "direction": "up"}, 101, 102, 99, 101) == [3]


def test_price_crosses_ignores_a_touch_and_return():
    assert _fired_at({"kind": "price_crosses", "level": 100}, 99, 100, 99, 100, 99.5) == []


# --- percent change ------------------------------------------------------------------------------------

RISE = {"kind": "percent_change", "percent": 5, "window_s": 3600}


def _percent_fired(form, *ticks):
    _, events = feed(rule(form), *ticks)
    return [(e.triggered_at, e.values["reference"]) for e in events]


def test_percent_change_fires_when_the_rise_from_the_window_low_reaches_the_threshold_exactly():
    ticks = [(100, T0), (104.99, T0 + 60), (105, T0 + 120), (106, T0 + 180)]
    assert _percent_fired(RISE, *ticks) == [(T0 + 120, 100)]


def test_percent_change_measures_from_the_lowest_price_of_the_window_not_the_first():
    ticks = [(100, T0), (98, T0 + 60), (102.8, T0 + 120), (103, T0 + 180)]  # +4.9 %, then +5.1 % from 98
    assert _percent_fired(RISE, *ticks) == [(T0 + 180, 98)]


def test_percent_change_forgets_prices_older_than_the_window():
    assert _percent_fired(RISE, (100, T0), (105, T0 + 3600 + 60)) == []


def test_percent_change_falling_threshold_uses_the_window_high():
    fall = {"kind": "percent_change", "percent": -5, "window_s": 600}
    assert _percent_fired(fall, (100, T0), (110, T0 + 10), (104.6, T0 + 20), (104.5, T0 + 30)) == [(T0 + 30, 110)]


def test_percent_change_fires_once_per_episode_and_re_arms_below_the_threshold():
    ticks = [(100, T0), (106, T0 + 1), (107, T0 + 2), (101, T0 + 3), (105, T0 + 4)]
    assert [at for at, _ in _percent_fired(RISE, *ticks)] == [T0 + 1, T0 + 4]


def test_percent_change_memory_is_bounded_by_the_bucket_count():
    alert, _ = feed(rule(RISE), *[(100 + i % 7, T0 + 10 * i) for i in range(2000)])
    assert len(alert.memory.window) <= 60


# --- conditions on closed bars -------------------------------------------------------------------------


def _bars_fired(form, *readings, interval=Interval.M1):
    """Feed closed 1m bars given as (close, volume, indicator values); return the 0-based bars that fired."""
    alert = rule(form, interval=interval)
    fired = []
    for i, (close, volume, values) in enumerate(readings):
        bar = minute_bar(T0 + 60 * i, close, volume=volume)
        alert, events = alert.on_bar_closed(bar, values, now=bar.closes_at + 1)
        fired += [i] * len(events)
    return fired


def test_volume_spike_fires_on_the_first_bar_at_or_over_k_times_the_average_then_re_arms_on_a_normal_bar():
    form = {"kind": "volume_spike", "multiplier": 2, "period": 20}
    volumes = [150, 200, 300, 199.9, 250]
    readings = [(10.0, v, {"volume_sma_20": 100.0}) for v in volumes]
    assert _bars_fired(form, *readings) == [1, 4]


def test_volume_spike_needs_volume_and_an_available_average():
    form = {"kind": "volume_spike", "multiplier": 2}
    readings = [(10.0, 0.0, {"volume_sma_20": 0.0}), (10.0, 500.0, {"volume_sma_20": math.nan})]
    assert _bars_fired(form, *readings) == []


def test_rsi_above_fires_strictly_above_the_level():
    form = {"kind": "rsi_above", "level": 70}
    assert _bars_fired(form, *[(10.0, 1.0, {"rsi_14": v}) for v in (65, 70, 71, 75, 69, 72)]) == [2, 5]


def test_rsi_above_fires_on_the_first_bar_when_already_above_and_skips_warm_up_values():
    form = {"kind": "rsi_above", "level": 70}
    assert _bars_fired(form, *[(10.0, 1.0, {"rsi_14": v}) for v in (math.nan, 80, 81)]) == [1]


def test_rsi_below_fires_strictly_below_the_level():
    form = {"kind": "rsi_below", "level": 30, "period": 7}
    assert _bars_fired(form, *[(10.0, 1.0, {"rsi_7": v}) for v in (35, 30, 29.5, 20, 31, 25)]) == [2, 5]


def test_macd_crossing_its_signal_fires_in_its_direction_and_ignores_equality_and_nan():
    lines = [(-1.0, 0.0), (0.0, 0.0), (1.0, 0.0), (math.nan, 0.0), (-1.0, 0.0), (1.0, 0.5)]
    readings = [(10.0, 1.0, {"macd_12_26_9": m, "macd_signal_12_26_9": s}) for m, s in lines]
    assert _bars_fired({"kind": "macd_crosses_signal", "direction": "up"}, *readings) == [2, 5]
    assert _bars_fired({"kind": "macd_crosses_signal", "direction": "down"}, *readings) == [4]


def test_price_crossing_the_upper_bollinger_band_fires_only_upwards():
    closes = [99.0, 101.0, 99.0, 100.0, 102.0]  # up at 1, down at 2, touch at 3, up at 4
    readings = [(c, 1.0, {"bb_upper_20_2": 100.0, "bb_lower_20_2": 90.0}) for c in closes]
    assert _bars_fired({"kind": "price_crosses_bollinger", "band": "upper"}, *readings) == [1, 4]


def test_price_crossing_the_lower_bollinger_band_fires_only_downwards():
    closes = [91.0, 89.0, 91.0, 89.0]
    readings = [(c, 1.0, {"bb_upper_20_2": 100.0, "bb_lower_20_2": 90.0}) for c in closes]
    assert _bars_fired({"kind": "price_crosses_bollinger", "band": "lower"}, *readings) == [1, 3]


def test_price_crossing_a_moving_average_compares_the_close_with_its_value_at_that_bar():
    pairs = [(10.0, 11.0), (12.0, 11.5), (12.0, 12.5), (12.0, 12.0), (13.0, 12.5)]
    readings = [(close, 1.0, {"ema_12": average}) for close, average in pairs]
    form = {"kind": "price_crosses_ma", "average": "ema", "period": 12}
    assert _bars_fired(form, *readings) == [1, 2, 4]  # up, down, a touch (still below), up


def test_a_bar_evaluated_without_a_declared_indicator_value_is_an_error_naming_it():
    with pytest.raises(MissingIndicatorValue) as raised:
        _bars_fired({"kind": "rsi_above", "level": 70}, (10.0, 1.0, {"rsi_7": 80.0}))
    assert raised.value.field == "rsi_14"


def test_bar_rules_fired_are_at_rest_like_tick_rules():
    alert = rule({"kind": "rsi_above", "level": 70}, interval=Interval.M1, one_time=True)
    bar = minute_bar(T0, 10.0)
    done, _ = alert.on_bar_closed(bar, {"rsi_14": 80.0}, now=bar.closes_at)
    assert done.status is AlertStatus.DONE
