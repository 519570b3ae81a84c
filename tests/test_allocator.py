"""Unit and property tests of PrefixAllocator.

Expected placements are worked out by hand from the placement rules (Kubernetes' cidrset for
next-fit: a cursor per pool from index 0, scan forward for the first free block, wrap once, the
cursor moves just past the block taken; occupy, release and reserve leave it alone). Free space
is checked against ``netaddr.IPSet`` as an independent oracle.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import threading
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypeVar

import netaddr
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipv6alloc import (
    Allocation,
    ConfigurationError,
    InvalidPrefixError,
    Ipv6AllocError,
    NotAllocatedError,
    NotInPoolError,
    Placement,
    PoolExhaustedError,
    Prefix,
    PrefixAllocator,
    PrefixConflictError,
    SnapshotError,
    UnknownPoolError,
)
from ipv6alloc.strategies import allocators, prefixes

if TYPE_CHECKING:
    from collections.abc import Hashable

P = Prefix.parse
E = TypeVar("E", bound=BaseException)


def texts(items: object) -> list[str]:
    """The text of each prefix (or allocation's prefix) in ``items``."""
    assert isinstance(items, list | tuple)
    return [str(x.prefix if isinstance(x, Allocation) else x) for x in items]


def raises_message(cls: type[E], message: str) -> pytest.RaisesExc[E]:
    """``pytest.raises`` for ``cls`` with exactly ``message``."""
    return pytest.raises(cls, match="^" + re.escape(message) + "$")


def oracle_free(
    pool: str, taken: list[str] | tuple[str, ...] | list[Prefix]
) -> list[tuple[int, int]]:
    """``(value, prefixlen)`` of the maximal free CIDRs of ``pool`` per netaddr."""
    free = netaddr.IPSet([pool]) - netaddr.IPSet([str(t) for t in taken])
    return [(int(c.value), int(c.prefixlen)) for c in free.iter_cidrs()]


def as_pairs(blocks: tuple[Prefix, ...]) -> list[tuple[int, int]]:
    return [(p.value, p.prefixlen) for p in blocks]


# -- construction -------------------------------------------------------------------------------


def test_empty_allocator() -> None:
    a = PrefixAllocator()
    assert a.pools == ()
    assert len(a) == 0
    assert a.placement == "lowest"
    assert a.allocations() == ()
    with raises_message(PoolExhaustedError, "no pool can hold a /64"):
        a.allocate(64)
    a._check()


def test_unknown_placement_is_a_configuration_error() -> None:
    with raises_message(
        ConfigurationError, "placement must be 'lowest' or 'next-fit', not 'best-fit'"
    ) as info:
        PrefixAllocator(["10.0.0.0/24"], placement="best-fit")  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_same_pool_twice_is_a_configuration_error() -> None:
    with raises_message(ConfigurationError, "pool '2001:db8::/64' is given twice"):
        PrefixAllocator(["2001:db8::/64", "2001:DB8:0:0::/64"])


def test_pools_keep_the_order_given() -> None:
    a = PrefixAllocator(["10.0.1.0/24", "2001:db8::/64", "10.0.0.0/24"])
    assert texts(a.pools) == ["10.0.1.0/24", "2001:db8::/64", "10.0.0.0/24"]


def test_invalid_pool_text_is_an_invalid_prefix_error() -> None:
    with raises_message(
        InvalidPrefixError, "'10.0.0.1/24' has host bits set (the prefix is '10.0.0.0/24')"
    ):
        PrefixAllocator(["10.0.0.1/24"])


# -- lowest placement ---------------------------------------------------------------------------


def test_lowest_takes_the_lowest_aligned_free_block() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    assert str(a.allocate(26)) == "10.0.0.0/26"
    assert str(a.allocate(25)) == "10.0.0.128/25"  # 10.0.0.0/25 is partly taken
    assert str(a.allocate(26)) == "10.0.0.64/26"
    with raises_message(PoolExhaustedError, "pool '10.0.0.0/24' has no free /32 left") as info:
        a.allocate(32, pool="10.0.0.0/24")
    assert not isinstance(info.value, ValueError | LookupError)
    with raises_message(PoolExhaustedError, "pool '10.0.0.0/24' has no free /26 left"):
        a.allocate(26)  # the only pool tried is named
    a.release("10.0.0.0/26")
    assert str(a.allocate(27)) == "10.0.0.0/27"
    assert str(a.allocate(28)) == "10.0.0.32/28"
    a.release("10.0.0.128/25")
    assert str(a.allocate(27)) == "10.0.0.128/27"  # 10.0.0.32/27 holds 10.0.0.32/28
    a._check()


def test_lowest_skips_reserved_node_address() -> None:
    # The seed's node 2001:a:b:2875::7952 in its /64: the pod /80 must not contain it.
    a = PrefixAllocator(["2001:a:b:2875::/64"], reserved=["2001:a:b:2875::7952"])
    assert str(a.allocate(80)) == "2001:a:b:2875:1::/80"
    assert str(a.allocate(80)) == "2001:a:b:2875:2::/80"
    assert str(a.allocate(112)) == "2001:a:b:2875::1:0/112"
    a._check()


def test_lowest_is_the_default_and_ignores_the_cursor() -> None:
    a = PrefixAllocator(["10.0.0.0/22"])
    assert texts([a.allocate(24) for _ in range(2)]) == ["10.0.0.0/24", "10.0.1.0/24"]
    a.release("10.0.0.0/24")
    assert str(a.allocate(24)) == "10.0.0.0/24"
    assert str(a.cursor("10.0.0.0/22")) == "10.0.0.0/32"


# -- next-fit placement (Kubernetes' cidrset) ---------------------------------------------------


def test_next_fit_follows_the_cidrset_cursor() -> None:
    a = PrefixAllocator(["10.0.0.0/22"], placement="next-fit")
    pool = "10.0.0.0/22"
    assert a.placement == "next-fit"
    assert str(a.cursor(pool)) == "10.0.0.0/32"
    assert str(a.allocate(24)) == "10.0.0.0/24"
    assert str(a.cursor(pool)) == "10.0.1.0/32"
    assert str(a.allocate(24)) == "10.0.1.0/24"
    a.release("10.0.0.0/24")
    assert str(a.cursor(pool)) == "10.0.2.0/32", "release does not move the cursor"
    assert str(a.allocate(24)) == "10.0.2.0/24", "not the freed 10.0.0.0/24"
    assert str(a.allocate(24)) == "10.0.3.0/24"
    assert str(a.cursor(pool)) == "10.0.0.0/32", "past the end the cursor wraps to the start"
    assert str(a.allocate(24)) == "10.0.0.0/24"
    with raises_message(PoolExhaustedError, "pool '10.0.0.0/22' has no free /24 left"):
        a.allocate(24, pool=pool)
    assert str(a.cursor(pool)) == "10.0.1.0/32"
    a._check()


def test_next_fit_cursor_ignores_occupy_release_and_reserve() -> None:
    a = PrefixAllocator(["10.0.0.0/22"], placement="next-fit")
    pool = "10.0.0.0/22"
    assert str(a.allocate(24)) == "10.0.0.0/24"
    a.occupy("10.0.2.0/24", owner="old-node")
    assert str(a.cursor(pool)) == "10.0.1.0/32"
    assert str(a.allocate(24)) == "10.0.1.0/24"
    assert str(a.allocate(24)) == "10.0.3.0/24", "skips the occupied 10.0.2.0/24"
    assert str(a.cursor(pool)) == "10.0.0.0/32"
    a.release("10.0.1.0/24")
    assert str(a.allocate(24)) == "10.0.1.0/24", "found by scanning forward from 10.0.0.0"
    assert str(a.cursor(pool)) == "10.0.2.0/32"
    a.release("10.0.0.0/24")
    a.reserve("10.0.0.0/24")
    a.unreserve("10.0.0.0/24")
    a.release("10.0.2.0/24")
    assert str(a.cursor(pool)) == "10.0.2.0/32"
    assert str(a.allocate(24)) == "10.0.2.0/24"
    a._check()


def test_next_fit_mixed_lengths_search_from_the_aligned_block_at_the_cursor() -> None:
    a = PrefixAllocator(["10.0.0.0/22"], placement="next-fit")
    expected = [
        (26, "10.0.0.0/26", "10.0.0.64"),
        (24, "10.0.1.0/24", "10.0.2.0"),  # the first /24 boundary at or after 10.0.0.64
        (26, "10.0.2.0/26", "10.0.2.64"),
        (25, "10.0.2.128/25", "10.0.3.0"),
        (26, "10.0.3.0/26", "10.0.3.64"),
        (25, "10.0.3.128/25", "10.0.0.0"),  # ends at the pool's end: wrap
        (25, "10.0.0.128/25", "10.0.1.0"),
        (26, "10.0.2.64/26", "10.0.2.128"),
    ]
    for prefixlen, block, cursor in expected:
        assert str(a.allocate(prefixlen)) == block
        assert str(a.cursor("10.0.0.0/22")) == cursor + "/32"
        if block == "10.0.2.0/26":
            # No /23 is free anywhere, whether searched from the cursor or after wrapping.
            with raises_message(PoolExhaustedError, "pool '10.0.0.0/22' has no free /23 left"):
                a.allocate(23, pool="10.0.0.0/22")
            assert str(a.cursor("10.0.0.0/22")) == "10.0.2.64/32"
    a._check()


def test_next_fit_cursor_per_pool() -> None:
    a = PrefixAllocator(["10.0.0.0/23", "10.1.0.0/23"], placement="next-fit")
    assert str(a.allocate(24, pool="10.1.0.0/23")) == "10.1.0.0/24"
    assert str(a.cursor("10.0.0.0/23")) == "10.0.0.0/32"
    assert str(a.cursor("10.1.0.0/23")) == "10.1.1.0/32"
    assert str(a.allocate(24)) == "10.0.0.0/24"
    assert str(a.allocate(24, pool="10.1.0.0/23")) == "10.1.1.0/24"
    with raises_message(UnknownPoolError, "'10.2.0.0/23' is not a pool of this allocator") as info:
        a.cursor("10.2.0.0/23")
    assert isinstance(info.value, LookupError)


@given(st.lists(st.booleans(), max_size=40), st.data())
def test_next_fit_with_one_length_is_cidrset(steps: list[bool], data: st.DataObject) -> None:
    """The classic bitmap cidrset, written from its description, as a model for one length."""
    slots = 16
    a = PrefixAllocator(["10.0.0.0/20"], placement="next-fit")
    used = [False] * slots
    next_candidate = 0
    for allocate in steps:
        if allocate:
            for i in range(slots):
                candidate = (next_candidate + i) % slots
                if not used[candidate]:
                    used[candidate] = True
                    next_candidate = (candidate + 1) % slots
                    assert a.allocate(24) == Prefix(4, (10 << 24) + (candidate << 8), 24)
                    break
            else:
                with pytest.raises(PoolExhaustedError):
                    a.allocate(24)
        elif any(used):
            index = data.draw(st.sampled_from([i for i in range(slots) if used[i]]))
            used[index] = False
            a.release(Prefix(4, (10 << 24) + (index << 8), 24))
        assert a.cursor("10.0.0.0/20").value == (10 << 24) + (next_candidate << 8)
    a._check()


# -- no slot cap --------------------------------------------------------------------------------


def test_thousands_of_80s_from_a_32() -> None:
    a = PrefixAllocator(["2001:db8::/32"])
    base = 0x20010DB8 << 96
    got = [a.allocate(80) for _ in range(3000)]
    assert got == [Prefix(6, base + (i << 48), 80) for i in range(3000)]
    assert str(got[1]) == "2001:db8:0:0:1::/80"
    assert len(a) == 3000
    stats = a.statistics().pools[0]
    assert stats.allocated_prefixes == 3000
    assert stats.free_addresses == 2**96 - 3000 * 2**48
    # The free space is one range: a few CIDRs, not a slot per /80 (2**48 of them).
    free = a.free_blocks("2001:db8::/32")
    assert as_pairs(free) == oracle_free("2001:db8::/32", [str(p) for p in got])
    assert len(free) < 64
    a._check()


def test_thousands_of_128s_from_a_64_next_fit() -> None:
    a = PrefixAllocator(["2001:db8:0:1::/64"], placement="next-fit")
    base = (0x20010DB8 << 96) | (1 << 64)
    got = [a.allocate(128, owner=f"pod-{i}") for i in range(2000)]
    assert got == [Prefix(6, base + i, 128) for i in range(2000)]
    assert str(got[-1]) == "2001:db8:0:1::7cf/128"
    assert a.owner_of("2001:db8:0:1::7cf") == "pod-1999"
    assert a.cursor("2001:db8:0:1::/64").value == base + 2000
    a._check()


def test_a_whole_ipv6_space_pool() -> None:
    a = PrefixAllocator(["::/0", "0.0.0.0/0"])
    assert str(a.allocate(1)) == "::/1", "the first pool given is tried first"
    assert str(a.allocate(1, version=4)) == "0.0.0.0/1"
    assert str(a.allocate(128, version=6)) == "8000::/128"
    assert a.statistics().pools[0].size == 2**128
    a._check()


# -- nested pools -------------------------------------------------------------------------------


def test_outer_pool_never_allocates_inside_a_nested_pool() -> None:
    a = PrefixAllocator(["2001:db8::/116", "2001:db8::100/120"])
    outer = [a.allocate(120, pool="2001:db8::/116") for _ in range(15)]
    assert "2001:db8::100/120" not in texts(outer)
    assert texts(outer[:3]) == ["2001:db8::/120", "2001:db8::200/120", "2001:db8::300/120"]
    with raises_message(PoolExhaustedError, "pool '2001:db8::/116' has no free /120 left"):
        a.allocate(120, pool="2001:db8::/116")
    assert str(a.allocate(124, pool="2001:db8::100/120")) == "2001:db8::100/124"
    # Without pool=, the pools are tried in the order given: the outer one is full.
    assert str(a.allocate(124)) == "2001:db8::110/124"
    stats = {str(s.pool): s for s in a.statistics().pools}
    assert stats["2001:db8::/116"].allocated_addresses == 15 * 256
    assert stats["2001:db8::/116"].unavailable_addresses == 256
    assert stats["2001:db8::100/120"].allocated_addresses == 32
    assert a.lookup("2001:db8::105") == Allocation(P("2001:db8::100/124"), None)
    a._check()


def test_whole_nested_pool_may_be_occupied() -> None:
    a = PrefixAllocator(["2001:db8::/64", "2001:db8::100/120"])
    assert str(a.occupy("2001:db8::100/120", owner="node-c")) == "2001:db8::100/120"
    assert a.owner_of("2001:db8::1ff") == "node-c"
    stats = {str(s.pool): s for s in a.statistics().pools}
    assert stats["2001:db8::100/120"].allocated_prefixes == 1
    assert stats["2001:db8::/64"].allocated_prefixes == 0
    with raises_message(
        PrefixConflictError,
        "pool '2001:db8::100/120' still holds 1 allocation(s); release them first",
    ):
        a.remove_pool("2001:db8::100/120")
    a._check()


def test_occupying_across_a_nested_pool_is_a_conflict() -> None:
    a = PrefixAllocator(["2001:db8::/64", "2001:db8::100/120"])
    with raises_message(
        PrefixConflictError, "'2001:db8::/119' overlaps pool '2001:db8::100/120'"
    ) as info:
        a.occupy("2001:db8::/119")
    assert isinstance(info.value, ValueError)
    assert str(a.occupy("2001:db8::/120")) == "2001:db8::/120"
    a._check()


def test_add_pool_around_existing_pools_and_allocations() -> None:
    a = PrefixAllocator(["10.0.0.64/26"])
    a.occupy("10.0.0.64/28", owner="n1")
    assert str(a.add_pool("10.0.0.0/24")) == "10.0.0.0/24"
    assert str(a.allocate(26, pool="10.0.0.0/24")) == "10.0.0.0/26"
    assert str(a.allocate(26, pool="10.0.0.0/24")) == "10.0.0.128/26", "skips the nested /26"
    assert a.lookup("10.0.0.70") == Allocation(P("10.0.0.64/28"), "n1")
    a._check()


def test_add_pool_conflicts() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    a.occupy("10.0.0.0/28", owner="n1")
    a.occupy("10.0.0.64/26")
    with raises_message(
        PrefixConflictError, "pool '10.0.0.0/26' overlaps allocation '10.0.0.0/28' (owner 'n1')"
    ):
        a.add_pool("10.0.0.0/26")
    with raises_message(
        PrefixConflictError, "pool '10.0.0.96/27' lies inside allocation '10.0.0.64/26'"
    ):
        a.add_pool("10.0.0.96/27")
    with raises_message(
        PrefixConflictError, "pool '10.0.0.64/27' overlaps allocation '10.0.0.64/26'"
    ):
        a.add_pool("10.0.0.64/27")
    with raises_message(
        PrefixConflictError, "pool '10.0.0.64/26' overlaps allocation '10.0.0.64/26'"
    ):
        a.add_pool("10.0.0.64/26")
    assert texts(a.pools) == ["10.0.0.0/24"]
    a._check()


def test_remove_pool_returns_its_space_to_the_enclosing_pool() -> None:
    a = PrefixAllocator(["10.0.0.0/25", "10.0.0.0/26"])
    assert str(a.allocate(26, pool="10.0.0.0/25")) == "10.0.0.64/26"
    with raises_message(PoolExhaustedError, "pool '10.0.0.0/25' has no free /26 left"):
        a.allocate(26, pool="10.0.0.0/25")
    a.remove_pool("10.0.0.0/26")
    assert texts(a.pools) == ["10.0.0.0/25"]
    assert str(a.allocate(26, pool="10.0.0.0/25")) == "10.0.0.0/26"
    with raises_message(UnknownPoolError, "'10.0.0.0/26' is not a pool of this allocator"):
        a.remove_pool("10.0.0.0/26")
    a._check()


def test_remove_middle_pool_reparents_its_children() -> None:
    a = PrefixAllocator(["10.0.0.0/24", "10.0.0.0/25", "10.0.0.0/26"])
    a.occupy("10.0.0.0/27", owner="inner")
    a.remove_pool("10.0.0.0/25")
    # The /26 is now nested directly in the /24, which gets 10.0.0.64/26 back.
    assert str(a.allocate(26, pool="10.0.0.0/24")) == "10.0.0.64/26"
    assert str(a.allocate(26, pool="10.0.0.0/24")) == "10.0.0.128/26"
    assert a.owner_of("10.0.0.0/27") == "inner"
    a._check()


# -- occupy -------------------------------------------------------------------------------------


def test_occupy_is_idempotent_for_the_same_owner() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    for owner in ("node-a", None):
        prefix = "10.0.0.0/26" if owner else "10.0.0.64/26"
        assert str(a.occupy(prefix, owner=owner)) == prefix
        assert str(a.occupy(prefix, owner=owner)) == prefix
    assert a.allocations() == (
        Allocation(P("10.0.0.0/26"), "node-a"),
        Allocation(P("10.0.0.64/26"), None),
    )
    a._check()


def test_occupy_conflicts_name_the_allocation_and_owner() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    a.occupy("10.0.0.0/25", owner="node-a")
    a.occupy("10.0.0.128/26")
    cases = [
        ("10.0.0.0/25", "node-b", "'10.0.0.0/25' is allocated already (owner 'node-a')"),
        ("10.0.0.0/25", None, "'10.0.0.0/25' is allocated already (owner 'node-a')"),
        ("10.0.0.128/26", "node-b", "'10.0.0.128/26' is allocated already"),
        ("10.0.0.0/26", None, "'10.0.0.0/26' overlaps allocation '10.0.0.0/25' (owner 'node-a')"),
        ("10.0.0.64/32", "x", "'10.0.0.64/32' overlaps allocation '10.0.0.0/25' (owner 'node-a')"),
        ("10.0.0.128/25", None, "'10.0.0.128/25' overlaps allocation '10.0.0.128/26'"),
    ]
    for prefix, owner, message in cases:
        with raises_message(PrefixConflictError, message) as info:
            a.occupy(prefix, owner=owner)
        assert isinstance(info.value, ValueError)
    # Overlapping two allocations: the message names one of them.
    with pytest.raises(
        PrefixConflictError,
        match=r"^'10\.0\.0\.0/24' overlaps allocation "
        r"'10\.0\.0\.(0/25' \(owner 'node-a'\)|128/26')$",
    ):
        a.occupy("10.0.0.0/24")
    assert len(a) == 2
    a._check()


def test_occupy_conflicts_name_the_reservation() -> None:
    a = PrefixAllocator(["10.0.0.0/24"], reserved=["10.0.0.128/28", "10.0.0.144/28"])
    with pytest.raises(
        PrefixConflictError,
        match=r"^'10\.0\.0\.128/25' overlaps reservation '10\.0\.0\.1(28|44)/28'$",
    ):
        a.occupy("10.0.0.128/25")
    with raises_message(
        PrefixConflictError, "'10.0.0.148/30' overlaps reservation '10.0.0.144/28'"
    ):
        a.occupy("10.0.0.148/30")
    a.reserve("10.0.0.0/25")
    a.reserve("10.0.0.8/29")
    with raises_message(PrefixConflictError, "'10.0.0.8/30' overlaps reservation '10.0.0.0/25'"):
        a.occupy("10.0.0.8/30")
    a._check()


def test_occupy_outside_every_pool() -> None:
    a = PrefixAllocator(["10.0.0.0/24", "2001:db8::/64"])
    for prefix in ("10.0.1.0/24", "10.0.0.0/23", "2001:db8:0:1::/64", "10.0.0.0/8"):
        with raises_message(NotInPoolError, f"'{prefix}' is not inside any pool") as info:
            a.occupy(prefix)
        assert isinstance(info.value, ValueError)
        assert not isinstance(info.value, LookupError)
    a._check()


# -- release ------------------------------------------------------------------------------------


def test_release_needs_the_exact_allocation() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    a.occupy("10.0.0.0/25", owner="n")
    for prefix, quoted in [
        ("10.0.0.0/26", "'10.0.0.0/26'"),
        ("10.0.0.0/24", "'10.0.0.0/24'"),
        ("10.0.0.128/25", "'10.0.0.128/25'"),
        ("10.0.0.0", "'10.0.0.0/32'"),
    ]:
        with raises_message(NotAllocatedError, f"{quoted} is not allocated") as info:
            a.release(prefix)
        assert isinstance(info.value, LookupError)
        assert not isinstance(info.value, ValueError)
    a.release(ipaddress.ip_network("10.0.0.0/25"))
    assert len(a) == 0
    with raises_message(NotAllocatedError, "'10.0.0.0/25' is not allocated"):
        a.release("10.0.0.0/25")
    a.occupy("10.0.0.7/32")
    a.release("10.0.0.7")
    a._check()


# -- reservations -------------------------------------------------------------------------------


def test_reservations_count() -> None:
    a = PrefixAllocator(["10.0.0.0/30"])
    assert str(a.reserve("10.0.0.0/31")) == "10.0.0.0/31"
    assert str(a.reserve("10.0.0.0/31")) == "10.0.0.0/31"
    assert texts(a.reserved()) == ["10.0.0.0/31", "10.0.0.0/31"]
    assert a.statistics().reservations == 2
    a.unreserve("10.0.0.0/31")
    assert str(a.allocate(31)) == "10.0.0.2/31", "still reserved once"
    a.unreserve("10.0.0.0/31")
    assert str(a.allocate(31)) == "10.0.0.0/31"
    with raises_message(NotAllocatedError, "'10.0.0.0/31' is not reserved") as info:
        a.unreserve("10.0.0.0/31")
    assert isinstance(info.value, LookupError)
    a._check()


def test_reservations_nest_and_unnest() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    a.reserve("10.0.0.0/25")
    a.reserve("10.0.0.0/26")
    a.reserve("10.0.0.64/32")
    a._check()
    assert texts(a.reserved()) == ["10.0.0.0/25", "10.0.0.0/26", "10.0.0.64/32"]
    assert as_pairs(a.free_blocks("10.0.0.0/24")) == oracle_free("10.0.0.0/24", ["10.0.0.0/25"])
    a.unreserve("10.0.0.0/25")
    a._check()
    assert as_pairs(a.free_blocks("10.0.0.0/24")) == oracle_free(
        "10.0.0.0/24", ["10.0.0.0/26", "10.0.0.64/32"]
    )
    assert str(a.allocate(26)) == "10.0.0.128/26"
    assert str(a.allocate(27)) == "10.0.0.96/27"
    assert str(a.allocate(32)) == "10.0.0.65/32"


def test_reserve_conflicts_with_an_allocation() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    a.occupy("10.0.0.0/25", owner="node-a")
    with raises_message(
        PrefixConflictError,
        "cannot reserve '10.0.0.0/26': it overlaps allocation '10.0.0.0/25' (owner 'node-a')",
    ):
        a.reserve("10.0.0.0/26")
    with raises_message(
        PrefixConflictError,
        "cannot reserve '10.0.0.0/16': it overlaps allocation '10.0.0.0/25' (owner 'node-a')",
    ):
        a.reserve("10.0.0.0/16")
    assert a.reserved() == ()
    a._check()


def test_reservation_outside_pools_applies_to_pools_added_later() -> None:
    a = PrefixAllocator(reserved=["2001:db8::", "10.0.0.0/25"])
    a.add_pool("2001:db8::/126")
    a.add_pool("10.0.0.0/24")
    assert str(a.allocate(31)) == "10.0.0.128/31"  # the IPv6 pool cannot hold a /31
    assert str(a.allocate(127, version=6)) == "2001:db8::2/127"
    with raises_message(NotInPoolError, "'10.0.1.0/24' is not inside any pool"):
        a.occupy("10.0.1.0/24")
    a._check()


def test_reservation_covering_a_pool() -> None:
    a = PrefixAllocator(["10.0.0.0/24", "10.0.0.0/26"])
    a.reserve("10.0.0.0/25")
    with raises_message(PoolExhaustedError, "pool '10.0.0.0/26' has no free /32 left"):
        a.allocate(32, pool="10.0.0.0/26")
    a.unreserve("10.0.0.0/25")
    assert str(a.allocate(32, pool="10.0.0.0/26")) == "10.0.0.0/32"
    assert str(a.allocate(26, pool="10.0.0.0/24")) == "10.0.0.64/26"
    a._check()


# -- queries ------------------------------------------------------------------------------------


def test_lookup_and_owner_of() -> None:
    a = PrefixAllocator(["10.0.0.0/16", "2001:db8::/48"])
    a.occupy("10.0.1.0/24", owner="n1")
    a.occupy("10.0.2.0/24")
    a.occupy("2001:db8:0:1::/64", owner=7)
    assert a.lookup("10.0.1.9") == Allocation(P("10.0.1.0/24"), "n1")
    assert a.lookup("10.0.1.128/25") == Allocation(P("10.0.1.0/24"), "n1")
    assert a.lookup("10.0.1.0/24") == Allocation(P("10.0.1.0/24"), "n1")
    assert a.lookup("10.0.2.0/23") is None, "a prefix larger than the allocation"
    assert a.lookup("10.0.0.0/23") is None
    assert a.lookup("10.0.0.255") is None
    assert a.lookup("10.0.3.0") is None
    assert a.lookup("2001:db8:0:1:ffff::") == Allocation(P("2001:db8:0:1::/64"), 7)
    assert a.lookup("0.0.0.0") is None
    assert a.owner_of("10.0.1.200") == "n1"
    assert a.owner_of(ipaddress.ip_address("2001:db8:0:1::1")) == 7
    assert a.owner_of("10.0.2.0/24") is None
    with raises_message(NotAllocatedError, "'10.0.3.3' is not allocated"):
        a.owner_of("10.0.3.3")


def test_allocations_in_address_order_ipv4_first() -> None:
    a = PrefixAllocator(["2001:db8::/48", "10.0.0.0/16"])
    a.occupy("2001:db8:0:2::/64", owner="b")
    a.occupy("10.0.5.0/24")
    a.occupy("2001:db8::/64", owner="a")
    a.occupy("10.0.1.0/24", owner=1.5)
    assert a.allocations() == (
        Allocation(P("10.0.1.0/24"), 1.5),
        Allocation(P("10.0.5.0/24"), None),
        Allocation(P("2001:db8::/64"), "a"),
        Allocation(P("2001:db8:0:2::/64"), "b"),
    )
    assert len(a) == 4


def test_free_blocks_match_netaddr_by_hand() -> None:
    a = PrefixAllocator(["10.0.0.0/24", "10.0.0.192/26"], reserved=["10.0.0.0/30"])
    assert str(a.allocate(26)) == "10.0.0.64/26"
    assert str(a.allocate(28)) == "10.0.0.16/28"
    assert texts(list(a.free_blocks("10.0.0.0/24"))) == [
        "10.0.0.4/30",
        "10.0.0.8/29",
        "10.0.0.32/27",
        "10.0.0.128/26",
    ]
    assert as_pairs(a.free_blocks("10.0.0.0/24")) == oracle_free(
        "10.0.0.0/24", ["10.0.0.0/30", "10.0.0.64/26", "10.0.0.16/28", "10.0.0.192/26"]
    )
    assert texts(list(a.free_blocks("10.0.0.192/26"))) == ["10.0.0.192/26"]
    with raises_message(UnknownPoolError, "'10.0.0.0/25' is not a pool of this allocator"):
        a.free_blocks("10.0.0.0/25")


@given(
    st.lists(prefixes(within="2001:db8::/120"), max_size=25),
    st.lists(prefixes(within="2001:db8::/120", min_prefixlen=124), max_size=3),
)
def test_free_blocks_match_netaddr(claims: list[Prefix], reserve: list[Prefix]) -> None:
    pool = "2001:db8::/120"
    a = PrefixAllocator([pool], reserved=reserve)
    taken = netaddr.IPSet([str(r) for r in reserve])
    held: set[Prefix] = set()
    for p in claims:
        # Occupying a held prefix again with the same owner is a no-op, not a conflict.
        overlaps = p not in held and bool(taken & netaddr.IPSet([str(p)]))
        try:
            a.occupy(p)
        except PrefixConflictError:
            assert overlaps
        else:
            assert not overlaps
            taken.add(str(p))
            held.add(p)
    a._check()
    expected = netaddr.IPSet([pool]) - taken
    assert as_pairs(a.free_blocks(pool)) == [
        (int(c.value), int(c.prefixlen)) for c in expected.iter_cidrs()
    ]
    stats = a.statistics().pools[0]
    assert stats.free_addresses == expected.size
    largest = min((int(c.prefixlen) for c in expected.iter_cidrs()), default=None)
    assert stats.largest_free_prefixlen == largest


# -- statistics ---------------------------------------------------------------------------------


def test_statistics_by_hand() -> None:
    a = PrefixAllocator(["10.0.0.0/24", "10.0.0.192/26"], reserved=["10.0.0.0/30"])
    a.allocate(26)  # 10.0.0.64/26
    a.allocate(28, owner="x")  # 10.0.0.16/28
    a.allocate(27, pool="10.0.0.192/26")  # 10.0.0.192/27
    stats = a.statistics()
    assert stats.allocations == 3
    assert stats.reservations == 1
    outer, inner = stats.pools
    assert outer.pool == P("10.0.0.0/24")
    assert outer.size == 256
    assert outer.allocated_addresses == 64 + 16
    assert outer.allocated_prefixes == 2
    assert outer.unavailable_addresses == 4 + 64
    assert outer.free_addresses == 256 - 80 - 68
    assert outer.largest_free_prefixlen == 26  # 10.0.0.128/26
    assert dict(outer.by_prefixlen) == {26: 1, 28: 1}
    assert list(outer.by_prefixlen) == [26, 28]
    assert math.isclose(outer.utilization, 80 / 188)
    assert outer.free_prefixes(28) == 108 // 16
    assert outer.free_prefixes(32) == 108
    assert inner.pool == P("10.0.0.192/26")
    assert (inner.size, inner.allocated_addresses, inner.unavailable_addresses) == (64, 32, 0)
    assert (inner.free_addresses, inner.largest_free_prefixlen) == (32, 27)
    assert math.isclose(inner.utilization, 0.5)


def test_statistics_are_frozen() -> None:
    a = PrefixAllocator(["10.0.0.0/30"], reserved=["10.0.0.0/30"])
    stats = a.statistics()
    pool = stats.pools[0]
    assert pool.largest_free_prefixlen is None
    assert pool.utilization == 1.0, "nothing was available to allocate"
    with pytest.raises(AttributeError):
        pool.size = 1  # type: ignore[misc]
    before = a.statistics()
    a.unreserve("10.0.0.0/30")
    a.allocate(31)
    assert before == stats
    assert before.pools[0].free_addresses == 0
    pool.by_prefixlen[30] = 1  # a snapshot's own dict: changing it changes nothing else
    assert a.statistics().pools[0].by_prefixlen == {31: 1}


# -- allocate without pool= ---------------------------------------------------------------------


def test_allocate_tries_pools_in_order_with_version_filter() -> None:
    a = PrefixAllocator(["10.0.1.0/31", "2001:db8::/127", "10.0.0.0/31"])
    assert str(a.allocate(32)) == "10.0.1.0/32"
    assert str(a.allocate(32)) == "10.0.1.1/32"
    assert str(a.allocate(32)) == "10.0.0.0/32", "the first pool is full: the next IPv4 pool"
    assert str(a.allocate(128)) == "2001:db8::/128", "only the IPv6 pool can hold a /128"
    assert str(a.allocate(32, version=4)) == "10.0.0.1/32"
    with raises_message(PoolExhaustedError, "no IPv4 pool has a free /32 left (2 pools tried)"):
        a.allocate(32, version=4)
    with raises_message(PoolExhaustedError, "no pool has a free /32 left (2 pools tried)"):
        a.allocate(32)
    with raises_message(PoolExhaustedError, "no IPv6 pool can hold a /32"):
        a.allocate(32, version=6)
    with raises_message(PoolExhaustedError, "no pool can hold a /30"):
        a.allocate(30)
    assert str(a.allocate(128, version=6)) == "2001:db8::1/128"


@pytest.mark.parametrize("prefixlen", [0, 23, 33, 128])
def test_prefixlen_that_does_not_fit_the_pool(prefixlen: int) -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    with raises_message(
        InvalidPrefixError,
        f"prefix length '{prefixlen}' does not fit pool '10.0.0.0/24' (expected 24-32)",
    ) as info:
        a.allocate(prefixlen, pool="10.0.0.0/24")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("prefixlen", "quoted"),
    [(-1, "'-1'"), (129, "'129'"), (True, "'True'"), (25.0, "'25.0'"), ("25", "\"'25'\"")],
)
def test_prefixlen_must_be_an_int_from_0_to_128(prefixlen: object, quoted: str) -> None:
    a = PrefixAllocator(["10.0.0.0/24", "2001:db8::/120"])
    message = f"prefix length {quoted} must be an integer from 0 to 128"
    for pool in ("10.0.0.0/24", None):
        with raises_message(InvalidPrefixError, message) as info:
            a.allocate(prefixlen, pool=pool)  # type: ignore[arg-type]
        assert isinstance(info.value, ValueError)
    assert len(a) == 0


