"""The near cache's own rules: bounds, LRU order, expiry, the invalidation epoch, glob invalidation."""

from src.infrastructure.cache.near_cache import NearCache


def _near(now: list[float], **bounds: int) -> NearCache:
    return NearCache(("ohlcv:",), clock=lambda: now[0], **{"max_entries": 3, "max_bytes": 10_000, **bounds})


def test_covers_only_the_configured_prefixes() -> None:
    near = _near([0.0])
    assert near.covers("ohlcv:AAPL:NASDAQ:1m:500")
    assert not near.covers("quote:latest:NASDAQ:AAPL")
    assert not near.covers("lock:ohlcv:AAPL")
    assert not NearCache((), max_entries=1, max_bytes=1).covers("ohlcv:x")
    assert near.may_match("ohlcv:AAPL:*") and near.may_match("*") and near.may_match("oh?lcv*")
    assert not near.may_match("quote:*")


def test_least_recently_used_entry_goes_first_beyond_max_entries() -> None:
    near = _near([0.0])
    for key in ("ohlcv:a", "ohlcv:b", "ohlcv:c"):
        assert near.put(key, b"v", 10.0, near.epoch)
    assert near.get("ohlcv:a") == b"v"  # a is now the most recently used
    near.put("ohlcv:d", b"v", 10.0, near.epoch)
    assert len(near) == 3
    assert near.get("ohlcv:b") is None
    assert near.get("ohlcv:a") == near.get("ohlcv:c") == near.get("ohlcv:d") == b"v"


def test_total_size_stays_within_max_bytes_and_oversized_values_are_refused() -> None:
    near = _near([0.0], max_entries=100, max_bytes=1_000)
    for i in range(10):
        near.put(f"ohlcv:{i}", b"x" * 200, 10.0, near.epoch)
    assert near.size_bytes <= 1_000
    assert len(near) == 3  # (7 + 200 + 100) bytes each
    assert near.get("ohlcv:9") is not None and near.get("ohlcv:0") is None
    assert not near.put("ohlcv:big", b"x" * 1_000, 10.0, near.epoch)
    assert near.get("ohlcv:big") is None
    near.clear()
    assert near.size_bytes == 0 and len(near) == 0


def test_entries_expire_at_their_expiry() -> None:
    now = [100.0]
    near = _near(now)
    near.put("ohlcv:a", b"v", 100.5, near.epoch)
    now[0] = 100.49
    assert near.get("ohlcv:a") == b"v"
    now[0] = 100.5
    assert near.get("ohlcv:a") is None
    assert not near.put("ohlcv:b", b"v", 100.5, near.epoch)  # already expired


def test_a_value_read_before_an_invalidation_is_not_kept() -> None:
    near = _near([0.0])
    epoch = near.epoch  # captured before the (slow) read
    near.invalidate_keys(["ohlcv:other"])  # any invalidation meanwhile
    assert not near.put("ohlcv:a", b"old", 10.0, epoch)
    assert near.get("ohlcv:a") is None
    assert near.put("ohlcv:a", b"new", 10.0, near.epoch)


def test_pattern_invalidation_matches_like_delete_pattern() -> None:
    near = _near([0.0], max_entries=10)
    for key in ("ohlcv:AAPL:NASDAQ:1m:500", "ohlcv:AAPL:NASDAQ:1h:500", "ohlcv:MSFT:NASDAQ:1m:500"):
        near.put(key, b"v", 10.0, near.epoch)
    near.invalidate_pattern("ohlcv:AAPL:NASDAQ:1m:*")
    assert near.get("ohlcv:AAPL:NASDAQ:1m:500") is None
    assert near.get("ohlcv:AAPL:NASDAQ:1h:500") == near.get("ohlcv:MSFT:NASDAQ:1m:500") == b"v"
    near.invalidate_pattern("ohlcv:[A]APL:*")  # classes may differ between Redis and fnmatch: drop all
    assert len(near) == 0


def test_a_value_decoding_to_bytes_is_decoded_once_and_mutable_values_every_time():
    from src.infrastructure.cache import codec
    from src.infrastructure.cache.near_cache import NearCache

    near = NearCache(("ohlcv:",), max_entries=10, max_bytes=10_000, clock=lambda: 0.0)
    near.put("ohlcv:raw", codec.encode(b"payload"), expires=10.0, epoch=near.epoch)
    near.put("ohlcv:json", codec.encode({"a": 1}), expires=10.0, epoch=near.epoch)
    first, second = near.get_value("ohlcv:raw", codec.decode), near.get_value("ohlcv:raw", codec.decode)
    assert first == b"payload" and first is second
    one, two = near.get_value("ohlcv:json", codec.decode), near.get_value("ohlcv:json", codec.decode)
    assert one == two == {"a": 1} and one is not two
    near.invalidate_keys(["ohlcv:raw"])
    assert near.get_value("ohlcv:raw", codec.decode) is None
