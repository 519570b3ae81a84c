"""Peer: Kubernetes' ``cidrset``, one bit per slot in a Python int, next fit.

The anchor algorithm, written fairly after ``pkg/controller/nodeipam/ipam/cidrset/cidr_set.go``
in kubernetes/kubernetes: a pool serves one prefix length (the node mask); slot ``i`` is the
i-th block of that length; a bit per slot says whether it is used. Allocation scans forward
from a cursor for the first clear bit, wrapping once, then moves the cursor just past the slot
taken (next fit). Occupy sets the bits of every slot the block overlaps (an address marks its
whole slot) and does not move the cursor; release clears them and does not move it either.

Limits, Kubernetes' own: one prefix length per pool, and at most 16 bits of slots (65,536
blocks): like ``NewCIDRSet`` it refuses a larger pool ("the node CIDR size is too big") with
:class:`CannotStartError`, so it cannot carve /80s from a /48. The bitmap is an immutable Python
int, so setting or testing a bit costs O(slots / 30) machine words (Go's ``big.Int`` does it
in place); with at most 65,536 slots that is a memory copy of at most 8 KiB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import CannotStartError, PoolFullError

if TYPE_CHECKING:
    from . import Pool

__all__ = ["MAX_SLOT_BITS", "BitmapCidrSetPeer"]

#: Kubernetes' ``clusterSubnetMaxDiff``: at most 2**16 slots per pool.
MAX_SLOT_BITS = 16


class BitmapCidrSetPeer:
    """Kubernetes' cidrset: a bitmap of fixed-size slots and a next-fit cursor."""

    __slots__ = ("_allocated", "_cursor", "_pool", "_prefixlen", "_shift", "_slots", "_used")

    def __init__(self, pool: Pool, prefixlen: int | None, size_hint: int = 0) -> None:
        del size_hint
        if prefixlen is None:
            raise CannotStartError("a cidrset serves one prefix length per pool, not mixed sizes")
        if prefixlen < pool.prefixlen:
            raise CannotStartError(f"/{prefixlen} is larger than pool {pool}")
        if prefixlen - pool.prefixlen > MAX_SLOT_BITS:
            raise CannotStartError(
                f"the node CIDR size is too big: /{prefixlen} from {pool} needs "
                f"{prefixlen - pool.prefixlen} bits of slots, at most {MAX_SLOT_BITS}"
            )
        self._pool = pool
        self._prefixlen = prefixlen
        self._shift = pool.width - prefixlen
        self._slots = 1 << (prefixlen - pool.prefixlen)
        self._used = 0
        self._allocated = 0
        self._cursor = 0

    def allocate(self, prefixlen: int) -> tuple[int, int]:
        if prefixlen != self._prefixlen:
            raise CannotStartError(f"this cidrset serves /{self._prefixlen}, not /{prefixlen}")
        slots = self._slots
        if self._allocated == slots:
            raise PoolFullError(f"pool {self._pool} has no free /{prefixlen} left")
        used = self._used
        candidate = self._cursor
        for _ in range(slots):
            if not (used >> candidate) & 1:
                break
            candidate = (candidate + 1) % slots
        self._cursor = (candidate + 1) % slots
        self._used = used | (1 << candidate)
        self._allocated += 1
        return self._pool.value + (candidate << self._shift), prefixlen

    def _indices(self, value: int, prefixlen: int) -> range:
        """The slots the block overlaps (Kubernetes' ``getBeginningAndEndIndices``)."""
        pool = self._pool
        last = value + (1 << (pool.width - prefixlen)) - 1
        if not (pool.prefixlen <= prefixlen and pool.value <= value and last < pool.end):
            raise ValueError(f"block {value:#x}/{prefixlen} is not in pool {pool}")
        return range((value - pool.value) >> self._shift, ((last - pool.value) >> self._shift) + 1)

    def release(self, value: int, prefixlen: int) -> None:
        for i in self._indices(value, prefixlen):
            if (self._used >> i) & 1:
                self._used &= ~(1 << i)
                self._allocated -= 1

    def occupy(self, value: int, prefixlen: int) -> None:
        for i in self._indices(value, prefixlen):
            if not (self._used >> i) & 1:
                self._used |= 1 << i
                self._allocated += 1

    def settle(self) -> None:
        """Nothing is deferred."""
