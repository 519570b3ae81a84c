"""Bit math against ``netaddr`` as an oracle; the sorted indexes against plain models.

The index tests run random operation sequences against a dumb model (a Python ``set``) and call
``_check()`` after every mutation, with small chunk sizes so that chunks split and merge.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from unittest import mock

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc import _index
from ipv6alloc._bits import WIDTH, align_up, blocks_in_range, largest_block_prefixlen
from ipv6alloc._index import BlockIndex, GapIndex, SortedInts

#: Chunk sizes to test: 4 splits after 8 items, 8 also merges below 2, 256 is the real one.
loads = st.sampled_from([4, 8, 256])
#: Gaps a GapIndex keeps flat: 1 and 3 turn chunked early, 32 is the real one, 1000 never.
flats = st.sampled_from([1, 3, 32, 1000])


@st.composite
def ranges(draw: st.DrawFn) -> tuple[int, int, int]:
    """``(width, start, end)`` with ``0 <= start < end <= 2**width``, often near aligned edges."""
    width = draw(st.sampled_from([32, 128]))
    top = 1 << width

    def point() -> int:
        shift = draw(st.integers(0, width))
        base = draw(st.integers(0, top)) >> shift << shift
        return min(top, max(0, base + draw(st.integers(-2, 2))))

    a = draw(st.integers(0, top)) if draw(st.booleans()) else point()
    b = draw(st.integers(0, top)) if draw(st.booleans()) else point()
    start, end = min(a, b), max(a, b)
    if start == end:
        if end < top:
            end += 1
        else:
            start -= 1
    return width, start, end


def oracle_cidrs(width: int, start: int, end: int) -> list[tuple[int, int]]:
    """netaddr's CIDR decomposition of ``[start, end)``."""
    version = 4 if width == 32 else 6
    cidrs = netaddr.iprange_to_cidrs(
        netaddr.IPAddress(start, version), netaddr.IPAddress(end - 1, version)
    )
    return [(int(c.value), int(c.prefixlen)) for c in cidrs]


# -- bit math -----------------------------------------------------------------------------------


def test_width_table() -> None:
    assert WIDTH == {4: 32, 6: 128}


@pytest.mark.parametrize(
    ("value", "shift", "expected"),
    [(0, 0, 0), (0, 7, 0), (1, 0, 1), (1, 1, 2), (5, 2, 8), (8, 2, 8), (9, 3, 16), (255, 8, 256)],
)
def test_align_up_by_hand(value: int, shift: int, expected: int) -> None:
    assert align_up(value, shift) == expected


@given(st.integers(0, 2**128), st.integers(0, 128))
def test_align_up_is_the_next_multiple(value: int, shift: int) -> None:
    result = align_up(value, shift)
    step = 1 << shift
    assert result % step == 0
    assert value <= result < value + step


@given(ranges())
def test_blocks_in_range_match_netaddr(case: tuple[int, int, int]) -> None:
    width, start, end = case
    assert list(blocks_in_range(start, end, width)) == oracle_cidrs(width, start, end)


@given(ranges())
def test_largest_block_matches_netaddr(case: tuple[int, int, int]) -> None:
    width, start, end = case
    # The largest aligned block inside a range is one of its maximal CIDRs.
    expected = min(length for _, length in oracle_cidrs(width, start, end))
    assert largest_block_prefixlen(start, end, width) == expected


@pytest.mark.parametrize(
    ("start", "end", "width", "expected"),
    [
        (0, 2**128, 128, 0),
        (0, 2**32, 32, 0),
        (1, 2**32, 32, 1),
        (2**31 - 1, 2**31 + 1, 32, 32),  # two addresses astride a /1 boundary
        (2**31 - 2, 2**31 + 2, 32, 31),
        (6, 10, 32, 31),
        (4, 12, 32, 30),
    ],
)
def test_largest_block_by_hand(start: int, end: int, width: int, expected: int) -> None:
    assert largest_block_prefixlen(start, end, width) == expected


def test_blocks_in_range_by_hand() -> None:
    assert list(blocks_in_range(0, 2**128, 128)) == [(0, 0)]
    assert list(blocks_in_range(2**32 - 1, 2**32, 32)) == [(2**32 - 1, 32)]
    assert list(blocks_in_range(3, 13, 32)) == [(3, 32), (4, 30), (8, 30), (12, 32)]
    assert list(blocks_in_range(5, 5, 32)) == []


