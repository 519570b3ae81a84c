"""Peer: the zero-dependency habit, a walk of ``pool.subnets(new_prefix=n)`` skipping taken ones.

Written fairly, the way a competent user would with only ``ipaddress``: taken blocks are
``ipaddress`` network objects in a ``set``; allocation walks the candidates of
``pool.subnets(new_prefix=n)`` in order and takes the first one that no taken block overlaps.

Choices a competent user makes, and this peer makes:

- *A cursor, not a restart.* Restarting the walk from the pool's first subnet on every call
  makes sequential allocation quadratic. The walk resumes at a cursor: the address just past the
  last block taken (one cursor for all lengths, aligned up to the length asked, so that blocks of
  mixed sizes follow each other). The cursor is an int rather than a live ``subnets()``
  generator so that it can jump past a large taken block and survive a change of length; the
  candidates are the same objects in the same order.
- *Release is O(1) and next fit.* Releasing removes the block from the set and leaves the
  cursor alone; freed space is found again when the walk reaches the end of the pool and wraps
  around to its start, once, exactly like Kubernetes' cidrset.
- *Mixed sizes.* With one length, "is it taken?" is one ``in`` test. With several, a candidate
  can also sit inside a larger taken block or contain smaller ones. The peer checks the
  candidate's supernet at every length in use (``c.supernet(new_prefix=k) in taken``) and keeps
  a count of the supernets of every taken block at every length asked for (``c in inner``).

Limits: with k distinct lengths in use an operation builds O(k) network objects, so mixed sizes
cost far more than one size; after the cursor wraps, finding a hole means walking every
candidate up to it, O(slots), and declaring the pool full walks all of them. It keeps no owners.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from . import PoolFullError

if TYPE_CHECKING:
    from . import Pool

__all__ = ["StdlibIpaddressPeer"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class StdlibIpaddressPeer:
    """Next fit over ``pool.subnets(new_prefix=n)``, skipping a ``set`` of taken networks."""

    __slots__ = (
        "_asked",
        "_cursor",
        "_end",
        "_inner",
        "_lengths",
        "_net",
        "_pool",
        "_taken",
        "_width",
    )

    def __init__(self, pool: Pool, prefixlen: int | None = None, size_hint: int = 0) -> None:
        del prefixlen, size_hint
        self._net: type[Network] = (
            ipaddress.IPv4Network if pool.version == 4 else ipaddress.IPv6Network
        )
        self._pool = self._net((pool.value, pool.prefixlen))
        self._width = pool.width
        self._end = pool.end
        self._cursor = pool.value
        #: Every allocated or occupied block.
        self._taken: set[Network] = set()
        #: How many taken blocks there are of each length (the lengths in use, for supernets).
        self._lengths: dict[int, int] = {}
        #: Lengths asked for so far; ``_inner`` counts taken blocks' supernets at these lengths.
        self._asked: list[int] = []
        self._inner: dict[Network, int] = {}

    # -- bookkeeping ------------------------------------------------------------------------

    def _ask(self, prefixlen: int) -> None:
        """Start counting supernets at a new length (once per length: O(blocks))."""
        self._asked.append(prefixlen)
        inner = self._inner
        for block in self._taken:
            if block.prefixlen > prefixlen:
                parent = block.supernet(new_prefix=prefixlen)
                inner[parent] = inner.get(parent, 0) + 1

    def _covering(self, candidate: Network) -> Network | None:
        """The taken block that contains ``candidate`` (or is it), if any."""
        taken = self._taken
        if candidate in taken:
            return candidate
        prefixlen = candidate.prefixlen
        for length in self._lengths:
            if length < prefixlen:
                parent = candidate.supernet(new_prefix=length)
                if parent in taken:
                    return parent
        return None

    def _take(self, block: Network) -> None:
        self._taken.add(block)
        prefixlen = block.prefixlen
        self._lengths[prefixlen] = self._lengths.get(prefixlen, 0) + 1
        inner = self._inner
        for length in self._asked:
            if length < prefixlen:
                parent = block.supernet(new_prefix=length)
                inner[parent] = inner.get(parent, 0) + 1

    # -- the interface ----------------------------------------------------------------------

    def _walk(self, start: int, stop: int, prefixlen: int) -> Network | None:
        """The first free candidate of ``prefixlen`` starting in ``[start, stop)``."""
        shift = self._width - prefixlen
        size = 1 << shift
        value = -((-start) >> shift) << shift
        end = self._end
        net = self._net
        inner = self._inner
        while value < stop and value + size <= end:
            candidate = net((value, prefixlen))
            covering = self._covering(candidate)
            if covering is not None:  # jump past the taken block
                value = -((-int(covering.broadcast_address) - 1) >> shift) << shift
            elif candidate in inner:  # it contains taken blocks: the next candidate
                value += size
            else:
                return candidate
        return None

    def allocate(self, prefixlen: int) -> tuple[int, int]:
        if prefixlen not in self._asked:
            self._ask(prefixlen)
        cursor = self._cursor
        found = self._walk(cursor, self._end, prefixlen)
        if found is None:  # wrap around once
            found = self._walk(int(self._pool.network_address), cursor, prefixlen)
            if found is None:
                raise PoolFullError(f"pool {self._pool} has no free /{prefixlen} left")
        self._take(found)
        value = int(found.network_address)
        self._cursor = value + (1 << (self._width - prefixlen))
        return value, prefixlen

    def release(self, value: int, prefixlen: int) -> None:
        block = self._net((value, prefixlen))
        self._taken.remove(block)  # KeyError: not allocated
        count = self._lengths[prefixlen] - 1
        if count:
            self._lengths[prefixlen] = count
        else:
            del self._lengths[prefixlen]
        inner = self._inner
        for length in self._asked:
            if length < prefixlen:
                parent = block.supernet(new_prefix=length)
                count = inner[parent] - 1
                if count:
                    inner[parent] = count
                else:
                    del inner[parent]

    def occupy(self, value: int, prefixlen: int) -> None:
        block = self._net((value, prefixlen))
        if not block.subnet_of(self._pool):  # type: ignore[arg-type]
            raise ValueError(f"{block} is not in pool {self._pool}")
        if prefixlen not in self._asked:
            self._ask(prefixlen)
        if self._covering(block) is not None or block in self._inner:
            raise ValueError(f"{block} overlaps a taken block")
        self._take(block)

    def settle(self) -> None:
        """Nothing is deferred."""
