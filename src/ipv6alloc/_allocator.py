"""The interval allocator: :class:`PrefixAllocator`.

How it works (see ``docs/design.md`` for the long form):

- Each IP family keeps its allocations as a sorted index of start addresses with their
  lengths (and a dict of owners, only for allocations that have one), and its
  reservations as a sorted index of maximal, disjoint reserved ranges.
- Each pool keeps a :class:`~ipv6alloc._index.GapIndex` of its *free* ranges: the pool minus
  its own allocations, the reservations and the pools nested inside it. Allocation searches the
  gaps for the first one able to hold an aligned block of the requested length.
- Pools are found by longest match: one dict per pool length present, probed longest first.

Every public method takes the allocator's lock, so one allocator can be shared by threads.
"""

from __future__ import annotations

import copy
import threading

from . import _reservations
from . import _snapshot as _snap
from ._bits import WIDTH, blocks_in_range
from ._errors import (
    ConfigurationError,
    InvalidPrefixError,
    NotAllocatedError,
    NotInPoolError,
    PoolExhaustedError,
    PrefixConflictError,
    UnknownPoolError,
    quote,
)
from ._invariants import check_allocator
from ._messages import (
    block_text,
    check_length,
    check_owner,
    conflict,
    owner_text,
)
from ._prefix import Prefix, PrefixLike, _Draft, prefix_items
from ._state import Family, Pool, Run
from ._stats import Allocation, AllocatorStatistics, PoolStatistics

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Mapping
    from typing import Any, Literal, TypeAlias

__all__ = [
    "Allocation",
    "AllocatorStatistics",
    "Placement",
    "PoolStatistics",
    "PrefixAllocator",
]

#: How :meth:`PrefixAllocator.allocate` chooses among free blocks.
Placement: TypeAlias = 'Literal["lowest", "next-fit"]'
_PLACEMENTS = ("lowest", "next-fit")
_trusted = Prefix._trusted
_new = object.__new__
#: Stands for a ``pool=`` argument that may not open a run (a mutable object, such as a
#: ``netaddr.IPNetwork``, could change between two calls and still be the same object).
_NO_KEY = object()


