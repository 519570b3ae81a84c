"""Peer: ``free = IPSet(pool) - IPSet(allocated)``, first fit: the guide's definition of netaddr.

The netaddr peer as ``docs/performance.md``'s source defines it, written the way such code is
usually written: what has been handed out is one ``IPSet``, ``allocated`` (each allocated or
occupied block is added to it, each released one removed from it), and the free space is
computed from it on every allocation, ``free = IPSet([pool]) - allocated``. To allocate a /L,
take the first CIDR of ``free.iter_cidrs()`` (lowest first) whose prefix length is at most L
and return its first /L, which is then added to ``allocated``. The pool's ``IPSet`` is built
once (``IPSet.__sub__`` returns a new set and leaves both operands alone), which only spares
the peer work. Occupying checks the block is in the pool and not already taken
(``block in allocated``: an equal or larger block holds it) and adds it; releasing removes it.

Cost, all ``netaddr``'s own: the difference sorts every CIDR of ``allocated`` and turns every
gap between them into CIDRs (up to about one per bit of the pool's host part per gap), and
``IPSet.add``/``IPSet.remove`` scan every CIDR of the set, so each operation costs at least
O(a) for a CIDRs in ``allocated``, and an allocation O(a log a) plus the size of the free set.
``IPSet`` merges adjacent buddies, so while blocks are carved in order ``allocated`` stays a
handful of CIDRs and the cost stays flat; once blocks are scattered (a restore) or released
(churn), a grows with the number of blocks, and so does the time per operation: O(n) at least,
O(n log n) per allocation. The occupy check sees a block that is taken or inside a taken one,
not one that contains smaller taken blocks (the complete check,
``allocated.isdisjoint(IPSet([block]))``, sorts the whole set and costs several times more).
Releasing a block that is not allocated changes nothing; it keeps no owners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netaddr import IPNetwork, IPSet

from . import PoolFullError

if TYPE_CHECKING:
    from . import Pool

__all__ = ["NetaddrNaivePeer"]


class NetaddrNaivePeer:
    """First fit over ``IPSet([pool]) - allocated``, recomputed on every allocation."""

    __slots__ = ("_allocated", "_pool", "_pool_set", "_version")

    def __init__(self, pool: Pool, prefixlen: int | None = None, size_hint: int = 0) -> None:
        del prefixlen, size_hint  # any length, any size
        self._version = pool.version
        self._pool = IPNetwork((pool.value, pool.prefixlen), version=pool.version)
        self._pool_set = IPSet([self._pool])
        self._allocated = IPSet()

    def allocate(self, prefixlen: int) -> tuple[int, int]:
        free = self._pool_set - self._allocated
        for cidr in free.iter_cidrs():
            if cidr.prefixlen <= prefixlen:
                first: int = cidr.first
                self._allocated.add(IPNetwork((first, prefixlen), version=self._version))
                return first, prefixlen
        raise PoolFullError(f"pool {self._pool} has no free /{prefixlen} left")

    def release(self, value: int, prefixlen: int) -> None:
        block = IPNetwork((value, prefixlen), version=self._version)
        if block not in self._pool:
            raise ValueError(f"{block} is not in pool {self._pool}")
        self._allocated.remove(block)

    def occupy(self, value: int, prefixlen: int) -> None:
        block = IPNetwork((value, prefixlen), version=self._version)
        if block not in self._pool:
            raise ValueError(f"{block} is not in pool {self._pool}")
        if block in self._allocated:
            raise ValueError(f"{block} is already taken in pool {self._pool}")
        self._allocated.add(block)

    def settle(self) -> None:
        """Nothing is deferred."""