def test_unknown_pool_argument() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    with raises_message(UnknownPoolError, "'10.0.0.0/25' is not a pool of this allocator") as info:
        a.allocate(26, pool="10.0.0.0/25")
    assert isinstance(info.value, LookupError)
    assert isinstance(info.value, Ipv6AllocError)


# -- snapshots ----------------------------------------------------------------------------------


def build_busy_allocator() -> PrefixAllocator:
    a = PrefixAllocator(
        ["10.0.0.0/22", "2001:db8::/48", "2001:db8:0:ff::/64"],
        placement="next-fit",
        reserved=["2001:db8::1"],
    )
    a.reserve("10.0.3.0/24")
    a.reserve("10.0.3.0/24")
    a.reserve("10.0.3.128/25")
    a.allocate(24, owner="node-a")
    a.allocate(24, owner=7)
    a.allocate(64, owner=True)
    a.allocate(64, owner=None)
    a.allocate(80, pool="2001:db8:0:ff::/64", owner=2.5)
    a.occupy("2001:db8:0:9::/64", owner="restored")
    a.release("10.0.0.0/24")
    return a


def test_snapshot_content() -> None:
    a = PrefixAllocator(["10.0.0.0/24"], placement="next-fit", reserved=["10.0.0.255"])
    a.allocate(25, owner="n1")
    assert a.snapshot() == {
        "format": "ipv6alloc.PrefixAllocator/1",
        "placement": "next-fit",
        "pools": [{"prefix": "10.0.0.0/24", "cursor": "10.0.0.128"}],
        "reserved": ["10.0.0.255/32"],
        "allocations": [{"prefix": "10.0.0.0/25", "owner": "n1"}],
    }