# -- SortedInts ---------------------------------------------------------------------------------


@given(loads, st.data())
def test_sorted_ints_match_a_sorted_list(load: int, data: st.DataObject) -> None:
    values = st.integers(0, 80)
    with mock.patch.object(SortedInts, "load", load):
        s = SortedInts()
        model: list[int] = []
        s._check()
        for _ in range(data.draw(st.integers(0, 150), label="steps")):
            op = data.draw(st.sampled_from(["add", "add", "remove", "floor", "irange"]))
            x = data.draw(values)
            if op == "add" and x not in model:
                s.add(x)
                model.insert(bisect_left(model, x), x)
                s._check()
            elif op == "remove" and model:
                victim = data.draw(st.sampled_from(model))
                s.remove(victim)
                model.remove(victim)
                s._check()
            elif op == "floor":
                i = bisect_right(model, x)
                assert s.floor(x) == (model[i - 1] if i else None)
            elif op == "irange":
                high = data.draw(values)
                assert list(s.irange(x, high)) == [v for v in model if x <= v < high]
            assert len(s) == len(model)
            assert list(s) == model


def test_sorted_ints_split_and_merge_with_small_chunks() -> None:
    with mock.patch.object(SortedInts, "load", 8):
        s = SortedInts()
        for x in range(100, 0, -1):
            s.add(x * 3)
            s._check()
        assert len(s._chunks) > 1, "chunks split above 2 * load items"
        for x in range(1, 99):
            s.remove(x * 3)
            s._check()
        assert list(s) == [297, 300]
        assert s.floor(299) == 297
        assert s.floor(296) is None
        assert list(s.irange(0, 1000)) == [297, 300]


# -- BlockIndex ---------------------------------------------------------------------------------


@given(loads, st.data())
def test_block_index_matches_a_dict(load: int, data: st.DataObject) -> None:
    """Against a dict start -> length: add, add_run, remove, get, floor, any_in, irange."""
    values = st.integers(0, 200)
    with mock.patch.object(BlockIndex, "load", load):
        b = BlockIndex()
        model: dict[int, int] = {}
        b._check()
        for _ in range(data.draw(st.integers(0, 120), label="steps")):
            op = data.draw(st.sampled_from(["add", "run", "remove", "get", "floor", "range"]))
            x = data.draw(values, label="x")
            length = data.draw(st.integers(0, 128), label="length")
            if op == "add" and x not in model:
                b.add(x, length)
                model[x] = length
            elif op == "run":
                # Ascending starts in a stretch that holds no present start.
                above = [s for s in model if s >= x]
                high = min(above, default=x + 40)
                starts = sorted(data.draw(st.sets(st.integers(x, max(x, high - 1)), max_size=30)))
                starts = [s for s in starts if s not in model]
                b.add_run(starts, length)
                model.update(dict.fromkeys(starts, length))
            elif op == "remove" and model:
                victim = data.draw(st.sampled_from(sorted(model)), label="victim")
                assert b.remove(victim) == model.pop(victim)
            elif op == "remove":
                with pytest.raises(KeyError):
                    b.remove(x)
            elif op == "get":
                assert b.get(x) == model.get(x)
            elif op == "floor":
                below = [s for s in model if s <= x]
                assert b.floor(x) == ((max(below), model[max(below)]) if below else None)
            elif op == "range":
                high = data.draw(values, label="high")
                inside = sorted((s, n) for s, n in model.items() if x <= s < high)
                assert list(b.irange(x, high)) == inside
                assert b.any_in(x, high) == bool(inside)
            b._check()
            assert len(b) == len(model)
            assert list(b) == sorted(model.items())


def test_block_index_run_splices_into_the_middle_of_a_chunk() -> None:
    with mock.patch.object(BlockIndex, "load", 4):
        b = BlockIndex()
        for s in (0, 10, 1000, 1010):
            b.add(s, 32)
        b.add_run(list(range(100, 130)), 30)
        b._check()
        assert len(b._chunks) > 1, "a long run is cut into chunks"
        assert list(b) == [(0, 32), (10, 32)] + [(s, 30) for s in range(100, 130)] + [
            (1000, 32),
            (1010, 32),
        ]
        for s in range(100, 130):
            assert b.remove(s) == 30
            b._check()
        assert list(b) == [(0, 32), (10, 32), (1000, 32), (1010, 32)]


