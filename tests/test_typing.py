"""Static types of the public API, checked by mypy (``assert_type``) and run by pytest."""

from __future__ import annotations

from collections.abc import Hashable
from typing import assert_type

import ipv6alloc
from ipv6alloc import (
    Allocation,
    AllocatorStatistics,
    Assignment,
    Decision,
    Node,
    NodeAllocator,
    Prefix,
    PrefixAllocator,
    RestoreResult,
    SafePolicy,
)


def test_prefix_types() -> None:
    p = Prefix.parse("2001:db8::/64")
    assert_type(p, Prefix)
    assert_type(p.prefixlen, int)
    assert_type(p.value, int)
    assert_type(list(p.subnets()), list[Prefix])
    assert_type(p.supernet(), Prefix)
    assert_type(p.overlaps("2001:db8::/48"), bool)
    assert p.subnet_of("2001:db8::/32")


def test_allocator_types() -> None:
    a = PrefixAllocator(["2001:db8::/48"])
    got = a.allocate(64, owner="n1")
    assert_type(got, Prefix)
    assert_type(a.lookup(got), Allocation | None)
    assert_type(a.owner_of(got), Hashable)
    assert_type(a.allocations(), tuple[Allocation, ...])
    assert_type(a.statistics(), AllocatorStatistics)
    assert_type(a.pool_of(got), Prefix | None)
    assert a.owner_of(got) == "n1"


def test_node_allocator_types() -> None:
    alloc = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24})
    assignment = alloc.assign(Node.create("n1"))
    assert_type(assignment, Assignment)
    assert_type(assignment.pod_cidrs, tuple[Prefix, ...])
    assert_type(alloc.restore("n2", ["10.0.9.0/24"]), RestoreResult)
    decision = SafePolicy().choose("2001:db8::7/64")
    assert_type(decision, Decision)
    assert str(assignment.pod_cidrs[0]) == "10.0.0.0/24"


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files(ipv6alloc).joinpath("py.typed").is_file()
