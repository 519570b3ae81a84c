"""Frozen value types that report what an allocator holds: allocations and statistics."""

from __future__ import annotations

from dataclasses import dataclass

from ._bits import WIDTH

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Hashable, Mapping

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
        by_prefixlen: Number of the pool's allocations by prefix length.
    """

    pool: Prefix
    size: int
    allocated_addresses: int
    allocated_prefixes: int
    unavailable_addresses: int
    free_addresses: int
    largest_free_prefixlen: int | None
    by_prefixlen: Mapping[int, int]

    @property
    def utilization(self) -> float:
        """Allocated share of the addresses that were available to allocate (0.0 to 1.0)."""
        usable = self.size - self.unavailable_addresses
        return self.allocated_addresses / usable if usable else 1.0

    def free_prefixes(self, prefixlen: int) -> int:
        """Upper bound of further /prefixlen blocks: free addresses over the block size."""
        width = WIDTH[self.pool.version]
        return self.free_addresses >> (width - prefixlen)


@dataclass(frozen=True, slots=True)
class AllocatorStatistics:
    """A frozen snapshot of a whole allocator: one :class:`PoolStatistics` per pool."""

    pools: tuple[PoolStatistics, ...]
    allocations: int
    reservations: int
