"""The packed chunk directory: merging stats in any order gives the same directory (writers may race)."""

from hypothesis import given
from hypothesis import strategies as st

from src.infrastructure.mongo.chunk_directory import ChunkEntry, decode_directory, merge_directory

stats = st.dictionaries(st.integers(0, 20).map(lambda i: i * 604_800),
                        st.one_of(st.none(), st.tuples(st.integers(1, 10_080), st.integers(0, 10**9),
                                                       st.integers(0, 10**9))), max_size=6)


def merged(batches) -> list[ChunkEntry]:
    doc = None
    for batch in batches:
        columns = merge_directory(doc, batch)
        doc = columns if columns is not None else doc
    return decode_directory(doc)


@given(st.lists(stats, max_size=6), st.randoms())
def test_merges_commute_and_keep_the_largest_count_and_widest_span(batches, random):
    shuffled = list(batches)
    random.shuffle(shuffled)
    assert merged(batches) == merged(shuffled)
    for entry in merged(batches):
        seen = [b[entry.start] for b in batches if b.get(entry.start) is not None]
        assert entry.n == max((n for n, _, _ in seen), default=0)
        assert entry.first == (min(f for _, f, _ in seen) if seen else None)


def test_a_registered_chunk_is_incomplete_until_its_stats_arrive():
    registered = merge_directory(None, {604_800: None})
    [entry] = decode_directory(registered)
    assert (entry.n, entry.first, entry.last, entry.complete) == (0, None, None, False)
    assert merge_directory(registered, {604_800: None}) is None  # nothing new: no write
    [entry] = decode_directory(merge_directory(registered, {604_800: (3, 604_860, 604_980)}))
    assert entry.complete and (entry.first, entry.last) == (604_860, 604_980)
