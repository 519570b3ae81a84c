"""The allocator's mutable state: one :class:`Pool` per pool, one :class:`Family` per IP version.

Internal: :class:`~ipv6alloc.PrefixAllocator` owns these and takes its lock around every use.
"""

from __future__ import annotations

from ._bits import WIDTH
from ._index import BlockIndex, GapIndex, SortedInts, _ChunkedGapIndex
from ._prefix import Prefix

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator

__all__ = ["Family", "Pool", "Run"]


class Pool(GapIndex):
    """One pool's mutable state (internal): the gap index of its range, and its bookkeeping.

    A pool *is* its gap index (whose ``start`` and ``end`` are the pool's) rather than holding one:
    a cluster has a pool per node subnet, and each object per pool is one more for the garbage
    collector to trace on every full collection. Past ``GapIndex.flat_gaps`` gaps a pool becomes a
    :class:`_ChunkedPool`, as a gap index becomes chunked.
    """

    __slots__ = (
        "allocated_prefixes",
        "children",
        "cursor",
        "lengths",
        "parent",
        "prefixlen",
        "version",
    )

    def __init__(self, prefix: Prefix, end: int, width: int) -> None:
        start = prefix.value
        GapIndex.__init__(self, start, end, width, prefix.prefixlen)
        # The prefix is kept as plain ints: one object less to trace.
        self.version = prefix.version
        self.prefixlen = prefix.prefixlen
        self.cursor = start
        self.parent: Pool | None = None
        # The pools nested directly inside, as an ordered set (O(1) to add and remove); None
        # while there are none, as in most pools (an empty dict is 64 bytes per node subnet).
        self.children: dict[Pool, None] | None = None
        self.allocated_prefixes = 0
        # The lengths of the pool's allocations: the one length they all have (a pool mostly
        # hands out one node mask), or a dict length -> count once they differ. A dict per pool
        # was 224 of a node's bytes in benchmark S9; the counts by length are read rarely.
        self.lengths: int | dict[int, int] = 0

    def __bool__(self) -> bool:
        return True  # a pool is never false, even when ``len()``, its number of gaps, is 0

    def count(self, prefixlen: int, count: int = 1) -> None:
        """Count ``count`` new allocations of length ``prefixlen`` in the pool."""
        lengths = self.lengths
        if not self.allocated_prefixes:
            self.lengths = prefixlen
        elif lengths != prefixlen:
            if isinstance(lengths, int):
                self.lengths = lengths = {lengths: self.allocated_prefixes}
            lengths[prefixlen] = lengths.get(prefixlen, 0) + count
        self.allocated_prefixes += count

    def uncount(self, prefixlen: int) -> None:
        """Count one allocation of length ``prefixlen`` less (the pool holds one)."""
        self.allocated_prefixes -= 1
        lengths = self.lengths
        if isinstance(lengths, dict):
            left = lengths[prefixlen] - 1
            if left:
                lengths[prefixlen] = left
            else:
                del lengths[prefixlen]
                if len(lengths) == 1:
                    self.lengths = next(iter(lengths))

    @property
    def by_prefixlen(self) -> dict[int, int]:
        """Number of the pool's allocations by length (a new dict, in no particular order)."""
        lengths = self.lengths
        if not self.allocated_prefixes:
            return {}
        return {lengths: self.allocated_prefixes} if isinstance(lengths, int) else dict(lengths)

    @property
    def allocated_addresses(self) -> int:
        """Addresses inside the pool's own allocations."""
        width = self.width
        return sum(count << (width - length) for length, count in self.by_prefixlen.items())

    def add_child(self, child: Pool) -> None:
        """Take ``child`` among the pools nested directly inside."""
        if self.children is None:
            self.children = {}
        self.children[child] = None

    def remove_child(self, child: Pool) -> None:
        """Take ``child`` off the pools nested directly inside."""
        children = self.children
        if children is None:
            raise KeyError(child)
        del children[child]
        if not children:
            self.children = None

    @property
    def prefix(self) -> Prefix:
        """The pool as a :class:`~ipv6alloc.Prefix` (a new object each time)."""
        return Prefix._trusted(self.version, self.start, self.prefixlen)


