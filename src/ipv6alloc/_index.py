"""Ordered indexes on plain integers: :class:`SortedInts` and :class:`GapIndex`.

Both keep their items in a list of sorted chunks (the layout of ``sortedcontainers``): a binary
search over the chunks' last keys finds a chunk, a second one inside it finds the item, and
inserting or deleting moves at most one chunk's items in memory. With chunks bounded by a
constant, each operation is O(log n) comparisons plus a bounded memory move: "O(log n),
approximate", as ``sortedcontainers`` says of the same layout.

:class:`GapIndex` holds the free intervals ("gaps") of one pool. Each gap carries its *class*:
the prefix length of the largest aligned block it can hold. A gap holds an aligned block of
length ``L`` exactly when its class is at most ``L``, so "the first gap after ``x`` that can
hold a /L" is a search for the first class byte ``<= L``. Classes live in one ``bytearray`` per
chunk and each chunk's smallest class in another; the searches run as cached byte-class
regular expressions, so they scan in C rather than in Python loops. A gap index with few gaps
(most pools) skips the chunks: its gaps are one flat tuple of bounds and its classes one
``bytes``, until it outgrows :attr:`GapIndex.flat_gaps`.

The sizes are class attributes (:attr:`SortedInts.load`, :attr:`BlockIndex.load`,
:attr:`GapIndex.load`, :attr:`GapIndex.flat_gaps`), read through the instance at call time, so a
test can shrink them for every index of a class (subclasses included) with
``monkeypatch.setattr(SortedInts, "load", 8)``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from ._bits import align_up, largest_block_prefixlen

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import ClassVar

__all__ = ["BlockIndex", "GapIndex", "SortedInts", "require"]

#: ``_AT_MOST[L]`` finds the first class byte ``<= L``; compiled on first use.
_AT_MOST: list[re.Pattern[bytes] | None] = [None] * 129

#: ``_BYTE[L]`` is ``bytes((L,))``.
_BYTE = [bytes((value,)) for value in range(256)]


def require(condition: bool, message: str) -> None:
    """Raise AssertionError with ``message`` unless ``condition``: an ``assert`` that ``-O`` keeps.

    The invariant checks (the ``_check`` methods and :mod:`ipv6alloc._invariants`) use it, so they
    check as much under ``python -O`` as without it.

    >>> require(1 < 2, "one is less than two")
    >>> require(2 < 1, "two is less than one")
    Traceback (most recent call last):
    ...
    AssertionError: two is less than one
    """
    if not condition:
        raise AssertionError(message)


def _at_most(limit: int) -> re.Pattern[bytes]:
    pattern = _AT_MOST[limit]
    if pattern is None:
        pattern = _AT_MOST[limit] = re.compile(b"[\\x00-\\x%02x]" % limit)
    return pattern


def _any_in(maxes: list[int], chunks: list[list[int]], low: int, high: int) -> bool:
    """Whether chunked sorted ints (with their chunks' maxima) hold one in ``[low, high)``."""
    k = bisect_left(maxes, low)
    if k == len(maxes):
        return False
    chunk = chunks[k]
    return chunk[bisect_left(chunk, low)] < high


class SortedInts:
    """A sorted set of ints in chunks; O(log n) approximate per operation.

    >>> s = SortedInts()
    >>> for x in (30, 10, 20):
    ...     s.add(x)
    >>> list(s), s.floor(25), s.floor(5), len(s)
    ([10, 20, 30], 20, None, 3)
    """

    __slots__ = ("_chunks", "_len", "_maxes")

    #: Items per chunk: a chunk splits in two above ``2 * load`` items and merges with a
    #: neighbour below ``load // 4``. Small enough that a chunk's memory move costs little next
    #: to the Python-level work of one operation. A class attribute, read at call time: tests
    #: shrink it (``monkeypatch.setattr(SortedInts, "load", 8)``).
    load: ClassVar[int] = 256

    def __init__(self) -> None:
        self._chunks: list[list[int]] = []
        self._maxes: list[int] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:
        for chunk in self._chunks:
            yield from chunk

    def add(self, value: int) -> None:
        """Insert ``value`` (which must not be present). Runtime complexity: O(log n)."""
        maxes = self._maxes
        self._len += 1
        if not maxes:
            self._chunks.append([value])
            maxes.append(value)
            return
        k = bisect_left(maxes, value)
        if k == len(maxes):
            k -= 1
            chunk = self._chunks[k]
            chunk.append(value)
            maxes[k] = value
        else:
            chunk = self._chunks[k]
            chunk.insert(bisect_left(chunk, value), value)
        load = self.load
        if len(chunk) > 2 * load:
            self._chunks.insert(k + 1, chunk[load:])
            del chunk[load:]
            maxes.insert(k, chunk[-1])

    def remove(self, value: int) -> None:
        """Remove ``value`` (which must be present). Runtime complexity: O(log n)."""
        maxes = self._maxes
        k = bisect_left(maxes, value)
        if k == len(maxes):
            raise KeyError(value)
        chunk = self._chunks[k]
        i = bisect_left(chunk, value)
        if chunk[i] != value:
            raise KeyError(value)
        del chunk[i]
        self._len -= 1
        if not chunk:
            del self._chunks[k]
            del maxes[k]
        elif i == len(chunk):
            maxes[k] = chunk[-1]
        if len(chunk) < self.load // 4 and len(self._chunks) > 1 and chunk:
            self._merge(k)

    def _merge(self, k: int) -> None:
        """Merge chunk ``k`` into a neighbour, splitting again if the result is too large."""
        if k == len(self._chunks) - 1:
            k -= 1
        left, right = self._chunks[k], self._chunks[k + 1]
        left.extend(right)
        del self._chunks[k + 1]
        del self._maxes[k]
        self._maxes[k] = left[-1]
        if len(left) > 2 * self.load:
            half = len(left) // 2
            self._chunks.insert(k + 1, left[half:])
            del left[half:]
            self._maxes.insert(k, left[-1])

    def floor(self, value: int) -> int | None:
        """The largest item ``<= value``, or None. Runtime complexity: O(log n)."""
        maxes = self._maxes
        k = bisect_left(maxes, value)
        if k < len(maxes):
            chunk = self._chunks[k]
            i = bisect_right(chunk, value)
            if i:
                return chunk[i - 1]
        if k:
            return self._chunks[k - 1][-1]
        return None

    def any_in(self, low: int, high: int) -> bool:
        """Whether some item lies in ``[low, high)``. Runtime complexity: O(log n).

        >>> s = SortedInts()
        >>> s.add(10)
        >>> s.any_in(5, 10), s.any_in(5, 11), s.any_in(11, 20)
        (False, True, False)
        """
        return _any_in(self._maxes, self._chunks, low, high)

    def irange(self, low: int, high: int) -> Iterator[int]:
        """Yield the items in ``[low, high)`` in order. Runtime complexity: O(log n + k)."""
        maxes = self._maxes
        k = bisect_left(maxes, low)
        chunks = self._chunks
        i = bisect_left(chunks[k], low) if k < len(chunks) else 0
        while k < len(chunks):
            chunk = chunks[k]
            for value in chunk[i:]:
                if value >= high:
                    return
                yield value
            k += 1
            i = 0

    def _check(self) -> None:
        """Verify every invariant; O(n)."""
        require(len(self._chunks) == len(self._maxes), "one maximum per chunk")
        flat = list(self)
        require(flat == sorted(set(flat)), "items must be sorted and unique")
        require(len(flat) == self._len, "the length counts the items")
        for chunk, top in zip(self._chunks, self._maxes, strict=True):
            require(len(chunk) > 0, "no empty chunk")
            require(len(chunk) <= 2 * self.load, "chunks split above twice the load")
            require(chunk[-1] == top, "a chunk's maximum is its last item")


class BlockIndex:
    """Blocks ``start -> prefixlen``, sorted by start; O(log n) approximate per operation.

    The allocator's index of allocations. Starts are kept in sorted chunks like
    :class:`SortedInts`; each chunk's prefix lengths sit in a parallel ``bytearray``, so a block
    costs one list slot and one byte besides its start (no hash table entry).

    >>> b = BlockIndex()
    >>> b.add(256, 24)
    >>> b.add_run([0, 16, 32], 28)
    >>> list(b), b.get(16), b.get(17), b.floor(40)
    ([(0, 28), (16, 28), (32, 28), (256, 24)], 28, None, (32, 28))
    """

    __slots__ = ("_chunks", "_len", "_lens", "_maxes")

    #: Blocks per chunk, as :attr:`SortedInts.load`.
    load: ClassVar[int] = 256

    def __init__(self) -> None:
        self._chunks: list[list[int]] = []
        self._lens: list[bytearray] = []
        self._maxes: list[int] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Yield ``(start, prefixlen)`` in address order."""
        for chunk, lens in zip(self._chunks, self._lens, strict=True):
            yield from zip(chunk, lens, strict=True)

    def _find(self, start: int) -> tuple[int, int] | None:
        """Position ``(k, i)`` of ``start``, or None when it is not a block's start."""
        k = bisect_left(self._maxes, start)
        if k == len(self._maxes):
            return None
        chunk = self._chunks[k]
        i = bisect_left(chunk, start)
        return (k, i) if chunk[i] == start else None

    def get(self, start: int) -> int | None:
        """The prefix length of the block starting at ``start``, or None. O(log n)."""
        found = self._find(start)
        return None if found is None else self._lens[found[0]][found[1]]

    def add(self, start: int, prefixlen: int) -> None:
        """Insert a block (its start must not be present). Runtime complexity: O(log n)."""
        maxes = self._maxes
        self._len += 1
        if not maxes:
            self._chunks.append([start])
            self._lens.append(bytearray((prefixlen,)))
            maxes.append(start)
            return
        k = bisect_left(maxes, start)
        if k == len(maxes):
            k -= 1
            chunk, lens = self._chunks[k], self._lens[k]
            chunk.append(start)
            lens.append(prefixlen)
            maxes[k] = start
        else:
            chunk, lens = self._chunks[k], self._lens[k]
            i = bisect_left(chunk, start)
            chunk.insert(i, start)
            lens.insert(i, prefixlen)
        load = self.load
        if len(chunk) > 2 * load:
            self._chunks.insert(k + 1, chunk[load:])
            self._lens.insert(k + 1, lens[load:])
            del chunk[load:], lens[load:]
            maxes.insert(k, chunk[-1])

    def add_run(self, starts: list[int], prefixlen: int) -> None:
        """Insert blocks of one length whose ascending ``starts`` no present start lies between.

        For a run of blocks carved from one free range: one splice instead of ``m`` inserts.
        Runtime complexity: O(log n + m) for m starts, approximate.

        >>> b = BlockIndex()
        >>> b.add(0, 24)
        >>> b.add(1024, 24)
        >>> b.add_run([256, 512], 24)
        >>> [start for start, _ in b]
        [0, 256, 512, 1024]
        """
        if not starts:
            return
        self._len += len(starts)
        chunks, lens, maxes = self._chunks, self._lens, self._maxes
        merged, merged_lens = starts, bytearray((prefixlen,)) * len(starts)
        k = bisect_left(maxes, starts[0])
        if k == len(maxes) and k:
            k -= 1  # after every block: extend the last chunk
        if k < len(maxes):
            i = bisect_left(chunks[k], starts[0])
            merged = chunks[k][:i] + starts + chunks[k][i:]
            merged_lens = lens[k][:i] + merged_lens + lens[k][i:]
            del chunks[k], lens[k], maxes[k]
        load = self.load
        cuts = range(0, len(merged), load)
        chunks[k:k] = [merged[j : j + load] for j in cuts]
        lens[k:k] = [merged_lens[j : j + load] for j in cuts]
        maxes[k:k] = [merged[min(j + load, len(merged)) - 1] for j in cuts]

    def remove(self, start: int) -> int:
        """Remove the block starting at ``start``; return its prefix length.

        Runtime complexity: O(log n).

        Raises:
            KeyError: no block starts there.
        """
        found = self._find(start)
        if found is None:
            raise KeyError(start)
        k, i = found
        chunk, lens = self._chunks[k], self._lens[k]
        prefixlen = lens[i]
        del chunk[i], lens[i]
        self._len -= 1
        if not chunk:
            del self._chunks[k], self._lens[k], self._maxes[k]
            return prefixlen
        if i == len(chunk):
            self._maxes[k] = chunk[-1]
        if len(chunk) < self.load // 4 and len(self._chunks) > 1:
            self._merge(k)
        return prefixlen

    def _merge(self, k: int) -> None:
        """Merge chunk ``k`` into a neighbour, splitting again if the result is too large."""
        if k == len(self._chunks) - 1:
            k -= 1
        left, left_lens = self._chunks[k], self._lens[k]
        left.extend(self._chunks.pop(k + 1))
        left_lens.extend(self._lens.pop(k + 1))
        del self._maxes[k]
        self._maxes[k] = left[-1]
        if len(left) > 2 * self.load:
            half = len(left) // 2
            self._chunks.insert(k + 1, left[half:])
            self._lens.insert(k + 1, left_lens[half:])
            del left[half:], left_lens[half:]
            self._maxes.insert(k, left[-1])

    def floor(self, value: int) -> tuple[int, int] | None:
        """The last block ``(start, prefixlen)`` starting at or before ``value``, or None.

        Runtime complexity: O(log n).
        """
        maxes = self._maxes
        k = bisect_left(maxes, value)
        if k < len(maxes):
            i = bisect_right(self._chunks[k], value)
            if i:
                return self._chunks[k][i - 1], self._lens[k][i - 1]
        if k:
            return self._chunks[k - 1][-1], self._lens[k - 1][-1]
        return None

    def any_in(self, low: int, high: int) -> bool:
        """Whether some block starts in ``[low, high)``. Runtime complexity: O(log n)."""
        return _any_in(self._maxes, self._chunks, low, high)

    def irange(self, low: int, high: int) -> Iterator[tuple[int, int]]:
        """Yield the blocks starting in ``[low, high)`` in order. O(log n + k)."""
        k = bisect_left(self._maxes, low)
        chunks, lens = self._chunks, self._lens
        i = bisect_left(chunks[k], low) if k < len(chunks) else 0
        while k < len(chunks):
            for start, prefixlen in zip(chunks[k][i:], lens[k][i:], strict=True):
                if start >= high:
                    return
                yield start, prefixlen
            k += 1
            i = 0

    def _check(self) -> None:
        """Verify every invariant; O(n)."""
        require(
            len(self._chunks) == len(self._lens) == len(self._maxes),
            "one length list and one maximum per chunk",
        )
        starts = [start for start, _ in self]
        require(starts == sorted(set(starts)), "starts sorted and unique")
        require(len(starts) == self._len, "the length counts the blocks")
        for chunk, lens, top in zip(self._chunks, self._lens, self._maxes, strict=True):
            require(len(chunk) > 0, "no empty chunk")
            require(
                len(chunk) == len(lens) <= 2 * self.load,
                "one length per start, chunks split above twice the load",
            )
            require(chunk[-1] == top, "a chunk's maximum is its last start")


class GapIndex:
    """The free intervals of one pool ``[start, end)``, searchable by the blocks they can hold.

    Gaps are maximal: two gaps never touch. ``width`` is the address width (32 or 128), so that
    a gap's class is a prefix length. A position ``(k, i)`` names gap ``i`` of chunk ``k``; the
    positions :meth:`find` and :meth:`containing` return are valid until the next change.

    An index starts *flat*: its gaps in one tuple of bounds, ``(start0, end0, start1, end1,
    ...)``, strictly increasing because gaps never touch, and their classes in one ``bytes``.
    One binary search over the bounds tells whether an address is free (an odd count of bounds
    at or below it) and which gap holds it. The pool of a node's own subnet rarely has more than
    a few gaps, and immutable ints in a tuple cost the garbage collector nothing once it has
    looked at them once: a flat index is one tracked object. Past :attr:`flat_gaps` gaps, the
    index turns into its chunked form (:class:`_ChunkedGapIndex`, the same object, its class
    changed) and stays so.

    >>> g = GapIndex(0, 256, 32)  # 0.0.0.0/24
    >>> g.carve(0, 1)  # take 0.0.0.0/32
    >>> g.find(25, 0)  # the lowest free /25 starts at 128
    (128, 0, 0)
    >>> g.free
    255
    """

    __slots__ = (
        "_bounds",
        "_classes",
        "_ends",
        "_flat_classes",
        "_maxes",
        "_mins",
        "_starts",
        "end",
        "free",
        "start",
        "width",
    )

    #: Gaps an index holds in its flat form; with more, it turns chunked. A class attribute,
    #: read at call time, like :attr:`load`: tests shrink both (subclasses inherit them).
    flat_gaps: ClassVar[int] = 32
    #: Gaps per chunk of the chunked form, as :attr:`SortedInts.load`.
    load: ClassVar[int] = 256
    #: The class an index of this class becomes past flat_gaps gaps (same slots, chunked methods).
    _chunked: ClassVar[type[GapIndex]]
    _bounds: tuple[int, ...]  # flat form: the gaps' bounds, interleaved
    _flat_classes: bytes  # flat form: one class per gap
    _starts: list[list[int]]  # chunked form (see _ChunkedGapIndex)
    _ends: list[list[int]]
    _classes: list[bytearray]
    _maxes: list[int]
    _mins: bytearray

    def __init__(self, start: int, end: int, width: int, prefixlen: int | None = None) -> None:
        """All of ``[start, end)`` free; ``prefixlen`` when the range is that aligned block."""
        self.start = start
        self.end = end  # one past the last address
        self.width = width
        if start < end:
            if prefixlen is None:
                prefixlen = largest_block_prefixlen(start, end, width)
            self._bounds = (start, end)
            self._flat_classes = _BYTE[prefixlen]
            #: Number of free addresses (sum of the gaps' sizes).
            self.free = end - start
        else:
            self._bounds = ()
            self._flat_classes = b""
            self.free = 0

    def __len__(self) -> int:
        return len(self._flat_classes)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Yield the gaps ``(start, end)`` in address order."""
        bounds = self._bounds
        return zip(bounds[0::2], bounds[1::2], strict=True)

    def bounds(self) -> tuple[int, ...]:
        """The gaps as interleaved bounds ``(start0, end0, start1, end1, ...)``; O(g).

        The flat form hands out its own tuple (immutable, so shared at no cost).
        """
        return self._bounds

    def largest_class(self) -> int | None:
        """Prefix length of the largest aligned free block, or None when nothing is free."""
        return min(self._flat_classes) if self._flat_classes else None

    # -- search -----------------------------------------------------------------------------

    def find(self, prefixlen: int, x: int) -> tuple[int, int, int] | None:
        """First aligned free block of ``prefixlen`` starting at or after address ``x``.

        Returns ``(start, k, i)``: the block's start and the position of the gap holding it,
        or None. Runtime complexity: O(log n) approximate.
        """
        bounds = self._bounds
        shift = self.width - prefixlen
        c = align_up(x, shift)
        j = bisect_right(bounds, c)  # odd: c lies in gap j // 2
        if j & 1 and c + (1 << shift) <= bounds[j]:
            return c, 0, j >> 1
        # The first later gap whose class admits the length; it holds a block at its aligned start.
        pattern = _AT_MOST[prefixlen] or _at_most(prefixlen)
        match = pattern.search(self._flat_classes, (j + 1) >> 1)
        if match is None:
            return None
        i = match.start()
        return align_up(bounds[2 * i], shift), 0, i

    def end_of(self, k: int, i: int) -> int:
        """End of the gap at position ``(k, i)``."""
        return self._bounds[2 * i + 1]

    def containing(self, start: int, end: int) -> tuple[int, int] | None:
        """Position of the gap that contains all of ``[start, end)``, or None."""
        bounds = self._bounds
        j = bisect_right(bounds, start)
        if j & 1 and bounds[j] >= end:
            return 0, j >> 1
        return None

    # -- mutation ---------------------------------------------------------------------------

    def take(self, start: int, end: int, k: int, i: int) -> None:
        """Remove ``[start, end)`` from the gap at ``(k, i)``, which must contain it.

        Runtime complexity: O(log n) approximate.
        """
        bounds, classes, width = self._bounds, self._flat_classes, self.width
        lo = 2 * i
        gap_start, gap_end = bounds[lo], bounds[lo + 1]
        self.free -= end - start
        if gap_start == start:
            if gap_end == end:
                self._bounds = bounds[:lo] + bounds[lo + 2 :]
                self._flat_classes = classes[:i] + classes[i + 1 :]
            else:
                self._bounds = (*bounds[:lo], end, *bounds[lo + 1 :])
                value = _BYTE[largest_block_prefixlen(end, gap_end, width)]
                self._flat_classes = classes[:i] + value + classes[i + 1 :]
        elif gap_end == end:
            self._bounds = (*bounds[: lo + 1], start, *bounds[lo + 2 :])
            value = _BYTE[largest_block_prefixlen(gap_start, start, width)]
            self._flat_classes = classes[:i] + value + classes[i + 1 :]
        elif len(classes) == 1:  # the only gap splits in two (as when a fresh pool is first cut)
            self._bounds = (gap_start, start, end, gap_end)
            self._flat_classes = bytes(
                (
                    largest_block_prefixlen(gap_start, start, width),
                    largest_block_prefixlen(end, gap_end, width),
                )
            )
        else:
            self._bounds = (*bounds[: lo + 1], start, end, *bounds[lo + 1 :])
            left = _BYTE[largest_block_prefixlen(gap_start, start, width)]
            right = _BYTE[largest_block_prefixlen(end, gap_end, width)]
            self._flat_classes = classes[:i] + left + right + classes[i + 1 :]
        if len(self._flat_classes) > self.flat_gaps:
            self._unflatten()

    def carve(self, start: int, end: int) -> None:
        """Remove ``[start, end)`` from the free space, wherever it overlaps gaps.

        Runtime complexity: O(log n + g) approximate, for g gaps overlapped.
        """
        start = max(start, self.start)
        end = min(end, self.end)
        if start >= end:
            return
        bounds, classes, width = self._bounds, self._flat_classes, self.width
        lo = bisect_right(bounds, start)  # odd: start lies in gap lo // 2
        hi = bisect_left(bounds, end)  # odd: end - 1 lies in gap hi // 2
        if lo == hi and lo & 1:  # inside one gap
            self.take(start, end, 0, lo >> 1)
            return
        first, last = lo >> 1, (hi + 1) >> 1  # the gaps overlapped: first <= i < last
        if first == last:
            return
        for i in range(first, last):
            self.free -= min(end, bounds[2 * i + 1]) - max(start, bounds[2 * i])
        middle: tuple[int, ...] = ()
        values = b""
        if lo & 1 and bounds[lo - 1] < start:  # the first gap keeps its part before start
            middle = (bounds[lo - 1], start)
            values = _BYTE[largest_block_prefixlen(bounds[lo - 1], start, width)]
        if hi & 1 and bounds[hi] > end:  # the last gap keeps its part after end
            middle += (end, bounds[hi])
            values += _BYTE[largest_block_prefixlen(end, bounds[hi], width)]
        # At most two parts are kept of the gaps overlapped, and two only when those are two
        # gaps (one gap keeping both parts went to take() above): never more gaps than before.
        self._bounds = bounds[: lo - (lo & 1)] + middle + bounds[hi + (hi & 1) :]
        self._flat_classes = classes[:first] + values + classes[last:]

    def fill(self, start: int, end: int) -> None:
        """Return ``[start, end)`` to the free space; it must not overlap a gap.

        Merges with the gaps that touch it. Runtime complexity: O(log n) approximate.
        """
        self.free += end - start
        bounds, classes, width = self._bounds, self._flat_classes, self.width
        j = bisect_right(bounds, start)  # even: start lies in no gap; gap j // 2 comes next
        i = j >> 1
        merge_left = j > 0 and bounds[j - 1] == start
        merge_right = j < len(bounds) and bounds[j] == end
        if merge_left and merge_right:
            self._bounds = bounds[: j - 1] + bounds[j + 1 :]
            value = _BYTE[largest_block_prefixlen(bounds[j - 2], bounds[j + 1], width)]
            self._flat_classes = classes[: i - 1] + value + classes[i + 1 :]
        elif merge_left:
            self._bounds = (*bounds[: j - 1], end, *bounds[j:])
            value = _BYTE[largest_block_prefixlen(bounds[j - 2], end, width)]
            self._flat_classes = classes[: i - 1] + value + classes[i:]
        elif merge_right:
            self._bounds = (*bounds[:j], start, *bounds[j + 1 :])
            value = _BYTE[largest_block_prefixlen(start, bounds[j + 1], width)]
            self._flat_classes = classes[:i] + value + classes[i + 1 :]
        else:
            self._bounds = (*bounds[:j], start, end, *bounds[j:])
            value = _BYTE[largest_block_prefixlen(start, end, width)]
            self._flat_classes = classes[:i] + value + classes[i:]
            if len(classes) >= self.flat_gaps:
                self._unflatten()

    def _unflatten(self) -> None:
        """Turn into the chunked form, for good."""
        bounds, classes = self._bounds, self._flat_classes
        self.__class__ = self._chunked
        starts, ends = bounds[0::2], bounds[1::2]
        load = self.load
        cuts = range(0, len(classes), load)  # chunks of load gaps
        self._starts = [list(starts[k : k + load]) for k in cuts]
        self._ends = [list(ends[k : k + load]) for k in cuts]
        self._classes = [bytearray(classes[k : k + load]) for k in cuts]
        self._maxes = [chunk[-1] for chunk in self._starts]
        self._mins = bytearray(min(chunk) for chunk in self._classes)
        self._bounds = ()
        self._flat_classes = b""

    def _check(self) -> None:
        """Verify every invariant; O(n)."""
        bounds, classes = self._bounds, self._flat_classes
        require(
            len(bounds) == 2 * len(classes) <= 2 * self.flat_gaps,
            "two bounds and one class per gap, at most flat_gaps gaps",
        )
        require(list(bounds) == sorted(set(bounds)), "bounds strictly increase")
        require(
            not bounds or (self.start <= bounds[0] and bounds[-1] <= self.end),
            "gaps inside the pool",
        )
        free = 0
        for (start, end), value in zip(self, classes, strict=True):
            require(
                value == largest_block_prefixlen(start, end, self.width),
                "a gap's class is its largest block",
            )
            free += end - start
        require(free == self.free, "free counts the gaps' addresses")


class _ChunkedGapIndex(GapIndex):
    """The chunked form of a :class:`GapIndex` with many gaps.

    Gaps in chunks of at most ``2 * load``: starts, ends and classes in parallel per chunk,
    each chunk's last start in ``_maxes`` and smallest class in ``_mins``. An index never
    shrinks back to the flat form.
    """

    __slots__ = ()

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self._starts)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Yield the gaps ``(start, end)`` in address order."""
        for starts, ends in zip(self._starts, self._ends, strict=True):
            yield from zip(starts, ends, strict=True)

    def bounds(self) -> tuple[int, ...]:
        """The gaps as interleaved bounds ``(start0, end0, start1, end1, ...)``; O(g)."""
        return tuple(bound for gap in self for bound in gap)

    def largest_class(self) -> int | None:
        """Prefix length of the largest aligned free block, or None when nothing is free."""
        return min(self._mins) if self._mins else None

    # -- search -----------------------------------------------------------------------------

    def _floor(self, x: int) -> tuple[int, int]:
        """Position ``(k, i)`` of the last gap starting at or before ``x``; ``i == -1`` if none.

        When ``i == -1``, the next gap is at ``(k, 0)``.
        """
        maxes = self._maxes
        k = bisect_left(maxes, x)
        if k == len(maxes):
            k -= 1
            return k, len(self._starts[k]) - 1
        i = bisect_right(self._starts[k], x) - 1
        if i < 0 and k:
            return k - 1, len(self._starts[k - 1]) - 1
        return k, i

    def find(self, prefixlen: int, x: int) -> tuple[int, int, int] | None:
        """First aligned free block of ``prefixlen`` starting at or after address ``x``.

        Returns ``(start, k, i)``: the block's start and the position of the gap holding it,
        or None. Runtime complexity: O(log n) approximate.
        """
        if not self._maxes:
            return None
        shift = self.width - prefixlen
        c = align_up(x, shift)
        k, i = self._floor(c)
        if i >= 0 and c + (1 << shift) <= self._ends[k][i]:
            return c, k, i
        # The first later gap whose class admits the length; it holds a block at its aligned start.
        pattern = _AT_MOST[prefixlen] or _at_most(prefixlen)
        match = pattern.search(self._classes[k], i + 1)
        if match is None:
            match = pattern.search(self._mins, k + 1)
            if match is None:
                return None
            k = match.start()
            match = pattern.search(self._classes[k])
            assert match is not None
        i = match.start()
        return align_up(self._starts[k][i], shift), k, i

    def end_of(self, k: int, i: int) -> int:
        """End of the gap at position ``(k, i)``."""
        return self._ends[k][i]

    def containing(self, start: int, end: int) -> tuple[int, int] | None:
        """Position of the gap that contains all of ``[start, end)``, or None."""
        if not self._maxes:
            return None
        k, i = self._floor(start)
        if i >= 0 and self._ends[k][i] >= end:
            return k, i
        return None

    # -- mutation ---------------------------------------------------------------------------

    def take(self, start: int, end: int, k: int, i: int) -> None:
        """Remove ``[start, end)`` from the gap at ``(k, i)``, which must contain it.

        Runtime complexity: O(log n) approximate.
        """
        gap_start = self._starts[k][i]
        gap_end = self._ends[k][i]
        self.free -= end - start
        if gap_start == start:
            if gap_end == end:
                self._delete(k, i)
            else:
                self._starts[k][i] = end
                if i == len(self._starts[k]) - 1:
                    self._maxes[k] = end
                self._set_class(k, i, largest_block_prefixlen(end, gap_end, self.width))
        elif gap_end == end:
            self._ends[k][i] = start
            self._set_class(k, i, largest_block_prefixlen(gap_start, start, self.width))
        else:
            self._ends[k][i] = start
            self._set_class(k, i, largest_block_prefixlen(gap_start, start, self.width))
            self._insert(k, i + 1, end, gap_end)

    def carve(self, start: int, end: int) -> None:
        """Remove ``[start, end)`` from the free space, wherever it overlaps gaps.

        Runtime complexity: O(log n + g) approximate, for g gaps overlapped.
        """
        start = max(start, self.start)
        end = min(end, self.end)
        while start < end and self._maxes:
            k, i = self._floor(start)
            if i < 0 or self._ends[k][i] <= start:
                # No gap covers ``start``: move to the next gap, if it begins before ``end``.
                i += 1
                if i == len(self._starts[k]):
                    k, i = k + 1, 0
                    if k == len(self._starts):
                        return
                if self._starts[k][i] >= end:
                    return
                start = self._starts[k][i]
            piece_end = min(end, self._ends[k][i])
            self.take(start, piece_end, k, i)
            start = piece_end

    def fill(self, start: int, end: int) -> None:
        """Return ``[start, end)`` to the free space; it must not overlap a gap.

        Merges with the gaps that touch it. Runtime complexity: O(log n) approximate.
        """
        self.free += end - start
        if not self._maxes:
            self._insert(0, 0, start, end)
            return
        k, i = self._floor(start)
        # Successor position, to merge on the right.
        nk, ni = (k, i + 1) if i + 1 < len(self._starts[k]) else (k + 1, 0)
        merge_right = nk < len(self._starts) and self._starts[nk][ni] == end
        if i >= 0 and self._ends[k][i] == start:
            merged_end = self._ends[nk][ni] if merge_right else end
            self._ends[k][i] = merged_end
            self._set_class(
                k, i, largest_block_prefixlen(self._starts[k][i], merged_end, self.width)
            )
            if merge_right:
                # Delete last: deleting may merge chunks and move the left gap.
                self._delete(nk, ni)
        elif merge_right:
            self._starts[nk][ni] = start
            if ni == len(self._starts[nk]) - 1:
                self._maxes[nk] = start
            end = self._ends[nk][ni]
            self._set_class(nk, ni, largest_block_prefixlen(start, end, self.width))
        else:
            self._insert(k, i + 1, start, end)

    def _set_class(self, k: int, i: int, value: int) -> None:
        classes = self._classes[k]
        old = classes[i]
        classes[i] = value
        mins = self._mins
        if value < mins[k]:
            mins[k] = value
        elif old == mins[k] and value > old:
            mins[k] = min(classes)

    def _insert(self, k: int, i: int, start: int, end: int) -> None:
        """Insert a gap at position ``i`` of chunk ``k`` (``i`` may be the chunk's length)."""
        value = largest_block_prefixlen(start, end, self.width)
        if not self._maxes:
            self._starts.append([start])
            self._ends.append([end])
            self._classes.append(bytearray((value,)))
            self._maxes.append(start)
            self._mins.append(value)
            return
        if k == len(self._starts):
            k -= 1
            i = len(self._starts[k])
        starts = self._starts[k]
        starts.insert(i, start)
        self._ends[k].insert(i, end)
        self._classes[k].insert(i, value)
        if i == len(starts) - 1:
            self._maxes[k] = start
        self._mins[k] = min(self._mins[k], value)
        if len(starts) > 2 * self.load:
            self._split(k)

    def _split(self, k: int) -> None:
        half = len(self._starts[k]) // 2
        starts, ends, classes = self._starts[k], self._ends[k], self._classes[k]
        self._starts.insert(k + 1, starts[half:])
        self._ends.insert(k + 1, ends[half:])
        self._classes.insert(k + 1, classes[half:])
        del starts[half:], ends[half:], classes[half:]
        self._maxes.insert(k, starts[-1])
        self._mins[k : k + 1] = bytes((min(self._classes[k]), min(self._classes[k + 1])))

    def _delete(self, k: int, i: int) -> None:
        starts = self._starts[k]
        del starts[i]
        del self._ends[k][i]
        classes = self._classes[k]
        old = classes[i]
        del classes[i]
        if not starts:
            del self._starts[k]
            del self._ends[k]
            del self._classes[k]
            del self._maxes[k]
            del self._mins[k]
            return
        if i == len(starts):
            self._maxes[k] = starts[-1]
        if old == self._mins[k]:
            self._mins[k] = min(classes)
        if len(starts) < self.load // 4 and len(self._starts) > 1:
            self._merge(k)

    def _merge(self, k: int) -> None:
        if k == len(self._starts) - 1:
            k -= 1
        self._starts[k].extend(self._starts.pop(k + 1))
        self._ends[k].extend(self._ends.pop(k + 1))
        self._classes[k].extend(self._classes.pop(k + 1))
        del self._maxes[k]
        self._maxes[k] = self._starts[k][-1]
        del self._mins[k + 1]
        self._mins[k] = min(self._classes[k])
        if len(self._starts[k]) > 2 * self.load:
            self._split(k)

    def _check(self) -> None:
        """Verify every invariant; O(n)."""
        require(not self._bounds, "no flat part left")
        require(not self._flat_classes, "no flat part left")
        n = len(self._starts)
        require(
            len(self._ends) == len(self._classes) == len(self._maxes) == len(self._mins) == n,
            "ends, classes, maximum and minimum class per chunk",
        )
        previous_end = None
        free = 0
        for k in range(n):
            starts, ends, classes = self._starts[k], self._ends[k], self._classes[k]
            require(len(starts) > 0, "no empty chunk")
            require(
                len(starts) == len(ends) == len(classes) <= 2 * self.load,
                "one end and class per start, chunks split above twice the load",
            )
            require(self._maxes[k] == starts[-1], "a chunk's maximum is its last start")
            require(self._mins[k] == min(classes), "a chunk's minimum class is its smallest")
            for start, end, value in zip(starts, ends, classes, strict=True):
                require(self.start <= start < end <= self.end, "gap inside the pool, not empty")
                require(previous_end is None or previous_end < start, "gaps sorted, never touch")
                require(
                    value == largest_block_prefixlen(start, end, self.width),
                    "a gap's class is its largest block",
                )
                previous_end = end
                free += end - start
        require(free == self.free, "free counts the gaps' addresses")


GapIndex._chunked = _ChunkedGapIndex