def test_snapshot_json_round_trip() -> None:
    a = build_busy_allocator()
    data = json.loads(json.dumps(a.snapshot()))
    b = PrefixAllocator.from_snapshot(data)
    b._check()
    assert b.snapshot() == a.snapshot()
    assert b.placement == "next-fit"
    assert b.pools == a.pools
    assert b.allocations() == a.allocations()
    assert b.reserved() == a.reserved()
    assert [b.cursor(p) for p in b.pools] == [a.cursor(p) for p in a.pools]
    assert b.statistics() == a.statistics()
    assert b.owner_of("2001:db8:0:9::1") == "restored"
    assert b.owner_of("2001:db8:0:ff::") == 2.5
    # The restored allocator continues exactly where the original stands.
    for _ in range(2):
        assert b.allocate(24) == a.allocate(24)
    with raises_message(PoolExhaustedError, "pool '10.0.0.0/22' has no free /24 left"):
        b.allocate(24, version=4)
    for _ in range(3):
        assert b.allocate(64, version=6) == a.allocate(64, version=6)
    b.unreserve("10.0.3.0/24")
    a.unreserve("10.0.3.0/24")
    assert b.snapshot() == a.snapshot()


def test_snapshot_refuses_owners_that_are_not_json_scalars() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    a.occupy("10.0.0.0/25", owner=(1, 2))
    with raises_message(
        SnapshotError,
        "owner '(1, 2)' of '10.0.0.0/25' is not a JSON scalar (str, int, float, bool or None)",
    ) as info:
        a.snapshot()
    assert isinstance(info.value, ValueError)
    a.release("10.0.0.0/25")
    a.occupy("10.0.0.0/25", owner=frozenset())
    with pytest.raises(SnapshotError, match=r"^owner 'frozenset\(\)' of '10\.0\.0\.0/25' is not"):
        a.snapshot()