class _ChunkedPool(_ChunkedGapIndex, Pool):
    """A pool whose gaps are chunked (see :class:`~ipv6alloc._index.GapIndex`)."""

    __slots__ = ()


Pool._chunked = _ChunkedPool


class Family:
    """The allocations, reservations and pools of one IP version (internal)."""

    __slots__ = (
        "blocks",
        "extra_counts",
        "last_pool_arg",
        "last_prefixlen",
        "last_version_arg",
        "nested_keys",
        "owners",
        "pool_keys",
        "pool_lens",
        "pools",
        "recent",
        "reserved_len",
        "reserved_starts",
        "version",
        "width",
    )

    def __init__(self, version: int) -> None:
        self.version = version
        self.width = WIDTH[version]
        self.blocks = BlockIndex()  # allocations: start -> prefixlen
        self.owners: dict[int, Hashable] = {}  # allocation start -> owner, when not None
        # Reservations as given. Prefixes nest or are apart, so each maximal reserved range is
        # one of them: those are in ``reserved_starts`` and ``reserved_len``; the others, each
        # inside one, in ``nested_keys`` (keyed ``start << 8 | prefixlen``). A reservation made
        # more than once counts the times beyond the first in ``extra_counts``: most are made
        # once, and each int and dict entry less is a node's reservation cheaper (two per node
        # in benchmark S9, whose allocator work this brought from 1,034 to 880 bytes per node).
        self.reserved_starts = SortedInts()  # starts of maximal reserved ranges
        self.reserved_len: dict[int, int] = {}  # their prefix lengths
        self.nested_keys = SortedInts()  # keys of the given reservations inside a maximal one
        self.extra_counts: dict[int, int] = {}  # key -> times reserved beyond the first
        self.pools: dict[int, dict[int, Pool]] = {}  # prefixlen -> start -> pool
        self.pool_lens: list[int] = []  # pool lengths present, longest first
        self.pool_keys = SortedInts()  # start << 8 | prefixlen of each pool
        # The pool innermost() found or add_pool() added last: the next block asked about is
        # often in it (a node's address, then its pod prefix).
        self.recent: Pool | None = None
        # The arguments of the last allocation taken the long way: a run opens when the next
        # one repeats them (see Run).
        self.last_prefixlen: object = None
        self.last_pool_arg: object = None
        self.last_version_arg: object = None

    def innermost(self, start: int, prefixlen: int) -> Pool | None:
        """The smallest pool containing the block; O(distinct pool lengths), O(1) when recent."""
        recent = self.recent
        if (
            recent is not None
            and not recent.children  # else a nested pool may hold the block
            and recent.prefixlen <= prefixlen
            and recent.start <= start < recent.end
        ):
            return recent
        width = self.width
        for length in self.pool_lens:
            if length <= prefixlen:
                shift = width - length
                pool = self.pools[length].get(start >> shift << shift)
                if pool is not None:
                    self.recent = pool
                    return pool
        return None

    def children_in(self, pool: Pool | None, start: int, end: int, prefixlen: int) -> list[Pool]:
        """The pools nested directly in ``pool`` (None: top level) inside the block, by start.

        O(log n) per pool found: one bisection past each child, so the pools nested deeper are
        never visited.
        """
        found: list[Pool] = []
        keys, pools = self.pool_keys, self.pools
        lens = self.pool_lens
        if not lens or lens[0] <= prefixlen:
            return found
        cursor, stop = start << 8, end << 8  # over the keys: start << 8 | prefixlen
        while cursor < stop:
            key = next(keys.irange(cursor, stop), None)
            if key is None:
                break
            q = pools[key & 0xFF][key >> 8]
            if q.prefixlen <= prefixlen:  # the block itself, or a pool holding it
                cursor = key + 1
                continue
            if q.parent is pool:
                found.append(q)
            cursor = q.end << 8  # past q and everything nested in it
        return found

    def pools_inside(self, start: int, end: int, prefixlen: int) -> list[Pool]:
        """Pools strictly inside the block ``[start, end)`` of length ``prefixlen``."""
        lens, keys = self.pool_lens, self.pool_keys
        if not lens or lens[0] <= prefixlen or not keys.any_in(start << 8, end << 8):
            return []
        return [
            self.pools[key & 0xFF][key >> 8]
            for key in keys.irange(start << 8, end << 8)
            if key & 0xFF > prefixlen
        ]

    def allocation_overlapping(self, start: int, end: int) -> int | None:
        """Start of an allocation overlapping ``[start, end)``, or None; O(log n)."""
        found = self.blocks.floor(end - 1)
        if found is not None and found[0] + (1 << (self.width - found[1])) > start:
            return found[0]
        return None

    def reserved_end(self, start: int) -> int:
        """One past the last address of the maximal reserved range starting at ``start``."""
        return start + (1 << (self.width - self.reserved_len[start]))

    def reservation_overlapping(self, start: int, end: int) -> int | None:
        """Start of a maximal reserved range overlapping ``[start, end)``, or None."""
        found = self.reserved_starts.floor(end - 1)
        if found is not None and self.reserved_end(found) > start:
            return found
        return None

    def reserved_ranges(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        """The maximal reserved ranges overlapping ``[start, end)``, clipped to it."""
        first = self.reserved_starts.floor(start)
        if first is not None and self.reserved_end(first) > start:
            yield start, min(end, self.reserved_end(first))
        if not self.reserved_starts.any_in(start + 1, end):
            return
        for r in self.reserved_starts.irange(start + 1, end):
            yield r, min(end, self.reserved_end(r))

    def is_nested(self, key: int) -> bool:
        """Whether ``key`` (``start << 8 | prefixlen``) is a reservation inside a maximal one."""
        return self.nested_keys.floor(key) == key

    def times_reserved(self, start: int, prefixlen: int) -> int:
        """How often the prefix is reserved (0: not)."""
        key = start << 8 | prefixlen
        if self.reserved_len.get(start) != prefixlen and not self.is_nested(key):
            return 0
        return 1 + self.extra_counts.get(key, 0)

    def reservation_keys(self) -> list[int]:
        """The key (``start << 8 | prefixlen``) of every reservation as given, sorted."""
        keys = [start << 8 | self.reserved_len[start] for start in self.reserved_starts]
        keys.extend(self.nested_keys)
        keys.sort()
        return keys

    def reservation_count(self) -> int:
        """The number of reservations, each counted as often as it was made."""
        return len(self.reserved_len) + len(self.nested_keys) + sum(self.extra_counts.values())


class Run:
    """Allocations handed out in a row and not yet written to the indexes (internal).

    After :meth:`~ipv6alloc.PrefixAllocator.allocate` takes a block from a gap that goes on,
    the next request with the same arguments gets the block right after it, and so on to the
    gap's end (``limit``). Until something else touches the allocator, the blocks handed out,
    ``[base, next)`` in blocks of ``size``, are only listed here (``starts``; their owners are
    recorded at once). Any other operation first *settles* the run: writes them to the indexes
    (the family's blocks, the pool's gaps and counters) in one splice each.
    """

    __slots__ = (
        "base",
        "family",
        "limit",
        "next",
        "owners",
        "pool",
        "pool_arg",
        "prefixlen",
        "size",
        "starts",
        "version",
        "version_arg",
    )

    def __init__(
        self,
        pool: Pool,
        family: Family,
        *,
        pool_arg: object,
        version_arg: int | None,
        prefixlen: int,
        start: int,
        limit: int,
    ) -> None:
        self.pool = pool
        self.family = family
        self.version = family.version  # of the blocks
        self.owners = family.owners
        self.pool_arg = pool_arg  # the ``pool=`` argument that asked (None, str or Prefix)
        self.version_arg = version_arg  # the ``version=`` argument that asked
        self.prefixlen = prefixlen
        self.size = 1 << (family.width - prefixlen)
        self.base = self.next = start
        self.limit = limit
        self.starts: list[int] = []  # the blocks handed out, in order
