"""Peer: a ``netaddr.IPSet`` of the free space, first fit.

What most Python code does today, written fairly, the way a competent user would: the free
space is one ``IPSet`` kept up to date incrementally (never recomputed as
``IPSet(pool) - IPSet(allocated)``). To allocate a /L, take the first free CIDR, lowest first
(``iter_cidrs()``), whose prefix length is at most L, and carve the first /L of it with
``IPSet.remove``; releasing adds the block back with ``IPSet.add`` (which merges buddies);
occupying checks that the block is free (``block in free``) and removes it.

Limits, all ``netaddr``'s own: ``iter_cidrs()`` sorts every free CIDR on each call, and
``IPSet.add``/``IPSet.remove`` scan every free CIDR, so an operation costs O(f log f) for f free
CIDRs. While allocation is sequential the free space stays a few dozen CIDRs and this is fast;
once releases or scattered occupied blocks fragment it, f grows with the number of blocks and
the peer slows down with N. It does not detect a double release (adding free space again
changes nothing) and keeps no owners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netaddr import IPNetwork, IPSet

from . import PoolFullError

if TYPE_CHECKING:
    from . import Pool

__all__ = ["NetaddrIPSetPeer"]


class NetaddrIPSetPeer:
    """First fit over an incrementally maintained ``IPSet`` of free space."""

    __slots__ = ("_free", "_pool", "_version")

    def __init__(self, pool: Pool, prefixlen: int | None = None, size_hint: int = 0) -> None:
        del prefixlen, size_hint  # any length, any size
        self._version = pool.version
        self._pool = IPNetwork((pool.value, pool.prefixlen), version=pool.version)
        self._free = IPSet([self._pool])

    def allocate(self, prefixlen: int) -> tuple[int, int]:
        for cidr in self._free.iter_cidrs():
            if cidr.prefixlen <= prefixlen:
                first: int = cidr.first
                self._free.remove(IPNetwork((first, prefixlen), version=self._version))
                return first, prefixlen
        raise PoolFullError(f"pool {self._pool} has no free /{prefixlen} left")

    def release(self, value: int, prefixlen: int) -> None:
        block = IPNetwork((value, prefixlen), version=self._version)
        if block not in self._pool:
            raise ValueError(f"{block} is not in pool {self._pool}")
        self._free.add(block)

    def occupy(self, value: int, prefixlen: int) -> None:
        block = IPNetwork((value, prefixlen), version=self._version)
        if block not in self._free:
            raise ValueError(f"{block} is not free in pool {self._pool}")
        self._free.remove(block)

    def settle(self) -> None:
        """Nothing is deferred."""