def base_snapshot() -> dict[str, Any]:
    return {
        "format": "ipv6alloc.PrefixAllocator/1",
        "placement": "lowest",
        "pools": [{"prefix": "10.0.0.0/24", "cursor": "10.0.0.0"}],
        "reserved": [],
        "allocations": [],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"format": "ipv6alloc.PrefixAllocator/2"},
            (
                "unknown snapshot format 'ipv6alloc.PrefixAllocator/2' "
                "(expected 'ipv6alloc.PrefixAllocator/1')"
            ),
        ),
        (
            {"format": None},
            "unknown snapshot format 'None' (expected 'ipv6alloc.PrefixAllocator/1')",
        ),
        ({"pools": "10.0.0.0/24"}, "snapshot field 'pools' must be a list"),
        ({"pools": None}, "snapshot field 'pools' must be a list"),
        ({"reserved": {}}, "snapshot field 'reserved' must be a list"),
        ({"allocations": "x"}, "snapshot field 'allocations' must be a list"),
        ({"pools": [5]}, "each item of 'pools' must be a mapping, not '5'"),
        ({"allocations": [7]}, "each item of 'allocations' must be a mapping, not '7'"),
        ({"reserved": [1]}, "each item of 'reserved' must be text, not '1'"),
        (
            {"pools": [{"prefix": "10.0.0.0/24"}]},
            "snapshot field 'cursor' must be text, not 'None'",
        ),
        (
            {"pools": [{"prefix": 5, "cursor": "10.0.0.0"}]},
            "snapshot field 'prefix' must be text, not '5'",
        ),
        ({"allocations": [{"owner": "a"}]}, "snapshot field 'prefix' must be text, not 'None'"),
        (
            {"pools": [{"prefix": "10.0.0.0/24", "cursor": "10.0.1.0"}]},
            "cursor '10.0.1.0' lies outside pool '10.0.0.0/24'",
        ),
        (
            {"pools": [{"prefix": "10.0.0.0/24", "cursor": "10.0.0.0/24"}]},
            "invalid snapshot: '10.0.0.0/24' is not a valid IPv4 or IPv6 address or prefix",
        ),
        (
            {"placement": "best"},
            "invalid snapshot: placement must be 'lowest' or 'next-fit', not 'best'",
        ),
        (
            {"pools": [{"prefix": "10.0.0.1/24", "cursor": "10.0.0.1"}]},
            "invalid snapshot: '10.0.0.1/24' has host bits set (the prefix is '10.0.0.0/24')",
        ),
        (
            {"pools": [{"prefix": "10.0.0.0/24", "cursor": "10.0.0.0"}] * 2},
            "invalid snapshot: pool '10.0.0.0/24' is given twice",
        ),
        (
            {
                "allocations": [
                    {"prefix": "10.0.0.0/25", "owner": "a"},
                    {"prefix": "10.0.0.0/26", "owner": "b"},
                ]
            },
            "invalid snapshot: '10.0.0.0/26' overlaps allocation '10.0.0.0/25' (owner 'a')",
        ),
        (
            {
                "allocations": [
                    {"prefix": "10.0.0.0/25", "owner": "a"},
                    {"prefix": "10.0.0.0/25", "owner": "b"},
                ]
            },
            "allocation '10.0.0.0/25' is listed twice",
        ),
        (
            {"allocations": [{"prefix": "10.0.1.0/25"}]},
            "invalid snapshot: '10.0.1.0/25' is not inside any pool",
        ),
        (
            {"reserved": ["10.0.0.0/26"], "allocations": [{"prefix": "10.0.0.0/25"}]},
            "invalid snapshot: '10.0.0.0/25' overlaps reservation '10.0.0.0/26'",
        ),
        (
            {"allocations": [{"prefix": "10.0.0.0/25", "owner": [1]}]},
            "owner '[1]' is not a JSON scalar",
        ),
        (
            {"allocations": [{"prefix": "10.0.0.0/25", "owner": {"a": 1}}]},
            "owner \"{'a': 1}\" is not a JSON scalar",
        ),
    ],
)
def test_from_snapshot_validates(change: dict[str, Any], message: str) -> None:
    data = {**base_snapshot(), **change}
    with raises_message(SnapshotError, message) as info:
        PrefixAllocator.from_snapshot(data)
    assert isinstance(info.value, ValueError)


