"""The contender: :class:`ipv6alloc.PrefixAllocator` behind the peers' interface.

One allocator with one pool, lowest placement. The pool is passed to ``allocate`` as the
:class:`ipv6alloc.Prefix` object (the fastest form); blocks handed back as ints are rebuilt with
the public, validating ``Prefix(version, value, prefixlen)`` constructor, as a caller holding
ints would do (the other peers rebuild their own objects the same way).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ipv6alloc import Placement, PoolExhaustedError, Prefix, PrefixAllocator

from . import PoolFullError

if TYPE_CHECKING:
    from . import Pool

__all__ = ["Ipv6allocPeer"]


class Ipv6allocPeer:
    """``PrefixAllocator`` with one pool, speaking the peers' integer interface."""

    __slots__ = ("_allocator", "_pool", "_version")

    def __init__(
        self,
        pool: Pool,
        prefixlen: int | None = None,
        size_hint: int = 0,
        *,
        placement: Placement = "lowest",
    ) -> None:
        del prefixlen, size_hint
        self._version = pool.version
        self._pool = Prefix(pool.version, pool.value, pool.prefixlen)
        self._allocator = PrefixAllocator([self._pool], placement=placement)

    @property
    def allocator(self) -> PrefixAllocator:
        """The wrapped allocator (for checks after a run)."""
        return self._allocator

    def allocate(self, prefixlen: int) -> tuple[int, int]:
        try:
            prefix = self._allocator.allocate(prefixlen, pool=self._pool)
        except PoolExhaustedError as error:
            raise PoolFullError(str(error)) from error
        return prefix.value, prefix.prefixlen

    def release(self, value: int, prefixlen: int) -> None:
        self._allocator.release(Prefix(self._version, value, prefixlen))

    def occupy(self, value: int, prefixlen: int) -> None:
        self._allocator.occupy(Prefix(self._version, value, prefixlen))

    def settle(self) -> None:
        """Index the allocations of a pending run (any call that reads the state does it)."""
        len(self._allocator)