class PrefixAllocator:
    """Carve aligned prefixes out of pools of any size, both IP families, possibly nested.

    Args:
        pools: The pools, in the order :meth:`allocate` tries them when no ``pool=`` is given
            (a single prefix, such as ``"10.0.0.0/8"`` or an ``ipaddress`` network, is one pool).
        placement: ``"lowest"`` takes the lowest-addressed free block; ``"next-fit"`` follows
            Kubernetes' cidrset: a cursor per pool, search forward from it, wrap once.
        reserved: Prefixes or addresses that no allocation may ever overlap (or a single one).

    Raises:
        ConfigurationError: unknown placement, or the same pool given twice.
        InvalidPrefixError: a pool or reservation is not a valid prefix.
        TypeError: ``pools`` or ``reserved`` is neither a prefix nor iterable.

    >>> a = PrefixAllocator(["2001:db8::/48"])
    >>> a.allocate(64)
    Prefix('2001:db8::/64')
    >>> a.allocate(64, owner="node-b")
    Prefix('2001:db8:0:1::/64')
    >>> a.owner_of("2001:db8:0:1::42")
    'node-b'
    """

    def __init__(
        self,
        pools: Iterable[PrefixLike] = (),
        *,
        placement: Placement = "lowest",
        reserved: Iterable[PrefixLike] = (),
    ) -> None:
        if placement not in _PLACEMENTS:
            raise ConfigurationError(
                f"placement must be 'lowest' or 'next-fit', not {quote(placement)}"
            )
        self._placement: Placement = placement
        self._next_fit = placement == "next-fit"
        self._lock = threading.RLock()
        self._families = {4: Family(4), 6: Family(6)}
        self._order: dict[Pool, None] = {}  # the pools in the order added (a set that keeps it)
        self._run: Run | None = None  # allocations in a row, not yet indexed (see Run)
        for pool in prefix_items(pools, "pools"):
            self.add_pool(pool)
        for item in prefix_items(reserved, "reserved"):
            self.reserve(item)

    # -- configuration ----------------------------------------------------------------------

    @property
    def placement(self) -> Placement:
        """The placement rule, ``"lowest"`` or ``"next-fit"``."""
        return self._placement

    @property
    def pools(self) -> tuple[Prefix, ...]:
        """The pools, in the order they were added."""
        with self._lock:
            return tuple(pool.prefix for pool in self._order)

    def add_pool(self, prefix: PrefixLike) -> Prefix:
        """Add a pool. It may be nested inside another pool or contain other pools.

        A pool nested in another belongs to someone else: allocations in the outer pool never
        overlap it. Runtime complexity: O(log n) plus the allocations and pools it encloses.

        Returns:
            The pool as a :class:`Prefix`.

        Raises:
            ConfigurationError: the pool exists already.
            PrefixConflictError: an allocation of the enclosing pool overlaps the new pool.

        >>> a = PrefixAllocator(["2001:db8::/48"])
        >>> a.add_pool("2001:db8::/64")
        Prefix('2001:db8::/64')
        >>> a.allocate(63, pool="2001:db8::/48")  # the lowest /63 would overlap the nested pool
        Prefix('2001:db8:0:2::/63')
        """
        p = Prefix.coerce(prefix)
        with self._lock:
            fam = self._family(p.version)
            start, length = p.value, p.prefixlen
            end = start + (1 << (fam.width - length))
            same_length = fam.pools.get(length)
            if same_length is not None and start in same_length:
                raise ConfigurationError(f"pool {quote(p)} is given twice")
            parent = fam.innermost(start, length)
            children = fam.children_in(parent, start, end, length)
            # The last allocation starting before the end: none, one inside (then every one
            # inside must belong to a pool nested in the new one), or one that holds it all.
            holder = fam.allocation_overlapping(start, end)
            if holder is not None and holder >= start:
                for lo, hi in _reservations.between(children, start, end):
                    a = fam.allocation_overlapping(lo, hi)
                    if a is not None:
                        raise PrefixConflictError(
                            f"pool {quote(p)} overlaps allocation "
                            f"{quote(block_text(fam, a))}{owner_text(fam, a)}"
                        )
            elif holder is not None:
                raise PrefixConflictError(
                    f"pool {quote(p)} lies inside allocation "
                    f"{quote(block_text(fam, holder))}{owner_text(fam, holder)}"
                )
            pool = Pool(p, end, fam.width)
            pool.parent = parent
            for child in children:
                child.parent = pool
                pool.carve(child.start, child.end)
                if parent is not None:
                    parent.remove_child(child)
                pool.add_child(child)
            if fam.reservation_overlapping(start, end) is not None:
                for lo, hi in fam.reserved_ranges(start, end):
                    pool.carve(lo, hi)
            if parent is not None:
                parent.add_child(pool)
                parent.carve(start, end)
            if same_length is None:
                fam.pools[length] = same_length = {}
                fam.pool_lens.append(length)
                fam.pool_lens.sort(reverse=True)
            same_length[start] = pool
            fam.pool_keys.add(start << 8 | length)
            fam.recent = pool
            self._order[pool] = None
            return p

    def remove_pool(self, prefix: PrefixLike) -> None:
        """Remove an empty pool; its space returns to the enclosing pool, if any.

        Runtime complexity: O(log n) plus the reservations and pools it encloses directly.

        Raises:
            UnknownPoolError: no such pool.
            PrefixConflictError: the pool still holds allocations.
        """
        p = Prefix.coerce(prefix)
        with self._lock:
            fam = self._family(p.version)
            pool = self._pool(p)
            if pool.allocated_prefixes:
                raise PrefixConflictError(
                    f"pool {quote(p)} still holds {pool.allocated_prefixes} allocation(s); "
                    "release them first"
                )
            parent = pool.parent
            for child in pool.children or ():
                child.parent = parent
                if parent is not None:
                    parent.add_child(child)
            del fam.pools[p.prefixlen][p.value]
            if not fam.pools[p.prefixlen]:
                del fam.pools[p.prefixlen]
                fam.pool_lens.remove(p.prefixlen)
            fam.pool_keys.remove(p.value << 8 | p.prefixlen)
            if fam.recent is pool:
                fam.recent = None
            del self._order[pool]
            if parent is not None:
                parent.remove_child(pool)
                _reservations.refill(fam, parent, pool.start, pool.end)

    # -- allocation -------------------------------------------------------------------------

    def allocate(
        self,
        prefixlen: int,
        *,
        pool: PrefixLike | None = None,
        owner: Hashable = None,
        version: int | None = None,
    ) -> Prefix:
        """Allocate a free aligned block of ``prefixlen`` and return it.

        The block never overlaps another allocation, a reservation, or a pool nested inside
        the pool it is carved from. Without ``pool=``, the pools are tried in the order given
        (only those of ``version``, when given). Runtime complexity: O(log n) approximate,
        n being the allocations plus reservations (times the pools tried without ``pool=``).

        Args:
            prefixlen: Length of the prefix to allocate.
            pool: The pool to carve from (must be one of the allocator's pools).
            owner: Recorded with the allocation; any hashable (JSON scalars for snapshots).
            version: Without ``pool=``, only try pools of this IP version.

        Returns:
            The allocated prefix.

        Raises:
            PoolExhaustedError: no free block of that length is left (in that pool).
            UnknownPoolError: ``pool`` is not one of the allocator's pools.
            InvalidPrefixError: ``prefixlen`` does not fit the pool, or ``version`` is an int
                other than 4 and 6.
            TypeError: ``owner`` is not hashable, or ``version`` is not an int (nor None).

        >>> a = PrefixAllocator(["10.0.0.0/23"], placement="next-fit")
        >>> [str(a.allocate(24)) for _ in range(2)]
        ['10.0.0.0/24', '10.0.1.0/24']
        >>> a.allocate(24)
        Traceback (most recent call last):
        ...
        ipv6alloc.PoolExhaustedError: pool '10.0.0.0/23' has no free /24 left
        """
        # The hot path: the block right after the previous one, while its gap lasts (see Run).
        # ``is`` compares the lengths and versions with the run's own objects (small ints are
        # shared), so a bool or a float never passes for the int; ``pool=`` text or a Prefix
        # equal to the run's takes the path too, not only the very same object.
        # Two speed tricks, the only ones left, measured on 65,536 /80s of a /64 (S2's work):
        # the lock taken by hand (a ``with`` statement costs 18% more per allocation: 632
        # against 535 ns) and Prefix._trusted inlined below (calling it costs 10% more).
        lock = self._lock
        lock.acquire()
        try:
            run = self._run
            if (
                run is not None
                and run.prefixlen is prefixlen
                and (run.pool_arg is pool or run.pool_arg == pool)
                and run.version_arg is version
            ):
                start = run.next
                end = start + run.size
                if end <= run.limit:
                    if owner is not None:  # first: an unhashable owner must change nothing
                        check_owner(owner)
                        run.owners[start] = owner
                    run.next = end
                    run.starts.append(start)
                    draft = _new(_Draft)  # Prefix._trusted, inlined (see above)
                    draft.version = run.version
                    draft.value = start
                    draft.prefixlen = prefixlen
                    draft.__class__ = Prefix  # type: ignore[assignment]
                    return draft  # type: ignore[return-value]
            return self._allocate(prefixlen, pool, owner, version)
        finally:
            lock.release()

    def _allocate(
        self, prefixlen: int, pool: PrefixLike | None, owner: Hashable, version: int | None
    ) -> Prefix:
        """:meth:`allocate` without a run to extend; the caller holds the lock."""
        given: object = prefixlen  # checked at run time: callers may pass untyped values
        if type(given) is not int or not 0 <= prefixlen <= 128:
            raise InvalidPrefixError(
                f"prefix length {quote(given, use_repr=True)} must be an integer from 0 to 128"
            )
        wanted: object = version
        if wanted is not None and (type(wanted) is not int or wanted not in WIDTH):
            if type(wanted) is not int:
                raise TypeError(
                    f"version must be 4, 6 or None, not {type(wanted).__name__} {quote(wanted)}"
                )
            raise InvalidPrefixError(f"IP version must be 4 or 6, not {quote(wanted)}")
        if owner is not None:
            check_owner(owner)
        # Only immutable ``pool=`` values may open a run: they are matched by identity or equality.
        key = pool if pool is None or type(pool) in (str, Prefix) else _NO_KEY
        if pool is not None:
            target = self._pool(pool if type(pool) is Prefix else Prefix.coerce(pool))
            if version is not None and version != target.version:
                raise UnknownPoolError(f"pool {quote(target.prefix)} is not an IPv{version} pool")
            if not target.prefixlen <= prefixlen <= target.width:
                check_length(target, prefixlen)
            found = self._allocate_in(target, prefixlen, owner, key, version)
            if found is None:
                raise PoolExhaustedError(
                    f"pool {quote(target.prefix)} has no free /{prefixlen} left"
                )
            return found
        self._settled()
        tried: list[Pool] = []
        for target in self._order:
            if (version is not None and target.version != version) or not (
                target.prefixlen <= prefixlen <= target.width
            ):
                continue
            tried.append(target)
            found = self._allocate_in(target, prefixlen, owner, key, version)
            if found is not None:
                return found
        which = f"IPv{version} pool" if version is not None else "pool"
        if not tried:
            raise PoolExhaustedError(f"no {which} can hold a /{prefixlen}")
        if len(tried) == 1:
            raise PoolExhaustedError(f"pool {quote(tried[0].prefix)} has no free /{prefixlen} left")
        raise PoolExhaustedError(
            f"no {which} has a free /{prefixlen} left ({len(tried)} pools tried)"
        )

    def _allocate_in(
        self, pool: Pool, prefixlen: int, owner: Hashable, key: object, wanted: int | None
    ) -> Prefix | None:
        if self._next_fit:
            found = pool.find(prefixlen, pool.cursor)
            if found is None and pool.cursor != pool.start:
                found = pool.find(prefixlen, pool.start)
        else:
            found = pool.find(prefixlen, pool.start)
        if found is None:
            return None
        start, k, i = found
        size = 1 << (pool.width - prefixlen)
        end = start + size
        gap_end = pool.end_of(k, i)
        pool.take(start, end, k, i)
        if self._next_fit:
            pool.cursor = end if end < pool.end else pool.start
        fam = self._family(pool.version)
        self._record(fam, pool, start, prefixlen, owner)
        last_key = fam.last_pool_arg
        if (
            fam.last_prefixlen is prefixlen
            and (last_key is key or last_key == key)
            and fam.last_version_arg is wanted
        ):
            if end + size <= gap_end and self._run is None:
                # The request repeats the previous one of this family: it will likely come
                # again, and would then take the blocks that follow in this gap (lowest
                # placement found none lower; next-fit's cursor now points at them). A run
                # pending in the other IP family is left alone: one run at a time.
                self._run = Run(
                    pool,
                    fam,
                    pool_arg=key,
                    version_arg=wanted,
                    prefixlen=prefixlen,
                    start=end,
                    limit=gap_end,
                )
        else:
            fam.last_prefixlen, fam.last_pool_arg, fam.last_version_arg = prefixlen, key, wanted
        return _trusted(pool.version, start, prefixlen)

    def _family(self, version: int) -> Family:
        """The state of one IP family, its pending run written to the indexes first.

        With :meth:`_settled`, the only way to the families' state (a test pins it): no method
        can read or change an index that a pending run has not reached yet.
        """
        self._settle(version)
        return self._families[version]

    def _settled(self) -> tuple[Family, Family]:
        """Both families' state (IPv4 first), every pending run written to the indexes first."""
        self._settle()
        families = self._families
        return families[4], families[6]

    def _settle(self, version: int | None = None) -> None:
        """Write the pending run's blocks to the indexes; the caller holds the lock.

        With ``version``, only a run that an operation on that IP family could affect: a run
        of the other family stays pending, unless it serves requests without ``pool=`` or
        ``version=`` (pools of either family are tried for those).
        """
        run = self._run
        if run is None:
            return
        serves_one_family = run.pool_arg is not None or run.version_arg is not None
        if version is not None and run.version != version and serves_one_family:
            return
        self._run = None
        base, end = run.base, run.next
        if end == base:
            return
        pool, prefixlen, count = run.pool, run.prefixlen, len(run.starts)
        pool.carve(base, end)
        run.family.blocks.add_run(run.starts, prefixlen)
        pool.count(prefixlen, count)
        if self._next_fit:
            pool.cursor = end if end < pool.end else pool.start

    @staticmethod
    def _record(fam: Family, pool: Pool, start: int, prefixlen: int, owner: Hashable) -> None:
        fam.blocks.add(start, prefixlen)
        if owner is not None:
            fam.owners[start] = owner
        pool.count(prefixlen)

    def occupy(self, prefix: PrefixLike, *, owner: Hashable = None) -> Prefix:
        """Claim an existing prefix, e.g. one a node already holds after a restart.

        Occupying a prefix again with the same owner changes nothing. The cursor of next-fit
        placement does not move. Runtime complexity: O(log n) approximate.

        Raises:
            PrefixConflictError: the prefix overlaps an allocation (whoever holds it), a
                reservation or a nested pool.
            NotInPoolError: no pool contains the prefix.
            TypeError: ``owner`` is not hashable.

        >>> a = PrefixAllocator(["2001:db8::/48"])
        >>> a.occupy("2001:db8:0:5::/64", owner="node-a")
        Prefix('2001:db8:0:5::/64')
        >>> a.occupy("2001:db8:0:5::/80", owner="node-b")
        Traceback (most recent call last):
        ...
        ipv6alloc.PrefixConflictError: '2001:db8:0:5::/80' overlaps allocation \
'2001:db8:0:5::/64' (owner 'node-a')
        """
        p = Prefix.coerce(prefix)
        if owner is not None:
            check_owner(owner)
        with self._lock:
            fam = self._family(p.version)
            start, length = p.value, p.prefixlen
            if fam.blocks.get(start) == length:
                held = fam.owners.get(start)
                if held == owner:
                    return p
                raise PrefixConflictError(
                    f"{quote(p)} is allocated already{owner_text(fam, start)}"
                )
            pool = fam.innermost(start, length)
            if pool is None:
                raise NotInPoolError(f"{quote(p)} is not inside any pool")
            end = start + p.num_addresses
            position = pool.containing(start, end)
            if position is None:
                raise PrefixConflictError(conflict(fam, pool, p))
            pool.take(start, end, *position)
            self._record(fam, pool, start, length, owner)
            return p

    def release(self, prefix: PrefixLike) -> None:
        """Release an allocated prefix; its space is free again at once.

        Runtime complexity: O(log n) approximate.

        Raises:
            NotAllocatedError: the prefix is not allocated (exactly; a part does not count).
        """
        p = Prefix.coerce(prefix)
        with self._lock:
            fam = self._family(p.version)
            start = p.value
            if fam.blocks.get(start) != p.prefixlen:
                raise NotAllocatedError(f"{quote(p)} is not allocated")
            pool = fam.innermost(start, p.prefixlen)
            if pool is None:  # a real check, not an assert: it must hold under ``python -O``
                raise AssertionError(f"allocation {p} lies in no pool")
            size = p.num_addresses
            fam.blocks.remove(start)
            fam.owners.pop(start, None)
            pool.fill(start, start + size)
            pool.uncount(p.prefixlen)

    # -- reservations -----------------------------------------------------------------------

    def reserve(self, prefix: PrefixLike) -> Prefix:
        """Keep a prefix or address out of every later allocation.

        Reserving the same prefix twice counts twice (see :meth:`unreserve`); reservations may
        overlap each other and may lie outside every pool (they apply to pools added later).
        Runtime complexity: O(log n) approximate, plus the reservations it covers.

        Raises:
            PrefixConflictError: the prefix overlaps an allocation.

        >>> a = PrefixAllocator(["2001:db8::/126"])
        >>> a.reserve("2001:db8::")
        Prefix('2001:db8::/128')
        >>> a.allocate(127)
        Prefix('2001:db8::2/127')
        """
        p = Prefix.coerce(prefix)
        with self._lock:
            _reservations.reserve(self._family(p.version), p)
            return p

    def unreserve(self, prefix: PrefixLike) -> None:
        """Undo one :meth:`reserve` of exactly this prefix or address.

        Runtime complexity: O(log n) approximate, plus the reservations it covered.

        Raises:
            NotAllocatedError: the prefix is not reserved.
        """
        p = Prefix.coerce(prefix)
        with self._lock:
            _reservations.unreserve(self._family(p.version), p)

    # -- queries ----------------------------------------------------------------------------

    def lookup(self, prefix_or_address: PrefixLike) -> Allocation | None:
        """The allocation that contains the prefix or address, or None.

        Runtime complexity: O(log n).

        >>> a = PrefixAllocator(["10.0.0.0/8"])
        >>> a.occupy("10.1.0.0/16", owner="n1")
        Prefix('10.1.0.0/16')
        >>> a.lookup("10.1.2.3")
        Allocation(prefix=Prefix('10.1.0.0/16'), owner='n1')
        >>> a.lookup("10.2.0.0") is None
        True
        """
        p = Prefix.coerce(prefix_or_address)
        with self._lock:
            fam = self._family(p.version)
            block = fam.blocks.floor(p.value)
            if block is None:
                return None
            found, length = block
            if length > p.prefixlen or p.value >= found + (1 << (fam.width - length)):
                return None
            return Allocation(_trusted(p.version, found, length), fam.owners.get(found))

    def overlapping(self, prefix_or_address: PrefixLike) -> tuple[Allocation, ...]:
        """The allocations that overlap the prefix: the one that holds it, or those inside it.

        Runtime complexity: O(log n + k) for the k allocations found.

        >>> a = PrefixAllocator(["10.0.0.0/16"])
        >>> _ = a.occupy("10.0.1.0/24", owner="n1"), a.occupy("10.0.2.0/24", owner="n2")
        >>> [str(x.prefix) for x in a.overlapping("10.0.0.0/22")]
        ['10.0.1.0/24', '10.0.2.0/24']
        >>> a.overlapping("10.0.1.128/25")
        (Allocation(prefix=Prefix('10.0.1.0/24'), owner='n1'),)
        """
        p = Prefix.coerce(prefix_or_address)
        with self._lock:
            fam = self._family(p.version)
            start, end = p.value, p.value + p.num_addresses
            block = fam.blocks.floor(end - 1)  # the last allocation starting before the end
            if block is None or block[0] + (1 << (fam.width - block[1])) <= start:
                return ()
            found, length = block
            if found < start:  # it holds the whole prefix
                return (Allocation(_trusted(p.version, found, length), fam.owners.get(found)),)
            return tuple(
                Allocation(_trusted(p.version, s, length), fam.owners.get(s))
                for s, length in fam.blocks.irange(start, end)
            )

    def reserved_within(self, prefix: PrefixLike) -> tuple[Prefix, ...]:
        """The reservations (as given, each once) that lie inside the prefix, in address order.

        Runtime complexity: O(log n + k) for the k reservations found.

        >>> a = PrefixAllocator(reserved=["10.0.0.7", "10.0.1.0/24", "10.0.1.5", "10.0.0.0/8"])
        >>> [str(p) for p in a.reserved_within("10.0.0.0/22")]
        ['10.0.0.7/32', '10.0.1.0/24', '10.0.1.5/32']
        """
        p = Prefix.coerce(prefix)
        with self._lock:
            fam = self._family(p.version)
            start, end = p.value, p.value + p.num_addresses
            keys = [s << 8 | fam.reserved_len[s] for s in fam.reserved_starts.irange(start, end)]
            keys.extend(fam.nested_keys.irange(start << 8, end << 8))
            keys.sort()
            return tuple(
                _trusted(p.version, key >> 8, key & 0xFF)
                for key in keys
                if key & 0xFF >= p.prefixlen  # not one that holds the prefix
            )

    def pools_within(self, prefix: PrefixLike) -> tuple[Prefix, ...]:
        """The pools nested strictly inside the prefix, at any depth, in address order.

        Runtime complexity: O(log n + k) for the k pools found.

        >>> a = PrefixAllocator(["10.0.0.0/16", "10.0.1.0/24", "10.0.1.0/26", "10.0.2.0/24"])
        >>> [str(p) for p in a.pools_within("10.0.0.0/16")]
        ['10.0.1.0/24', '10.0.1.0/26', '10.0.2.0/24']
        """
        p = Prefix.coerce(prefix)
        with self._lock:
            fam = self._family(p.version)
            inside = fam.pools_inside(p.value, p.value + p.num_addresses, p.prefixlen)
            return tuple(pool.prefix for pool in inside)

    def pool_of(self, prefix_or_address: PrefixLike) -> Prefix | None:
        """The innermost pool containing the prefix or address, or None.

        Runtime complexity: O(distinct pool lengths).

        >>> a = PrefixAllocator(["2001:db8::/48", "2001:db8::/64"])
        >>> a.pool_of("2001:db8::1"), a.pool_of("2001:db8:0:1::1")
        (Prefix('2001:db8::/64'), Prefix('2001:db8::/48'))
        """
        p = Prefix.coerce(prefix_or_address)
        with self._lock:
            pool = self._family(p.version).innermost(p.value, p.prefixlen)
            return None if pool is None else pool.prefix

    def owner_of(self, prefix_or_address: PrefixLike) -> Hashable:
        """The owner of the allocation containing the prefix or address.

        Runtime complexity: O(log n).

        Raises:
            NotAllocatedError: no allocation contains it.
        """
        found = self.lookup(prefix_or_address)
        if found is None:
            raise NotAllocatedError(f"{quote(prefix_or_address)} is not allocated")
        return found.owner

    def allocations(self) -> tuple[Allocation, ...]:
        """Every allocation in address order (IPv4 first). Runtime complexity: O(n)."""
        with self._lock:
            out: list[Allocation] = []
            for fam in self._settled():
                owners, version = fam.owners, fam.version
                out.extend(
                    Allocation(_trusted(version, s, length), owners.get(s))
                    for s, length in fam.blocks
                )
            return tuple(out)

    def reserved(self) -> tuple[Prefix, ...]:
        """Every reservation as given (repeated as often as reserved), in address order."""
        with self._lock:
            out: list[Prefix] = []
            for fam in self._settled():
                version = fam.version
                for key in fam.reservation_keys():
                    times = 1 + fam.extra_counts.get(key, 0)
                    out.extend([_trusted(version, key >> 8, key & 0xFF)] * times)
            return tuple(out)

    def free_blocks(self, pool: PrefixLike) -> tuple[Prefix, ...]:
        """The maximal aligned free prefixes of a pool, lowest first.

        Runtime complexity: O(g * w) for g gaps of a w-bit address.

        >>> a = PrefixAllocator(["10.0.0.0/24"])
        >>> _ = a.allocate(26)
        >>> [str(p) for p in a.free_blocks("10.0.0.0/24")]
        ['10.0.0.64/26', '10.0.0.128/25']
        """
        p = Prefix.coerce(pool)
        with self._lock:
            target = self._pool(p)
            version, width = target.version, WIDTH[target.version]
            return tuple(
                _trusted(version, s, length)
                for lo, hi in target
                for s, length in blocks_in_range(lo, hi, width)
            )

    def cursor(self, pool: PrefixLike) -> Prefix:
        """Where the next next-fit search in the pool starts, as an address prefix."""
        p = Prefix.coerce(pool)
        with self._lock:
            target = self._pool(p)
            version = target.version
            return _trusted(version, target.cursor, WIDTH[version])

    def statistics(self) -> AllocatorStatistics:
        """A frozen snapshot of every pool's usage. Runtime complexity: O(pools + chunks).

        >>> a = PrefixAllocator(["10.0.0.0/24"])
        >>> _ = a.allocate(26)
        >>> s = a.statistics().pools[0]
        >>> s.size, s.allocated_addresses, s.free_addresses, s.largest_free_prefixlen
        (256, 64, 192, 25)
        """
        with self._lock:
            families = self._settled()
            stats = []
            for pool in self._order:
                size = pool.end - pool.start
                allocated = pool.allocated_addresses
                stats.append(
                    PoolStatistics(
                        pool=pool.prefix,
                        size=size,
                        allocated_addresses=allocated,
                        allocated_prefixes=pool.allocated_prefixes,
                        unavailable_addresses=size - allocated - pool.free,
                        free_addresses=pool.free,
                        largest_free_prefixlen=pool.largest_class(),
                        by_prefixlen=dict(sorted(pool.by_prefixlen.items())),
                        free_bounds=pool.bounds(),
                    )
                )
            return AllocatorStatistics(
                pools=tuple(stats),
                allocations=sum(len(f.blocks) for f in families),
                reservations=sum(f.reservation_count() for f in families),
            )

    def __len__(self) -> int:
        """Number of allocations."""
        with self._lock:
            return sum(len(f.blocks) for f in self._settled())

    def __repr__(self) -> str:
        with self._lock:
            self._settled()
            pools = ", ".join(repr(str(p.prefix)) for p in list(self._order)[:3])
            more = ", ..." if len(self._order) > 3 else ""
            return (
                f"PrefixAllocator([{pools}{more}], placement={self._placement!r}) "
                f"with {len(self)} allocation(s)"
            )

    # -- copies -----------------------------------------------------------------------------

    def copy(self) -> PrefixAllocator:
        """An independent allocator in the same state: changing one never affects the other.

        Owners are shared, not copied (they are hashable, so treated as values). ``copy.copy``,
        ``copy.deepcopy`` and ``pickle`` give the same result. Runtime complexity: O(n).

        >>> a = PrefixAllocator(["10.0.0.0/16"])
        >>> b = a.copy()
        >>> a.allocate(24), b.allocate(25)
        (Prefix('10.0.0.0/24'), Prefix('10.0.0.0/25'))
        >>> len(a), len(b)
        (1, 1)
        """
        with self._lock:
            memo: dict[int, object] = {id(_NO_KEY): _NO_KEY}
            families = self._settled()
            state = {key: value for key, value in self.__dict__.items() if key != "_lock"}
            for fam in families:
                # Owners are values: keep the very objects (a deep copy could change them).
                memo.update((id(owner), owner) for owner in fam.owners.values())
            clone = _new(PrefixAllocator)
            clone.__dict__.update(copy.deepcopy(state, memo))
            clone._lock = threading.RLock()
            return clone

    def __copy__(self) -> PrefixAllocator:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, object]) -> PrefixAllocator:
        return self.copy()

    def __getstate__(self) -> dict[str, object]:
        with self._lock:
            self._settled()
            return {key: value for key, value in self.__dict__.items() if key != "_lock"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        for fam in self._families.values():
            # The last request's arguments are compared by identity (see Run): an unpickled
            # sentinel is another object, so forget them; the next request starts afresh.
            fam.last_prefixlen = fam.last_pool_arg = fam.last_version_arg = None

    # -- snapshots --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A JSON-safe dict of the whole state: pools, cursors, reservations, allocations.

        :meth:`from_snapshot` restores it exactly. Runtime complexity: O(n).

        Raises:
            SnapshotError: an owner is not a JSON scalar (str, int, float, bool or None).
        """
        with self._lock:
            self._settled()
            return _snap.dump(self)

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> PrefixAllocator:
        """Rebuild an allocator from :meth:`snapshot` output, validating everything it reads.

        Runtime complexity: O(n log n).

        Raises:
            SnapshotError: the data is not a valid snapshot (the message says where).

        >>> a = PrefixAllocator(["10.0.0.0/16"], placement="next-fit")
        >>> _ = a.allocate(24, owner="n1")
        >>> b = PrefixAllocator.from_snapshot(a.snapshot())
        >>> b.snapshot() == a.snapshot()
        True
        """
        return _snap.load(cls, data)

    # -- helpers ----------------------------------------------------------------------------

    def _pool(self, p: Prefix) -> Pool:
        same_length = self._family(p.version).pools.get(p.prefixlen)
        pool = None if same_length is None else same_length.get(p.value)
        if pool is None:
            raise UnknownPoolError(f"{quote(p)} is not a pool of this allocator")
        return pool

    def _check(self) -> None:
        """Verify every invariant of the whole allocator; O(n log n). For tests."""
        check_allocator(self)
