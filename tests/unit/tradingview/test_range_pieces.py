"""A range request's pieces: contiguous, covering the range, never more than one page of bar periods."""

from hypothesis import given
from hypothesis import strategies as st

from src.domain.market_data import Interval
from src.providers.tradingview.client import range_pieces


def opens(interval: Interval, first: int, last: int) -> list[int]:
    found, t = [], interval.align(first)
    while t <= last:
        if t >= first:
            found.append(t)
        t = interval.next_open(t)
    return found


@given(
    interval=st.sampled_from(list(Interval)),
    start=st.integers(min_value=0, max_value=2_000_000_000),
    length=st.integers(min_value=0, max_value=20_000),
    page=st.integers(min_value=1, max_value=300),
)
def test_pieces_cover_the_range_contiguously_within_one_page_each(interval, start, length, page):
    end = start + length * (interval.seconds or 86_400) // 7
    pieces = range_pieces(interval, start, end, page)
    assert [t for a, b in pieces for t in opens(interval, a, b)] == opens(interval, start, end)
    assert all(len(opens(interval, a, b)) <= page for a, b in pieces)


def test_one_period_is_one_piece():
    assert range_pieces(Interval.M1, 120, 120, 5_000) == [(120, 120)]
