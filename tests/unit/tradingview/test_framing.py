import contextlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from src.providers.tradingview.framing import (
    FrameError,
    decode_frames,
    encode_frame,
    encode_frames,
    heartbeat_payload,
    is_heartbeat,
)

payloads = st.text(min_size=0, max_size=200)  # any Unicode, marker lookalikes included


@given(payloads)
def test_one_frame_round_trips(payload: str) -> None:
    assert decode_frames(encode_frame(payload)) == [payload]


@given(st.lists(payloads, min_size=1, max_size=8))
def test_several_frames_in_one_message_round_trip(items: list[str]) -> None:
    assert decode_frames(encode_frames(items)) == items


def test_length_counts_characters_not_bytes() -> None:
    payload = '{"m":"x","p":["é"]}'
    assert encode_frame(payload) == f"~m~19~m~{payload}"


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="~", blacklist_categories=("Cs",)),
                        min_size=1, max_size=60)
                .filter(lambda s: not s.isascii()), min_size=1, max_size=4))
def test_byte_counted_lengths_are_recovered_by_marker_split(items: list[str]) -> None:
    message = "".join(f"~m~{len(p.encode())}~m~{p}" for p in items)
    assert decode_frames(message) == items


def test_heartbeat_payload_is_recognised() -> None:
    assert encode_frame(heartbeat_payload(42)) == "~m~5~m~~h~42"
    assert is_heartbeat(heartbeat_payload(1))
    assert not is_heartbeat('{"m":"du"}')


@pytest.mark.parametrize("message", ["", "hello", "~m~", "~m~abc~m~x", "x~m~1~m~a", "~m~-1~m~"])
def test_malformed_messages_raise_frame_error(message: str) -> None:
    with pytest.raises(FrameError):
        decode_frames(message)


@given(st.text(max_size=100))
def test_arbitrary_text_decodes_or_raises_frame_error_only(message: str) -> None:
    try:
        frames = decode_frames(message)
    except FrameError:
        return
    assert isinstance(frames, list)
    assert all(isinstance(f, str) for f in frames)


@given(st.lists(payloads, min_size=1, max_size=4), st.integers(min_value=1, max_value=50))
def test_truncated_messages_never_crash(items: list[str], cut: int) -> None:
    message = encode_frames(items)
    truncated = message[: max(0, len(message) - cut)]
    with contextlib.suppress(FrameError):
        decode_frames(truncated)


def test_frames_split_by_length_even_when_payload_contains_markers() -> None:
    tricky = 'text with ~m~3~m~ inside'
    assert decode_frames(encode_frames([tricky, "~h~1"])) == [tricky, "~h~1"]
    assert re.search(r"~m~\d+~m~", tricky)
