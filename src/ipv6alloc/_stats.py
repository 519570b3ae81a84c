"""Frozen value types that report what an allocator holds: allocations and statistics.

They hold plain values only (ints, tuples, dicts, prefixes), so ``pickle``, ``copy`` and
``dataclasses.asdict`` handle them, and reports built from them never reach back into a live
allocator.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._bits import WIDTH
from ._errors import InvalidPrefixError, quote

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator

    from ._prefix import Prefix

__all__ = ["Allocation", "AllocatorStatistics", "PoolStatistics"]


@dataclass(frozen=True, slots=True)
class Allocation:
    """One allocated prefix and its owner (any hashable; None when not given)."""

    prefix: Prefix
    owner: Hashable


@dataclass(frozen=True, slots=True)
class PoolStatistics:
    """A frozen snapshot of one pool's usage.

    Attributes:
        pool: The pool.
        size: Number of addresses in the pool.
        allocated_addresses: Addresses inside the pool's own allocations.
        allocated_prefixes: Number of the pool's own allocations.
        unavailable_addresses: Addresses reserved or belonging to pools nested inside it.
        free_addresses: Addresses neither allocated nor unavailable.
        largest_free_prefixlen: Prefix length of the largest aligned free block (None if full).
        by_prefixlen: Number of the pool's allocations by prefix length, shortest first (a
            plain dict, built afresh for each snapshot).
        free_bounds: The free ranges as interleaved bounds ``(start0, end0, start1, end1,
            ...)``, ints in address order, each end exclusive; :meth:`free_prefixes` and
            :meth:`free_ranges` read them.
        role: What the pool is for, as the :class:`~ipv6alloc.NodeAllocator` sees it:
            ``"cluster"`` (a cluster CIDR), ``"provider"`` (a node's provider subnet) or
            ``"outside"`` (a restored prefix that lay outside every pool, held in a pool of its
            own); None in a bare :class:`~ipv6alloc.PrefixAllocator`'s statistics.
    """

    pool: Prefix
    size: int
    allocated_addresses: int
    allocated_prefixes: int
    unavailable_addresses: int
    free_addresses: int
    largest_free_prefixlen: int | None
    by_prefixlen: dict[int, int]
    free_bounds: tuple[int, ...] = ()
    role: str | None = None

    @property
    def utilization(self) -> float:
        """Allocated share of the addresses that were available to allocate (0.0 to 1.0)."""
        usable = self.size - self.unavailable_addresses
        return self.allocated_addresses / usable if usable else 1.0

    def free_ranges(self) -> Iterator[tuple[int, int]]:
        """The free ranges as ``(start, end)`` ints, end exclusive, lowest first."""
        bounds = self.free_bounds
        return zip(bounds[::2], bounds[1::2], strict=True)

    def free_prefixes(self, prefixlen: int) -> int:
        """Exactly how many more aligned ``/prefixlen`` blocks are free in the pool.

        Counts the aligned blocks that lie wholly in free space (clear of allocations,
        reservations and nested pools), never free addresses divided by the block size.
        Runtime complexity: O(g) for g free ranges.

        >>> from ipv6alloc import PrefixAllocator
        >>> a = PrefixAllocator(["10.0.0.0/24"], reserved=["10.0.0.127", "10.0.0.128"])
        >>> s = a.statistics().pools[0]
        >>> s.free_prefixes(25), s.free_prefixes(26), s.free_addresses >> 7
        (0, 2, 1)
        """
        width = WIDTH[self.pool.version]
        if type(prefixlen) is not int:
            raise TypeError(
                f"prefix length must be an integer, not {quote(prefixlen, use_repr=True)}"
            )
        if not 0 <= prefixlen <= width:
            raise InvalidPrefixError(
                f"prefix length {quote(prefixlen)} is out of range 0-{width} "
                f"for IPv{self.pool.version}"
            )
        shift = width - prefixlen
        size = 1 << shift
        total = 0
        for start, end in self.free_ranges():
            first = (start + size - 1) >> shift  # the first aligned block starting in the range
            last = end >> shift  # one past the last aligned block ending in it
            if last > first:
                total += last - first
        return total


@dataclass(frozen=True, slots=True)
class AllocatorStatistics:
    """A frozen snapshot of a whole allocator: one :class:`PoolStatistics` per pool."""

    pools: tuple[PoolStatistics, ...]
    allocations: int
    reservations: int