# -- GapIndex -----------------------------------------------------------------------------------


def runs(free: set[int]) -> list[tuple[int, int]]:
    """Maximal runs ``[start, end)`` of a set of ints."""
    out: list[tuple[int, int]] = []
    for x in sorted(free):
        if out and out[-1][1] == x:
            out[-1] = (out[-1][0], x + 1)
        else:
            out.append((x, x + 1))
    return out


def model_find(
    free: set[int], *, low: int, high: int, width: int, prefixlen: int, x: int
) -> int | None:
    """The first aligned free block of ``prefixlen`` at or after ``x``, by brute force."""
    size = 1 << (width - prefixlen)
    start = align_up(max(x, low), width - prefixlen)
    while start + size <= high:
        if all(a in free for a in range(start, start + size)):
            return start
        start += size
    return None


def model_largest(free: set[int], low: int, high: int, width: int) -> int | None:
    """Prefix length of the largest aligned free block, by brute force."""
    for prefixlen in range(width - (high - low).bit_length() + 1, width + 1):
        if (
            model_find(free, low=low, high=high, width=width, prefixlen=prefixlen, x=low)
            is not None
        ):
            return prefixlen
    return None


@st.composite
def pools(draw: st.DrawFn) -> tuple[int, int, int]:
    """``(width, low, high)`` of a small aligned pool: up to 256 addresses, anywhere."""
    width = draw(st.sampled_from([32, 128]))
    shift = draw(st.integers(0, 8))
    low = draw(
        st.sampled_from([0, (1 << (width - shift)) - 1])
        | st.integers(0, (1 << (width - shift)) - 1)
    )
    return width, low << shift, (low + 1) << shift


def check_gaps(g: GapIndex, free: set[int], low: int, high: int, width: int) -> None:
    g._check()
    assert list(g) == runs(free)
    assert len(g) == len(runs(free))
    assert g.free == len(free)
    assert g.largest_class() == model_largest(free, low, high, width)


@given(loads, flats, pools(), st.data())
def test_gap_index_matches_a_set_of_free_addresses(
    load: int, flat: int, pool: tuple[int, int, int], data: st.DataObject
) -> None:
    width, low, high = pool
    size = high - low
    offsets = st.integers(0, size)
    with mock.patch.object(GapIndex, "load", load), mock.patch.object(GapIndex, "flat_gaps", flat):
        g = GapIndex(low, high, width)
        free = set(range(low, high))
        check_gaps(g, free, low, high, width)
        for _ in range(data.draw(st.integers(0, 60), label="steps")):
            op = data.draw(
                st.sampled_from(["carve", "carve", "shatter", "fill", "heal", "take", "find"])
            )
            if op == "shatter":
                # Single addresses every few: many small gaps at once, so chunks split.
                a = low + data.draw(offsets)
                step = data.draw(st.integers(2, 5))
                for x in range(a, min(high, a + 40 * step), step):
                    g.carve(x, x + 1)
                    free.discard(x)
                check_gaps(g, free, low, high, width)
            elif op == "heal":
                # Fill whole taken runs between gaps: gaps merge and chunks shrink.
                taken = runs(set(range(low, high)) - free)
                for lo, hi in (
                    data.draw(st.lists(st.sampled_from(taken), unique=True)) if taken else []
                ):
                    g.fill(lo, hi)
                    free |= set(range(lo, hi))
                    g._check()
                check_gaps(g, free, low, high, width)
            elif op == "carve":
                # Ranges may stick out of the pool on either side: carve clips them.
                a = low + data.draw(offsets) - data.draw(st.integers(0, 2))
                b = a + data.draw(st.integers(0, 6) | st.integers(0, size))
                g.carve(a, b)
                free -= set(range(a, b))
                check_gaps(g, free, low, high, width)
            elif op == "fill":
                taken = runs(set(range(low, high)) - free)
                if not taken:
                    continue
                lo, hi = data.draw(st.sampled_from(taken))
                a = data.draw(st.integers(lo, hi - 1))
                b = data.draw(st.integers(a + 1, hi))
                g.fill(a, b)
                free |= set(range(a, b))
                check_gaps(g, free, low, high, width)
            elif op == "take":
                a = low + data.draw(st.integers(0, size - 1))
                b = data.draw(st.integers(a + 1, high))
                position = g.containing(a, b)
                if not all(x in free for x in range(a, b)):
                    assert position is None
                    continue
                assert position is not None
                g.take(a, b, *position)
                free -= set(range(a, b))
                check_gaps(g, free, low, high, width)
            else:
                prefixlen = data.draw(st.integers(width - size.bit_length() + 1, width))
                x = low + data.draw(offsets)
                found = g.find(prefixlen, x)
                expected = model_find(
                    free, low=low, high=high, width=width, prefixlen=prefixlen, x=x
                )
                if expected is None:
                    assert found is None
                    continue
                assert found is not None
                start, k, i = found
                assert start == expected
                # The position names the gap that holds the block, ready for take().
                assert g.containing(start, start + (1 << (width - prefixlen))) == (k, i)


