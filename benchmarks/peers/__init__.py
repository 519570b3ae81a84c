"""The peers: what a user would write instead of ipv6alloc, behind one minimal interface.

Every contender serves one pool and speaks in plain integers, so the scenarios drive them all
with the same data:

- ``allocate(prefixlen) -> (value, prefixlen)``: carve a free block of that length;
- ``release(value, prefixlen)``: give an allocated block back;
- ``occupy(value, prefixlen)``: claim a block that is already in use elsewhere (a restart, or a
  reserved address: an address is its /128 or /32);
- ``settle()``: finish work deferred by the calls before (the scenarios call it inside the
  timed region, so deferred work is paid for where it is incurred).

A contender raises :class:`PoolFullError` when no block of the length is left and
:class:`CannotStartError` when it cannot serve the pool at all (the bitmap peer beyond 16 bits
of slots). Each is built by a :class:`PeerFactory` from the pool, the one prefix length the
pool will serve (None when the sizes are mixed) and the number of operations expected.

The contenders (see each module's docstring for how it works and where it stops):

================= =============================================================================
``ipv6alloc``     :class:`ipv6alloc.PrefixAllocator`, lowest placement (``ipv6alloc_adapter``)
``netaddr``       a ``netaddr.IPSet`` of the free space kept up to date incrementally, first
                  fit (``netaddr_ipset``)
``netaddr-naive`` ``free = IPSet([pool]) - allocated`` recomputed on every allocation, first fit:
                  the benchmark guide's definition of the netaddr peer (``netaddr_naive``)
``ipaddress``     a walk of ``pool.subnets(new_prefix=n)`` skipping a ``set``
                  (``stdlib_ipaddress``)
``bitmap``        Kubernetes' cidrset: one bit per slot, next fit (``bitmap_cidrset``)
``floor``         one ``bisect`` and one ``dict`` store per operation, no logic (``floor``)
================= =============================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CONTENDERS",
    "LABELS",
    "CannotStartError",
    "Peer",
    "PeerFactory",
    "Pool",
    "PoolFullError",
    "load",
]

#: Address width in bits, by IP version.
WIDTH = {4: 32, 6: 128}


@dataclass(frozen=True, slots=True)
class Pool:
    """A pool as plain integers: IP version, first address and prefix length."""

    version: int
    value: int
    prefixlen: int

    @property
    def width(self) -> int:
        """32 for IPv4, 128 for IPv6."""
        return WIDTH[self.version]

    @property
    def end(self) -> int:
        """One past the last address of the pool."""
        return self.value + (1 << (WIDTH[self.version] - self.prefixlen))

    def __str__(self) -> str:
        import ipaddress

        if self.version == 4:
            return str(ipaddress.IPv4Network((self.value, self.prefixlen)))
        return str(ipaddress.IPv6Network((self.value, self.prefixlen)))


class PoolFullError(Exception):
    """No free block of the requested length is left in the pool."""


class CannotStartError(ValueError):
    """The contender cannot serve this pool or these prefix lengths at all."""


class Peer(Protocol):
    """The minimal allocator interface every contender implements (one pool each)."""

    def allocate(self, prefixlen: int) -> tuple[int, int]:
        """Carve a free block of ``prefixlen``; return ``(value, prefixlen)``."""
        ...

    def release(self, value: int, prefixlen: int) -> None:
        """Give back a block returned by :meth:`allocate` or claimed by :meth:`occupy`."""
        ...

    def occupy(self, value: int, prefixlen: int) -> None:
        """Claim a block that is already in use (restart) or must be kept out (reservation)."""
        ...

    def settle(self) -> None:
        """Finish any work deferred by earlier calls; timed with them (most peers defer none)."""
        ...


class PeerFactory(Protocol):
    """Build a contender for ``pool``.

    ``prefixlen`` is the one length the pool will serve, or None when lengths are mixed;
    ``size_hint`` is the number of blocks expected (only the floor uses it).
    """

    def __call__(self, pool: Pool, prefixlen: int | None, size_hint: int) -> Peer: ...


#: Contender names, in the order tables and plots show them.
CONTENDERS = ("ipv6alloc", "netaddr", "netaddr-naive", "ipaddress", "bitmap", "floor")

#: How tables and plots name a contender, where its short name is not enough.
LABELS = {
    "netaddr": "netaddr (incremental free set)",
    "netaddr-naive": "netaddr (free = pool - allocated, per the guide)",
}


def load(name: str) -> PeerFactory:
    """The factory of a contender, imported on first use (so that a missing one fails alone).

    Raises:
        KeyError: ``name`` is not one of :data:`CONTENDERS`.
    """
    if name == "ipv6alloc":
        from .ipv6alloc_adapter import Ipv6allocPeer

        return Ipv6allocPeer
    if name == "netaddr":
        from .netaddr_ipset import NetaddrIPSetPeer

        return NetaddrIPSetPeer
    if name == "netaddr-naive":
        from .netaddr_naive import NetaddrNaivePeer

        return NetaddrNaivePeer
    if name == "ipaddress":
        from .stdlib_ipaddress import StdlibIpaddressPeer

        return StdlibIpaddressPeer
    if name == "bitmap":
        from .bitmap_cidrset import BitmapCidrSetPeer

        return BitmapCidrSetPeer
    if name == "floor":
        from .floor import FloorPeer

        return FloorPeer
    raise KeyError(f"unknown contender {name!r}; expected one of {', '.join(CONTENDERS)}")