def test_from_snapshot_refuses_non_mappings() -> None:
    with raises_message(SnapshotError, "a snapshot is a mapping, not list"):
        PrefixAllocator.from_snapshot([])  # type: ignore[arg-type]


def test_from_snapshot_refuses_a_duplicated_allocation() -> None:
    # Two entries for one prefix describe no valid state, even with the same owner: the
    # snapshot was edited or corrupted, and restoring it silently would hide that.
    data = base_snapshot()
    data["allocations"] = [{"prefix": "10.0.0.0/25", "owner": "a"}] * 2
    with raises_message(SnapshotError, "allocation '10.0.0.0/25' is listed twice"):
        PrefixAllocator.from_snapshot(data)


# -- mixed inputs, threads ----------------------------------------------------------------------


def test_netaddr_and_ipaddress_objects_are_accepted() -> None:
    a = PrefixAllocator([netaddr.IPNetwork("10.0.0.0/24"), ipaddress.ip_network("2001:db8::/64")])
    assert texts(a.pools) == ["10.0.0.0/24", "2001:db8::/64"]
    assert str(a.allocate(26, pool=netaddr.IPNetwork("10.0.0.0/24"))) == "10.0.0.0/26"
    assert str(a.occupy(netaddr.IPNetwork("10.0.0.128/25"), owner="n")) == "10.0.0.128/25"
    assert a.owner_of(netaddr.IPAddress("10.0.0.200")) == "n"
    assert str(a.reserve(netaddr.IPAddress("2001:db8::"))) == "2001:db8::/128"
    assert str(a.allocate(127, pool=ipaddress.ip_network("2001:db8::/64"))) == "2001:db8::2/127"
    a.release(netaddr.IPNetwork("10.0.0.128/25"))
    a.unreserve(ipaddress.ip_address("2001:db8::"))
    assert a.lookup(netaddr.IPNetwork("10.0.0.0/27")) == Allocation(P("10.0.0.0/26"), None)
    a._check()


