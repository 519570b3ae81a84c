"""Peer: the floor, the least any ordered allocator can do per operation in CPython.

Not an allocator: per operation it does one ``bisect.bisect_left`` in a sorted list of N plain
ints (N = the expected number of blocks, spread over the pool: the search an ordered index needs
to find the neighbours of a block) and one ``dict`` store or delete (recording the block), plus
the two integer operations that align a bump cursor so the blocks it returns are valid and do not
overlap each other. Written to be as cheap as possible, not as a competent user would use it.

Limits, on purpose: it never reuses released space (the cursor only moves forward), never checks
an occupied block against anything (a reserved address may end up inside an allocated block),
and keeps the sorted list fixed instead of inserting into it. Its time per operation is the
practical limit for an ordered allocator written in Python: the "within 10x" bar is measured
against it.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

from . import PoolFullError

if TYPE_CHECKING:
    from . import Pool

__all__ = ["FloorPeer"]


class FloorPeer:
    """One bisect and one dict store per operation; a bump cursor makes the blocks valid."""

    __slots__ = ("_blocks", "_cursor", "_end", "_keys", "_width")

    def __init__(self, pool: Pool, prefixlen: int | None = None, size_hint: int = 1) -> None:
        del prefixlen
        count = max(size_hint, 1)
        step = max((pool.end - pool.value) // count, 1)
        self._keys = list(range(pool.value, pool.value + count * step, step))
        self._blocks: dict[int, int] = {}
        self._cursor = pool.value
        self._end = pool.end
        self._width = pool.width

    def allocate(self, prefixlen: int) -> tuple[int, int]:
        shift = self._width - prefixlen
        value = -((-self._cursor) >> shift) << shift
        cursor = value + (1 << shift)
        if cursor > self._end:
            raise PoolFullError(f"no free /{prefixlen} left")
        self._cursor = cursor
        bisect_left(self._keys, value)
        self._blocks[value] = prefixlen
        return value, prefixlen

    def release(self, value: int, prefixlen: int) -> None:
        del prefixlen
        bisect_left(self._keys, value)
        del self._blocks[value]

    def occupy(self, value: int, prefixlen: int) -> None:
        bisect_left(self._keys, value)
        self._blocks[value] = prefixlen

    def settle(self) -> None:
        """Nothing is deferred."""
