"""A range request's pieces: contiguous from the range's start (stamped on any calendar), covering it, each at
most `page - 1` interval lengths."""

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from src.domain.market_data import Interval
from src.providers.tradingview.client import range_pieces


@given(
    interval=st.sampled_from(list(Interval)),
    start=st.integers(min_value=0, max_value=2_000_000_000),
    length=st.integers(min_value=0, max_value=20_000),
    page=st.integers(min_value=1, max_value=300),
)
def test_pieces_cover_the_range_contiguously_within_one_page_each(interval, start, length, page):
    end = start + length * (interval.seconds or 86_400) // 7
    pieces = range_pieces(interval, start, end, page)
    assert pieces[0][0] == start and all(a <= b for a, b in pieces)
    assert all(interval.next_open(b) == following for (_, b), (following, _) in pairwise(pieces))
    assert pieces[-1][1] <= end < interval.next_open(pieces[-1][1])
    for a, b in pieces:
        if interval.seconds:
            assert (b - a) // interval.seconds + 1 <= max(1, page - 1)
        else:
            months, t = 0, a
            while interval.next_open(t) <= b:
                months, t = months + 1, interval.next_open(t)
            assert months <= max(0, page - 2)


def test_one_period_is_one_piece_and_an_off_grid_start_is_kept():
    assert range_pieces(Interval.M1, 120, 120, 5_000) == [(120, 120)]
    assert range_pieces(Interval.H1, 1_800, 9_000, 2) == [(1_800, 1_800), (5_400, 5_400), (9_000, 9_000)]