def test_threads_never_get_overlapping_prefixes() -> None:
    a = PrefixAllocator(["2001:db8::/48", "10.0.0.0/16"])
    results: list[list[Prefix]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def work(index: int) -> None:
        barrier.wait()
        for i in range(500):
            if i % 2:
                results[index].append(a.allocate(64, owner=index))
            else:
                results[index].append(a.allocate(28, version=4))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = [p for chunk in results for p in chunk]
    assert len(got) == 2000
    assert len(set(got)) == 2000
    assert len(a) == 2000
    for version in (4, 6):
        ranges = sorted((p.value, p.last) for p in got if p.version == version)
        assert all(prev[1] < nxt[0] for prev, nxt in pairwise(ranges))
    # Lowest placement with one length per family: together they fill the lowest blocks.
    v6 = sorted(p for p in got if p.version == 6)
    assert v6 == [Prefix(6, (0x20010DB8 << 96) + (i << 64), 64) for i in range(1000)]
    a._check()


# -- repeated requests (the pending run) ----------------------------------------------------------

REQUESTS = st.lists(
    st.tuples(
        st.sampled_from([26, 27, 28, 32, 120, 124, 126, 128]),  # prefixlen
        st.sampled_from([None, "10.0.0.0/24", "2001:db8::/120", "2001:db8::80/121"]),  # pool
        st.sampled_from([None, 4, 6]),  # version
        st.sampled_from([None, "node-a"]),  # owner
        st.booleans(),  # read the allocator after this request
    ),
    max_size=60,
)


@given(REQUESTS, st.sampled_from(["lowest", "next-fit"]))
def test_repeated_requests_give_what_one_at_a_time_gives(
    requests: list[tuple[int, str | None, int | None, str | None, bool]], placement: Placement
) -> None:
    """An allocator whose runs are settled after every call hands out the same blocks."""
    pools = ["10.0.0.0/24", "2001:db8::/120", "2001:db8::80/121"]
    fast = PrefixAllocator(pools, placement=placement, reserved=["10.0.0.77"])
    slow = PrefixAllocator(pools, placement=placement, reserved=["10.0.0.77"])
    for prefixlen, pool, version, owner, read in requests:
        outcomes: list[Prefix | type[Exception]] = []
        for a in (fast, slow):
            try:
                outcomes.append(a.allocate(prefixlen, pool=pool, version=version, owner=owner))
            except (PoolExhaustedError, InvalidPrefixError, UnknownPoolError) as error:
                outcomes.append(type(error))
            fast._check()
        len(slow)  # settles
        assert outcomes[0] == outcomes[1]
        if read:
            assert fast.snapshot() == slow.snapshot()
    assert fast.snapshot() == slow.snapshot()
    assert fast.statistics() == slow.statistics()
    fast._check()


def pending(a: PrefixAllocator) -> bool:
    """Whether allocations wait in a run, not yet indexed."""
    return a._run is not None


def test_a_run_meets_every_other_operation() -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    got = [a.allocate(28, owner="n") for _ in range(4)]
    assert texts(got) == ["10.0.0.0/28", "10.0.0.16/28", "10.0.0.32/28", "10.0.0.48/28"]
    assert pending(a), "the last two are pending"
    assert a._run is not None
    assert len(a._run.starts) == 2, "the run opened on the second call; the next two rode it"
    a._check()
    with pytest.raises(PrefixConflictError, match=re.escape("overlaps allocation '10.0.0.32/28'")):
        a.reserve("10.0.0.33")
    assert not pending(a)
    assert a.lookup("10.0.0.40") == Allocation(P("10.0.0.32/28"), "n")
    a.allocate(28)
    a.allocate(28)
    assert len(a) == 6
    a.release("10.0.0.80/28")
    assert a.allocate(28) == P("10.0.0.80/28")
    a._check()


def test_a_run_of_one_family_outlives_operations_on_the_other() -> None:
    v4 = P("10.0.0.0/24")
    a = PrefixAllocator([v4, "2001:db8::/64"])
    assert texts([a.allocate(28, pool=v4) for _ in range(2)]) == ["10.0.0.0/28", "10.0.0.16/28"]
    a.reserve("2001:db8::1")
    a.allocate(64 + 16, pool="2001:db8::/64")
    assert pending(a), "IPv6 operations leave the IPv4 run alone"
    a._check()
    assert str(a.allocate(28, pool=v4)) == "10.0.0.32/28"
    assert len(a) == 4
    a._check()


def test_one_off_requests_leave_the_run_to_the_repeated_one() -> None:
    # A cluster's nodes in turn: a /80 from each node's own subnet (asked once per pool), and a
    # /24 from the cluster pool (the same request every time). The /24s ride one run.
    v4 = P("10.0.0.0/16")
    a = PrefixAllocator([v4])
    slow = PrefixAllocator([v4])
    for i in range(6):
        for allocator in (a, slow):
            subnet = allocator.add_pool(f"2001:db8:0:{i:x}::/64")
            allocator.reserve(f"2001:db8:0:{i:x}::7")
            allocator.allocate(80, pool=subnet, owner=f"node-{i}")
            allocator.allocate(24, pool=v4, owner=f"node-{i}")
        len(slow)  # settled after every node
        if i >= 1:
            assert a._run is not None, "the repeated /24 request keeps a run"
            assert a._run.version == 4
            assert len(a._run.starts) == i - 1
    assert a.snapshot() == slow.snapshot()
    a._check()


def test_a_run_without_pool_or_version_yields_to_the_other_family() -> None:
    """Requests without ``pool=`` try every pool in order, whatever its family."""
    a = PrefixAllocator(["2001:db8::/32", "10.0.0.0/16"])
    big = a.occupy("2001:db8::/32")  # the IPv6 pool, first in order, is full
    assert str(a.allocate(32)) == "10.0.0.0/32"
    assert str(a.allocate(32)) == "10.0.0.1/32"
    a.release(big)  # the first pool has room again: the next /32 comes from it
    assert str(a.allocate(32)) == "2001:db8::/32"
    a._check()


def test_a_mutable_pool_argument_never_opens_a_run() -> None:
    a = PrefixAllocator(["10.0.0.0/24", "10.0.1.0/24"])
    net = netaddr.IPNetwork("10.0.0.0/24")
    assert str(a.allocate(26, pool=net)) == "10.0.0.0/26"
    net.value = int(netaddr.IPAddress("10.0.1.0"))  # the same object, now another pool
    assert str(a.allocate(26, pool=net)) == "10.0.1.0/26"
    text = "10.0.0.0/24"
    assert str(a.allocate(26, pool=text)) == "10.0.0.64/26"
    assert str(a.allocate(26, pool=text)) == "10.0.0.128/26"
    a._check()


@pytest.mark.parametrize("bad", [True, 28.0, "28"])
def test_a_run_never_accepts_a_prefix_length_that_only_compares_equal(bad: object) -> None:
    a = PrefixAllocator(["10.0.0.0/24"])
    a.allocate(28)
    a.allocate(28)
    with pytest.raises(InvalidPrefixError, match="must be an integer from 0 to 128"):
        a.allocate(bad)  # type: ignore[arg-type]
    a._check()


def test_threads_repeating_one_request_share_the_run_safely() -> None:
    pool = P("2001:db8::/64")
    a = PrefixAllocator([pool])
    results: list[list[Prefix]] = [[] for _ in range(4)]
    barrier = threading.Barrier(4)

    def work(index: int) -> None:
        barrier.wait()
        results[index].extend(a.allocate(80, pool=pool, owner=index) for _ in range(2000))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = sorted(p for chunk in results for p in chunk)
    assert got == [Prefix(6, pool.value + (i << 48), 80) for i in range(8000)]
    for index, chunk in enumerate(results):
        assert all(a.owner_of(p) == index for p in chunk)
    a._check()


# -- the allocators() strategy ------------------------------------------------------------------


@given(allocators(max_pools=4))
def test_generated_allocators_are_valid(a: PrefixAllocator) -> None:
    a._check()
    assert 1 <= len(a.pools) <= 4
    assert len(set(a.pools)) == len(a.pools)
    for pool in a.pools:
        assert pool.prefixlen >= pool.max_prefixlen // 2
        owner: Hashable = "probe"
        try:
            block = a.allocate(pool.max_prefixlen, pool=pool, owner=owner)
        except PoolExhaustedError:
            # Only a pool whose every address belongs to nested pools is full.
            assert a.statistics().pools[a.pools.index(pool)].free_addresses == 0
        else:
            assert block.subnet_of(pool)
    a._check()


@given(allocators(6, min_pool_prefixlen=120, max_pool_prefixlen=124, placement="next-fit"))
def test_generated_allocators_respect_their_arguments(a: PrefixAllocator) -> None:
    assert a.placement == "next-fit"
    assert all(p.version == 6 and 120 <= p.prefixlen <= 124 for p in a.pools)


def test_version_must_match_the_pool_given() -> None:
    a = PrefixAllocator(["2001:db8::/48"])
    with pytest.raises(UnknownPoolError, match=r"pool '2001:db8::/48' is not an IPv4 pool"):
        a.allocate(64, pool="2001:db8::/48", version=4)
    assert len(a) == 0


def test_a_pool_is_its_gap_index_and_stays_true_when_full() -> None:
    a = PrefixAllocator(["10.0.0.0/30", "2001:db8::/120"])
    a.reserve("2001:db8::5")
    (v4, v6) = list(a._order)
    assert list(v6) == [(v6.start, v6.start + 5), (v6.start + 6, v6.end)], "gaps of the pool"
    for _ in range(4):
        a.allocate(32, pool="10.0.0.0/30")
    assert len(a) == 4  # and the run of allocations is indexed
    assert len(v4) == 0, "no gap left"
    assert v4, "a full pool is still a pool: bool() must not follow len()"
    assert a.pool_of("10.0.0.3") == Prefix.parse("10.0.0.0/30")
    a._check()


def test_many_gaps_turn_a_pool_chunked_and_it_keeps_working() -> None:
    a = PrefixAllocator(["2001:db8::/120"])
    for x in range(0, 256, 4):  # 64 reserved addresses: 64 gaps, past the flat limit
        a.reserve(f"2001:db8::{x:x}")
    (pool,) = list(a._order)
    assert type(pool).__name__ == "_ChunkedPool"
    assert len(pool) == 64
    assert [str(a.allocate(127)) for _ in range(2)] == ["2001:db8::2/127", "2001:db8::6/127"]
    a._check()


#: Reservations of every size, aligned, in 10.0.0.0/22: networks and single addresses.
_WITHIN_RESERVED = ["10.0.0.0/22", "10.0.0.0/24", "10.0.1.0/24", "10.0.1.0/26", "10.0.2.64/26"]
_WITHIN_RESERVED += [f"10.0.{i}.{j}" for i in range(4) for j in (0, 7, 200)]
_WITHIN_POOLS = ["10.0.0.0/23", "10.0.1.0/24", "10.0.1.64/26", "10.0.2.0/24", "10.0.3.128/25"]
_WITHIN_PROBES = ["10.0.0.0/22", "10.0.0.0/23", "10.0.1.0/24", "10.0.1.64/26", "10.0.2.0/23"]


@settings(max_examples=100)
@given(
    reserved=st.lists(st.sampled_from(_WITHIN_RESERVED), max_size=12),
    pools=st.lists(st.sampled_from(_WITHIN_POOLS), unique=True, max_size=5),
    probe=st.sampled_from([*_WITHIN_PROBES, "10.0.0.7", "0.0.0.0/0"]),
)
def test_reserved_and_pools_within_match_brute_force(
    reserved: list[str], pools: list[str], probe: str
) -> None:
    a = PrefixAllocator(sorted(pools, key=lambda t: Prefix.coerce(t).prefixlen), reserved=reserved)
    box = Prefix.coerce(probe)
    expected = sorted({p for p in a.reserved() if p.subnet_of(box)})
    assert list(a.reserved_within(box)) == expected
    nested = sorted(p for p in a.pools if p.subnet_of(box) and p != box)
    assert list(a.pools_within(box)) == nested


def test_an_equal_pool_value_built_afresh_takes_the_same_path() -> None:
    same, fresh = PrefixAllocator(["2001:db8::/48"]), PrefixAllocator(["2001:db8::/48"])
    pool = "2001:db8::/48"
    got_same = [same.allocate(80, pool=pool) for _ in range(50)]
    got_fresh = [fresh.allocate(80, pool="2001:db8::/" + str(48)) for _ in range(50)]
    assert got_same == got_fresh
    assert fresh._run is not None, "repeated equal requests open a run"
    assert fresh.allocate(80, pool=Prefix.parse(pool)) == same.allocate(80, pool=pool)
    with pytest.raises(InvalidPrefixError, match="must be an integer"):
        fresh.allocate(True, pool="2001:db8::/" + str(48))
    fresh._check()
    assert fresh.snapshot() == same.snapshot()