def test_gap_index_doctest_case_by_hand() -> None:
    g = GapIndex(0, 256, 32)
    g.carve(0, 1)
    g._check()
    assert list(g) == [(1, 256)]
    assert g.find(25, 0) == (128, 0, 0)
    assert g.find(24, 0) is None
    assert g.largest_class() == 25
    g.carve(0, 256)
    g._check()
    assert list(g) == []
    assert g.largest_class() is None
    assert g.find(32, 0) is None
    g.fill(0, 256)
    g._check()
    assert list(g) == [(0, 256)]
    assert g.largest_class() == 24


def test_empty_pool_range_has_no_gaps() -> None:
    g = GapIndex(5, 5, 32)
    g._check()
    assert list(g) == []
    assert g.free == 0
    assert g.find(32, 5) is None
    assert g.containing(5, 6) is None


def test_gap_index_splits_and_merges_with_small_chunks() -> None:
    with mock.patch.object(GapIndex, "load", 8):
        g = GapIndex(0, 1024, 32)
        for x in range(0, 1024, 4):  # 256 gaps of three addresses
            g.carve(x, x + 1)
            g._check()
        g.fill(1016, 1017)  # one gap of seven addresses at the end, in the last chunk
        g._check()
        assert type(g) is _index._ChunkedGapIndex, "flat no more past flat_gaps gaps"
        assert len(g._starts) > 1, "chunks split above 2 * load gaps"
        assert g.largest_class() == 30
        found = g.find(31, 0)
        assert found is not None
        assert found[0] == 2
        found = g.find(30, 0)
        assert found is not None
        assert found[0] == 1016
        # Refill from the front: the first chunks empty out and merge with the later ones,
        # whose smallest class differs.
        for x in range(0, 1012, 4):
            g.fill(x, x + 1)
            g._check()
        assert list(g) == [(0, 1012), (1013, 1020), (1021, 1024)]
        assert len(g._starts) == 1, "chunks merged back"
        assert g.largest_class() == 23


# -- the size knobs -----------------------------------------------------------------------------


def test_size_knobs_are_class_attributes_with_the_real_defaults() -> None:
    assert not hasattr(_index, "_LOAD"), "no module global left for tests to patch by mistake"
    assert not hasattr(_index, "FLAT_GAPS"), "no module global left for tests to patch by mistake"
    knobs = (SortedInts.load, BlockIndex.load, GapIndex.load, GapIndex.flat_gaps)
    assert knobs == (256, 256, 256, 32)
    for cls in (SortedInts, BlockIndex, GapIndex):
        assert "load" not in cls.__slots__


def test_small_load_reaches_subclasses_and_the_pools_of_an_allocator(small_load: int) -> None:
    """The fixture patches the classes: subclasses (a pool is a GapIndex) read the new sizes."""
    from ipv6alloc import PrefixAllocator
    from ipv6alloc._state import Pool

    chunked = GapIndex._chunked
    for cls in (Pool, Pool._chunked, chunked):
        assert (cls.load, cls.flat_gaps) == (small_load, 3), cls
    a = PrefixAllocator(["2001:db8::/120"])
    for x in range(0, 256, 4):  # 64 gaps: chunked past three, chunks split above 2 * load
        a.reserve(f"2001:db8::{x:x}")
    a._check()
    (pool,) = list(a._order)
    assert isinstance(pool, Pool._chunked)
    assert len(pool._starts) > 1
