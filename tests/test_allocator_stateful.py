"""A state machine that drives PrefixAllocator and checks it against ``netaddr.IPSet``.

The oracle keeps the pools (in order), the allocations with their owners, the reservations with
their counts and one next-fit cursor per pool, and computes free space with ``netaddr.IPSet``:
free(pool) = pool - allocated - reserved - pools nested inside it. Every rule predicts the
outcome (the exact block for both placements, or the error class) from the oracle alone, and
after every step the invariants compare the whole allocator with the oracle and run its
``_check()``. The index chunks are made small (``small_load``) so that they split and merge.

Pools stay small or allocations coarse (IPv4 /24, IPv6 /120, IPv6 /48 with at most /64 blocks),
so the oracle's sets stay a few dozen CIDRs.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from itertools import pairwise
from typing import TYPE_CHECKING

import netaddr
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from ipv6alloc import (
    Allocation,
    ConfigurationError,
    InvalidPrefixError,
    NotAllocatedError,
    NotInPoolError,
    Placement,
    PoolExhaustedError,
    Prefix,
    PrefixAllocator,
    PrefixConflictError,
    UnknownPoolError,
    _index,
)
from ipv6alloc.strategies import prefixes

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable

pytestmark = pytest.mark.usefixtures("small_load")

P = Prefix.parse

#: The pools every run starts with.
BASE_POOLS = [P("10.0.0.0/24"), P("2001:db8::/120"), P("2001:db8:1::/48")]

#: Pools that may be added (and removed): nested in a base pool, nested two deep, enclosing a
#: base pool, or beside one.
CANDIDATE_POOLS = [
    P("10.0.0.64/26"),
    P("10.0.0.96/27"),
    P("10.0.0.0/23"),
    P("10.0.1.0/25"),
    P("2001:db8::80/121"),
    P("2001:db8::c0/122"),
    P("2001:db8::/118"),
    P("2001:db8:1:8000::/49"),
    P("2001:db8:1:8000::/64"),
    P("2001:db8:1:ff00::/56"),
    P("2001:db8:2::/48"),
]

#: Regions where occupy and reserve pick prefixes: they cover the pools and some space outside.
AREAS = [P("10.0.0.0/23"), P("2001:db8::/118"), P("2001:db8:1::/48"), P("2001:db8::/46")]

OWNERS: list[Hashable] = [None, "node-a", "node-b", 7]


def longest(p: Prefix) -> int:
    """The longest prefix length the machine uses inside ``p`` (keeps IPv6 oracle sets small)."""
    if p.version == 4 or p.prefixlen >= 112:
        return p.max_prefixlen
    if p.prefixlen <= 64:
        return 64
    return min(128, p.prefixlen + 8)


@functools.cache
def network(p: Prefix) -> netaddr.IPNetwork:
    """The prefix as a netaddr object, built from its integers (cached: it is immutable)."""
    return netaddr.IPNetwork((p.value, p.prefixlen), version=p.version)


def ipset(items: Iterable[Prefix]) -> netaddr.IPSet:
    return netaddr.IPSet([network(p) for p in items])


def first_fit(free: netaddr.IPSet, version: int, prefixlen: int, at: int) -> int | None:
    """The first aligned block of ``prefixlen`` inside ``free`` that starts at or after ``at``."""
    size = 1 << ((32 if version == 4 else 128) - prefixlen)
    for cidr in free.iter_cidrs():
        if cidr.version != version or cidr.prefixlen > prefixlen:
            continue
        low, high = int(cidr.first), int(cidr.last) + 1
        start = -(-max(low, at) // size) * size
        if start + size <= high:
            return start
    return None


class AllocatorMachine(RuleBasedStateMachine):
    """PrefixAllocator against a netaddr model."""

    def __init__(self) -> None:
        super().__init__()
        self.a = PrefixAllocator()
        self.placement: Placement = "lowest"
        self.pools: list[Prefix] = []
        self.cursors: dict[Prefix, int] = {}
        self.allocs: dict[Prefix, Hashable] = {}
        self.resv: Counter[Prefix] = Counter()
        # Oracle sets, rebuilt lazily after a change (netaddr is the slow part of a step).
        self._blocked: netaddr.IPSet | None = None
        self._free: dict[Prefix, netaddr.IPSet] = {}
        self._owner_pool: dict[Prefix, Prefix | None] = {}
        # After an allocation, sometimes compare with the oracle only after the next step, so
        # that the allocator's pending run (allocations not indexed yet) meets every operation.
        self.hold = False

    def changed(self) -> None:
        """Forget the cached oracle sets after the oracle's state changed."""
        self._blocked = None
        self._free.clear()
        self._owner_pool.clear()

    # -- the oracle -----------------------------------------------------------------------------

    def innermost(self, p: Prefix) -> Prefix | None:
        """The longest pool that contains ``p`` (``p`` itself when it is a pool)."""
        holders = [q for q in self.pools if p.subnet_of(q)]
        return max(holders, key=lambda q: q.prefixlen, default=None)

    def nested(self, pool: Prefix) -> list[Prefix]:
        return [q for q in self.pools if q != pool and q.subnet_of(pool)]

    def pool_of(self, p: Prefix) -> Prefix | None:
        """``innermost``, cached until the next change."""
        if p not in self._owner_pool:
            self._owner_pool[p] = self.innermost(p)
        return self._owner_pool[p]

    def own(self, pool: Prefix) -> list[Prefix]:
        """The allocations that belong to ``pool`` (it is their innermost pool)."""
        return [p for p in self.allocs if self.pool_of(p) == pool]

    def blocked(self) -> netaddr.IPSet:
        """Allocated or reserved space."""
        if self._blocked is None:
            self._blocked = ipset([*self.allocs, *self.resv])
        return self._blocked

    def free(self, pool: Prefix) -> netaddr.IPSet:
        """The pool minus allocations, reservations and the pools nested inside it."""
        if pool not in self._free:
            inside = ipset([pool])
            self._free[pool] = inside - (self.blocked() & inside) - ipset(self.nested(pool))
        return self._free[pool]

    def expected_block(self, pool: Prefix, prefixlen: int) -> Prefix | None:
        """Where the allocator must place a /prefixlen in ``pool``, or None when it cannot."""
        free = self.free(pool)
        if self.placement == "lowest":
            start = first_fit(free, pool.version, prefixlen, pool.value)
        else:
            start = first_fit(free, pool.version, prefixlen, self.cursors[pool])
            if start is None:
                start = first_fit(free, pool.version, prefixlen, pool.value)
        return None if start is None else Prefix(pool.version, start, prefixlen)

    def took(self, pool: Prefix, block: Prefix, owner: Hashable) -> None:
        self.allocs[block] = owner
        self.changed()
        if self.placement == "next-fit":
            cursor = block.last + 1
            self.cursors[pool] = pool.value if cursor > pool.last else cursor

    def draw_prefix(self, data: st.DataObject) -> Prefix:
        """A prefix in one of the areas, a pool or an allocation: often overlapping something."""
        area = data.draw(st.sampled_from([*AREAS, *self.pools, *self.allocs]), label="area")
        return data.draw(prefixes(within=area, max_prefixlen=longest(area)), label="prefix")

    # -- set-up ---------------------------------------------------------------------------------

    @initialize(placement=st.sampled_from(["lowest", "next-fit"]))
    def start(self, placement: Placement) -> None:
        assert _index.GapIndex.load < 256, "the small_load fixture is active"
        self.placement = placement
        self.a = PrefixAllocator(BASE_POOLS, placement=placement)
        self.pools = list(BASE_POOLS)
        self.cursors = {p: p.value for p in BASE_POOLS}

    # -- allocation -----------------------------------------------------------------------------

    @precondition(lambda self: bool(self.pools))
    @rule(
        data=st.data(),
        owner=st.sampled_from(OWNERS),
        times=st.integers(1, 4),
        hold=st.booleans(),
    )
    def allocate(self, data: st.DataObject, owner: Hashable, times: int, hold: bool) -> None:
        """The same request, ``times`` in a row (repeats take the allocator's hot path)."""
        self.hold = hold
        pool = data.draw(st.sampled_from(self.pools), label="pool")
        prefixlen = data.draw(st.integers(pool.prefixlen, longest(pool)), label="prefixlen")
        for _ in range(times):
            expected = self.expected_block(pool, prefixlen)
            if expected is None:
                with pytest.raises(
                    PoolExhaustedError, match=rf"^pool '{re.escape(str(pool))}' has no free /"
                ):
                    self.a.allocate(prefixlen, pool=pool, owner=owner)
                return
            got = self.a.allocate(prefixlen, pool=pool, owner=owner)
            assert got == expected, f"{self.placement} placement in {pool}"
            self.took(pool, got, owner)

    @rule(
        prefixlen=st.sampled_from([24, 26, 32, 48, 56, 64, 120, 121, 126, 128]),
        version=st.sampled_from([None, 4, 6]),
        owner=st.sampled_from(OWNERS),
        hold=st.booleans(),
    )
    def allocate_any_pool(
        self, prefixlen: int, version: int | None, owner: Hashable, hold: bool
    ) -> None:
        """Without ``pool=``: the pools are tried in the order they were added."""
        self.hold = hold
        tried = [
            p
            for p in self.pools
            if (version is None or p.version == version)
            and p.prefixlen <= prefixlen <= p.max_prefixlen
        ]
        for pool in tried:
            if prefixlen > longest(pool):
                return  # the oracle keeps this pool coarse: do not ask
            expected = self.expected_block(pool, prefixlen)
            if expected is not None:
                got = self.a.allocate(prefixlen, version=version, owner=owner)
                assert got == expected, "the first pool in order with room"
                self.took(pool, got, owner)
                return
        which = "pool" if version is None else f"IPv{version} pool"
        if not tried:
            message = f"no {which} can hold a /{prefixlen}"
        elif len(tried) == 1:
            message = f"pool '{tried[0]}' has no free /{prefixlen} left"
        else:
            message = f"no {which} has a free /{prefixlen} left ({len(tried)} pools tried)"
        with pytest.raises(PoolExhaustedError, match=f"^{re.escape(message)}$"):
            self.a.allocate(prefixlen, version=version, owner=owner)

    @rule(data=st.data(), count=st.integers(2, 24), hold=st.booleans())
    def allocate_burst(self, data: st.DataObject, count: int, hold: bool) -> None:
        """Many single addresses from one small pool: the indexes grow past a chunk."""
        self.hold = hold
        small = [p for p in self.pools if p.num_addresses <= 512]
        if not small:
            return
        pool = data.draw(st.sampled_from(small), label="pool")
        # Single addresses go in address order: from the pool's start ("lowest"), or from the
        # cursor on and then from the start ("next-fit": each one moves the cursor just past it).
        free = sorted(int(x) for x in self.free(pool))
        if self.placement == "next-fit":
            cursor = self.cursors[pool]
            free = [x for x in free if x >= cursor] + [x for x in free if x < cursor]
        width = pool.max_prefixlen
        for start in free[:count]:
            got = self.a.allocate(width, pool=pool)
            assert got == Prefix(pool.version, start, width)
            self.took(pool, got, None)
        if len(free) < count:
            with pytest.raises(PoolExhaustedError):
                self.a.allocate(width, pool=pool)

    @precondition(lambda self: bool(self.pools))
    @rule(data=st.data())
    def allocate_length_outside_pool(self, data: st.DataObject) -> None:
        pool = data.draw(st.sampled_from(self.pools), label="pool")
        bad = data.draw(
            st.sampled_from([pool.prefixlen - 1, pool.max_prefixlen + 1]), label="prefixlen"
        )
        if 0 <= bad <= 128:
            message = rf"^prefix length '{bad}' does not fit pool '{re.escape(str(pool))}' "
        else:
            message = rf"^prefix length '{bad}' must be an integer from 0 to 128$"
        with pytest.raises(InvalidPrefixError, match=message):
            self.a.allocate(bad, pool=pool)

    @rule(data=st.data(), owner=st.sampled_from(OWNERS))
    def occupy(self, data: st.DataObject, owner: Hashable) -> None:
        p = self.draw_prefix(data)
        if p in self.allocs:
            if self.allocs[p] == owner:
                assert self.a.occupy(p, owner=owner) == p
            else:
                with pytest.raises(
                    PrefixConflictError, match=rf"^'{re.escape(str(p))}' is allocated already"
                ):
                    self.a.occupy(p, owner=owner)
            return
        pool = self.innermost(p)
        if pool is None:
            with pytest.raises(
                NotInPoolError, match=rf"^'{re.escape(str(p))}' is not inside any pool$"
            ):
                self.a.occupy(p, owner=owner)
            return
        if (self.blocked() | ipset(self.nested(pool))) & ipset([p]):
            with pytest.raises(
                PrefixConflictError,
                match=rf"^'{re.escape(str(p))}' overlaps (allocation|reservation|pool) '",
            ):
                self.a.occupy(p, owner=owner)
            return
        assert self.a.occupy(p, owner=owner) == p
        self.allocs[p] = owner  # the cursor does not move
        self.changed()

    @precondition(lambda self: bool(self.allocs))
    @rule(data=st.data(), owner=st.sampled_from(OWNERS))
    def occupy_again(self, data: st.DataObject, owner: Hashable) -> None:
        p = data.draw(st.sampled_from(sorted(self.allocs)), label="allocation")
        if self.allocs[p] == owner:
            assert self.a.occupy(p, owner=owner) == p
        else:
            with pytest.raises(
                PrefixConflictError, match=rf"^'{re.escape(str(p))}' is allocated already"
            ):
                self.a.occupy(p, owner=owner)

    @precondition(lambda self: bool(self.allocs))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        p = data.draw(st.sampled_from(sorted(self.allocs)), label="allocation")
        self.a.release(p)
        del self.allocs[p]
        self.changed()

    @precondition(lambda self: bool(self.allocs))
    @rule(data=st.data(), offset=st.sampled_from([0, 1]))
    def release_every_other(self, data: st.DataObject, offset: int) -> None:
        """Fragment a pool: many small gaps make the gap index split, refilling merges them."""
        holders = {q for p in self.allocs if (q := self.pool_of(p)) is not None}
        pool = data.draw(st.sampled_from(sorted(holders)), label="pool")
        for p in sorted(self.own(pool))[offset::2]:
            self.a.release(p)
            del self.allocs[p]
        self.changed()

    @rule(data=st.data())
    def release_unallocated(self, data: st.DataObject) -> None:
        p = self.draw_prefix(data)
        if p in self.allocs:
            return
        with pytest.raises(NotAllocatedError, match=rf"^'{re.escape(str(p))}' is not allocated$"):
            self.a.release(p)

    # -- reservations ---------------------------------------------------------------------------

    @rule(data=st.data())
    def reserve(self, data: st.DataObject) -> None:
        p = self.draw_prefix(data)
        if any(p.overlaps(q) for q in self.allocs):
            with pytest.raises(
                PrefixConflictError,
                match=rf"^cannot reserve '{re.escape(str(p))}': it overlaps allocation '",
            ):
                self.a.reserve(p)
            return
        assert self.a.reserve(p) == p
        self.resv[p] += 1
        self.changed()

    @precondition(lambda self: bool(self.resv))
    @rule(data=st.data())
    def unreserve(self, data: st.DataObject) -> None:
        p = data.draw(st.sampled_from(sorted(self.resv)), label="reservation")
        self.a.unreserve(p)
        self.resv[p] -= 1
        if not self.resv[p]:
            del self.resv[p]
        self.changed()

    @rule(data=st.data())
    def unreserve_unreserved(self, data: st.DataObject) -> None:
        p = self.draw_prefix(data)
        if p in self.resv:
            return
        with pytest.raises(NotAllocatedError, match=rf"^'{re.escape(str(p))}' is not reserved$"):
            self.a.unreserve(p)

    # -- pools ----------------------------------------------------------------------------------

    @rule(pool=st.sampled_from(CANDIDATE_POOLS + BASE_POOLS))
    def add_pool(self, pool: Prefix) -> None:
        if pool in self.pools:
            with pytest.raises(
                ConfigurationError, match=rf"^pool '{re.escape(str(pool))}' is given twice$"
            ):
                self.a.add_pool(pool)
            return
        parent = self.innermost(pool)
        clash = [p for p in self.allocs if p.overlaps(pool) and self.pool_of(p) == parent]
        if clash:
            with pytest.raises(
                PrefixConflictError,
                match=rf"^pool '{re.escape(str(pool))}' (overlaps|lies inside) allocation '",
            ):
                self.a.add_pool(pool)
            return
        assert self.a.add_pool(pool) == pool
        self.pools.append(pool)
        self.changed()
        self.cursors[pool] = pool.value

    @precondition(lambda self: bool(self.pools))
    @rule(data=st.data())
    def remove_pool(self, data: st.DataObject) -> None:
        pool = data.draw(st.sampled_from(self.pools), label="pool")
        held = self.own(pool)
        if held:
            with pytest.raises(
                PrefixConflictError,
                match=rf"^pool '{re.escape(str(pool))}' still holds {len(held)} allocation\(s\); ",
            ):
                self.a.remove_pool(pool)
            return
        self.a.remove_pool(pool)
        self.pools.remove(pool)
        self.changed()
        del self.cursors[pool]
        with pytest.raises(UnknownPoolError):
            self.a.cursor(pool)

    # -- snapshots ------------------------------------------------------------------------------

    @rule()
    def snapshot_round_trip(self) -> None:
        data = json.loads(json.dumps(self.a.snapshot()))
        restored = PrefixAllocator.from_snapshot(data)
        assert restored.snapshot() == data
        self.a = restored  # later steps run on the restored allocator

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def internal_invariants_hold(self) -> None:
        self.a._check()

    @invariant()
    def matches_the_oracle(self) -> None:
        """The public view agrees with the oracle (reading it settles a pending run)."""
        if self.hold:
            self.hold = False
            return
        self.same_state_as_the_oracle()
        self.allocations_are_disjoint_unreserved_and_in_their_pools()
        self.statistics_and_free_blocks_match_the_oracle()

    def same_state_as_the_oracle(self) -> None:
        a = self.a
        assert a.placement == self.placement
        assert a.pools == tuple(self.pools)
        assert a.allocations() == tuple(Allocation(p, self.allocs[p]) for p in sorted(self.allocs))
        assert a.reserved() == tuple(sorted(self.resv.elements()))
        assert len(a) == len(self.allocs)
        for pool in self.pools:
            assert a.cursor(pool).value == self.cursors[pool], f"cursor of {pool}"

    def allocations_are_disjoint_unreserved_and_in_their_pools(self) -> None:
        allocated = [item.prefix for item in self.a.allocations()]
        for before, after in pairwise(allocated):
            if before.version == after.version:
                assert before.last < after.value, f"{before} and {after} overlap"
        taken = ipset(allocated)
        assert taken.size == sum(p.num_addresses for p in allocated)
        assert not (taken & ipset(self.resv)), "an allocation overlaps a reservation"
        for p in allocated:
            pool = self.pool_of(p)
            assert pool is not None, f"{p} lies in no pool"
            assert not any(q.overlaps(p) for q in self.nested(pool)), f"{p} is in a nested pool"

    def statistics_and_free_blocks_match_the_oracle(self) -> None:
        stats = self.a.statistics()
        assert stats.allocations == len(self.allocs)
        assert stats.reservations == sum(self.resv.values())
        assert [s.pool for s in stats.pools] == self.pools
        for s in stats.pools:
            own = self.own(s.pool)
            assert s.size == s.pool.num_addresses
            assert s.allocated_prefixes == len(own)
            assert s.allocated_addresses == sum(p.num_addresses for p in own)
            assert dict(s.by_prefixlen) == dict(Counter(p.prefixlen for p in own))
            free = self.free(s.pool)
            assert s.free_addresses == free.size
            cidrs = [(int(c.value), int(c.prefixlen)) for c in free.iter_cidrs()]
            assert [(b.value, b.prefixlen) for b in self.a.free_blocks(s.pool)] == cidrs
            assert s.largest_free_prefixlen == min((n for _, n in cidrs), default=None)
            assert s.unavailable_addresses == s.size - s.allocated_addresses - free.size


TestAllocatorMachine = AllocatorMachine.TestCase
