"""Column packing is lossless: any floats, times and flags come back exactly (bit for bit but -0.0);
decimal values are stored as scaled integers with the fewest places that hold them, others as they are."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from src.infrastructure.mongo.column_codec import (
    RAW,
    decimal_places,
    pack_flags,
    pack_floats,
    pack_ints,
    unpack_flags,
    unpack_floats,
    unpack_ints,
)

floats = arrays(np.float64, st.integers(0, 300), elements=st.floats(allow_nan=False, allow_infinity=False))
decimals = st.integers(0, 8).flatmap(lambda k: st.lists(st.integers(-10**10, 10**10), max_size=300).map(
    lambda ints: (k, np.array([float(f"{i / 10**k:.{k}f}") for i in ints], dtype=np.float64))))


@given(floats)
def test_any_floats_come_back_exactly(values):
    got = unpack_floats(pack_floats(values), values.size)
    assert np.array_equal(got, values)
    assert np.array_equal(got[values != 0].view(np.int64), values[values != 0].view(np.int64))  # bit for bit


@given(decimals)
def test_decimal_text_is_stored_with_its_places(case):
    places, values = case
    packed = pack_floats(values)
    found = decimal_places(values)
    assert found is not None and found <= places and packed[0] == found
    assert np.array_equal(unpack_floats(packed, values.size), values)


def test_prices_in_cents_take_a_fraction_of_their_size_and_other_floats_are_kept_raw():
    rng = np.random.default_rng(5)
    cents = np.round(30_000 + rng.standard_normal(10_080).cumsum(), 2)
    assert len(pack_floats(cents)) < cents.nbytes / 2
    noise = rng.random(100)
    assert pack_floats(noise)[0] == RAW and np.array_equal(unpack_floats(pack_floats(noise), 100), noise)


@given(arrays(np.int64, st.integers(0, 300), elements=st.integers(0, 2**40)), arrays(np.bool_, st.integers(0, 300)))
def test_times_and_flags_come_back_exactly(times, flags):
    assert np.array_equal(unpack_ints(pack_ints(times), times.size), times)
    assert np.array_equal(unpack_flags(pack_flags(flags), flags.size), flags)
