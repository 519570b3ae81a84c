"""NodeAllocator: per-node assignment, atomicity, restore, and the reference-compatible mode."""

from __future__ import annotations

import pytest

from ipv6alloc import (
    ConfigurationError,
    FixedPolicy,
    Ipv6AllocError,
    Node,
    NodeAllocator,
    PolicyError,
    PoolExhaustedError,
    Prefix,
    SafePolicy,
    TalosPolicy,
    UnknownNodeError,
)

# The article's five nodes (domain.md): name, provider subnet in interface form.
SEED = [
    ("cp-1", "2001:a:b:2875::7952/64"),
    ("worker-1", "2a00:a:0:1c4::64/64"),
    ("worker-2", "2a09:a:f:42f6::1/64"),
    ("worker-3", "2a02:a:152:202::100/121"),
    ("worker-4", "2a02:a:153:201::100/121"),
]
# What the article shows for IPv6 (the reference tool's output).
SEED_IPV6 = [
    "2001:a:b:2875::/80",
    "2a00:a:0:1c4::/80",
    "2a09:a:f:42f6::/80",
    "2a02:a:152:202::100/121",
    "2a02:a:153:201::100/121",
]


def cluster(**kwargs: object) -> NodeAllocator:
    options: dict[str, object] = {
        "node_mask": {4: 24, 6: 80},
        "service_cidrs": ["10.100.0.0/22", "fd40:10:100::/112"],
    }
    options.update(kwargs)
    return NodeAllocator(["10.0.0.0/12", "fd40:10::/64"], **options)  # type: ignore[arg-type]


def texts(prefixes: tuple[Prefix, ...]) -> list[str]:
    return [str(p) for p in prefixes]


def test_talos_mode_reproduces_the_reference_output_for_a_fresh_cluster() -> None:
    alloc = cluster(policy=TalosPolicy())
    got = [alloc.assign(Node.create(n, subnets=[s])) for n, s in SEED]
    assert [str(a.prefix(6)) for a in got] == SEED_IPV6
    # Fresh cluster, next-fit over 10.0.0.0/12 with /24: join order gives .0, .1, .2, ...
    assert [str(a.prefix(4)) for a in got] == [f"10.0.{i}.0/24" for i in range(5)]
    # podCIDRs order follows the cluster CIDR order: IPv4 first here.
    assert all(a.pod_cidrs[0].version == 4 and a.pod_cidr == a.pod_cidrs[0] for a in got)
    alloc.allocator._check()


def test_talos_mode_reserves_nothing() -> None:
    alloc = cluster(policy=TalosPolicy())
    for n, s in SEED:
        alloc.assign(Node.create(n, subnets=[s]))
    assert texts(alloc.allocator.reserved()) == ["10.100.0.0/22", "fd40:10:100::/112"]


def test_safe_policy_keeps_node_and_anycast_addresses_out() -> None:
    alloc = cluster()
    got = {n: alloc.assign(Node.create(n, subnets=[s])) for n, s in SEED}
    # A /64 gives /80s; the first /80 holds the subnet-router anycast address (and here the
    # node address), so the second /80 is taken.
    assert str(got["cp-1"].prefix(6)) == "2001:a:b:2875:1::/80"
    assert str(got["worker-1"].prefix(6)) == "2a00:a:0:1c4:1::/80"
    # A /121 whose first address is the node's: the upper /122 half.
    assert str(got["worker-3"].prefix(6)) == "2a02:a:152:202::140/122"
    for n, s in SEED:
        address = Prefix.coerce(s.split("/")[0])
        for other in got.values():
            v6 = other.prefix(6)
            assert v6 is not None
            assert not address.subnet_of(v6), f"{other.node} holds {n}'s address"
    alloc.allocator._check()


def test_assign_is_idempotent() -> None:
    alloc = cluster()
    node = Node.create("a", subnets=["2001:db8::5/64"])
    first = alloc.assign(node)
    before = alloc.snapshot()
    assert alloc.assign(node) == first
    assert alloc.get("a") == first
    assert alloc.snapshot() == before
    assert len(alloc.allocator) == 2


def test_service_cidr_inside_the_cluster_pool_is_reserved() -> None:
    alloc = NodeAllocator(
        ["10.0.0.0/16"], node_mask={4: 24}, service_cidrs=["10.0.0.0/23"], families=[4]
    )
    assert str(alloc.assign(Node.create("a")).prefix(4)) == "10.0.2.0/24"


def test_cluster_pool_that_cannot_hold_a_node_prefix_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"'fd40:10::/96' cannot hold a /80 node prefix"):
        NodeAllocator(["10.0.0.0/12", "fd40:10::/96"], node_mask={4: 24, 6: 80})


def test_two_cluster_cidrs_of_one_family_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"at most one per family") as info:
        NodeAllocator(["10.0.0.0/12", "10.16.0.0/12"], node_mask={4: 24})
    assert isinstance(info.value, ValueError)


def test_missing_node_mask_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"'10.0.0.0/12' needs a node mask"):
        NodeAllocator(["10.0.0.0/12"], node_mask={6: 80})


def test_slash_128_node_falls_back_to_the_cluster_pool_with_its_reason() -> None:
    alloc = cluster()
    a = alloc.assign(Node.create("oci", subnets=["2603:c020::1234/128"]))
    six = next(f for f in a.families if f.prefix.version == 6)
    assert six.source == "cluster"
    assert six.prefix.subnet_of("fd40:10::/64")
    assert six.prefix.prefixlen == 80
    assert len(a.skipped) == 1
    assert a.skipped[0].startswith("2603:c020::1234/128: ")
    assert "no usable provider subnet" in six.reason


def test_without_fallback_a_node_with_no_usable_subnet_is_an_error() -> None:
    alloc = cluster(fallback=False)
    with pytest.raises(PolicyError, match=r"node 'oci' has no usable IPv6 subnet"):
        alloc.assign(Node.create("oci", subnets=["2603:c020::1234/128"]))
    assert len(alloc.allocator) == 0, "the IPv4 prefix must not leak"
    assert "oci" not in alloc


def test_first_usable_subnet_wins_and_others_are_reported() -> None:
    alloc = cluster()
    a = alloc.assign(
        Node.create("n", subnets=["2001:db8::1/128", "2001:db8:1::9/64", "2001:db8:2::9/64"])
    )
    v6 = a.prefix(6)
    assert v6 is not None
    assert v6.subnet_of("2001:db8:1::/64")
    assert len(a.skipped) == 1


def test_ipv4_exhaustion_leaks_no_ipv6_and_ipv6_exhaustion_leaks_no_ipv4() -> None:
    alloc = NodeAllocator(
        ["10.0.0.0/23", "fd40:10::/79"], node_mask={4: 24, 6: 80}, policy=TalosPolicy()
    )
    alloc.assign(Node.create("a"))
    alloc.assign(Node.create("b"))
    before = alloc.allocator.allocations()
    with pytest.raises(PoolExhaustedError):
        alloc.assign(Node.create("c", subnets=["2001:db8::1/64"]))
    assert alloc.allocator.allocations() == before
    assert alloc.allocator.pools == (Prefix.parse("10.0.0.0/23"), Prefix.parse("fd40:10::/79"))
    # IPv6 exhausted (the fallback pool holds two /80s), IPv4 still has room: nothing leaks.
    alloc.release("b")
    alloc.assign(Node.create("b2"))
    before = alloc.allocator.allocations()
    with pytest.raises(PoolExhaustedError):
        alloc.assign(Node.create("c"))
    assert alloc.allocator.allocations() == before
    alloc.allocator._check()


def test_release_returns_prefixes_pools_and_reservations() -> None:
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"], addresses=["192.0.2.5"]))
    alloc.release("a")
    assert alloc.allocator.allocations() == ()
    assert texts(alloc.allocator.pools) == ["10.0.0.0/12", "fd40:10::/64"]
    assert texts(alloc.allocator.reserved()) == ["10.100.0.0/22", "fd40:10:100::/112"]
    with pytest.raises(UnknownNodeError, match=r"node 'a' holds no pod prefixes here") as info:
        alloc.release("a")
    assert isinstance(info.value, LookupError)
    alloc.allocator._check()


def test_two_nodes_sharing_a_subnet_share_its_pool() -> None:
    alloc = cluster()
    a = alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    b = alloc.assign(Node.create("b", subnets=["2001:db8::6/64"]))
    assert a.prefix(6) != b.prefix(6)
    alloc.release("a")
    assert Prefix.parse("2001:db8::/64") in alloc.allocator.pools
    alloc.release("b")
    assert Prefix.parse("2001:db8::/64") not in alloc.allocator.pools


def test_nested_subnet_joining_after_the_outer_node() -> None:
    alloc = cluster()
    outer = alloc.assign(Node.create("outer", subnets=["2001:db8::5/64"]))
    # The /120 lies inside outer's /80 (2001:db8:0:0:1::/80): unusable, so the fallback pool.
    inner = alloc.assign(Node.create("inner", subnets=["2001:db8::1:0:0:105/120"]))
    assert str(outer.prefix(6)) == "2001:db8:0:0:1::/80"
    six = inner.families[1]
    assert six.source == "cluster"
    assert "2001:db8:0:0:1::/80" in inner.skipped[0]
    alloc.allocator._check()


def test_nested_subnet_joining_before_the_outer_node() -> None:
    alloc = cluster()
    inner = alloc.assign(Node.create("inner", subnets=["2001:db8::1:0:0:105/120"]))
    outer = alloc.assign(Node.create("outer", subnets=["2001:db8::5/64"]))
    v6_inner, v6_outer = inner.prefix(6), outer.prefix(6)
    assert v6_inner is not None
    assert v6_outer is not None
    assert v6_inner.subnet_of("2001:db8::1:0:0:100/120")
    # The outer node's /80 avoids the inner node's whole /120 pool.
    assert not v6_outer.overlaps("2001:db8::1:0:0:100/120")
    alloc.allocator._check()


def test_restore_adopts_reports_conflicts_and_never_raises() -> None:
    alloc = cluster()
    node = Node.create("a", subnets=["2001:db8::5/64"])
    result = alloc.restore(node, ["10.0.7.0/24", "2001:db8::/80"])
    assert result.ok
    assert [status for _, status, _ in result.items] == ["adopted", "adopted"]
    assert alloc.allocator.owner_of("10.0.7.1") == "a"
    # Another node claiming an overlapping prefix: a conflict naming the holder.
    other = alloc.restore("b", ["10.0.7.128/25", "not-a-cidr", "192.168.0.0/24"])
    statuses = [status for _, status, _ in other.items]
    assert statuses == ["conflict", "invalid", "outside"]
    assert "'10.0.7.0/24' (owner 'a')" in other.items[0][2]
    assert not other.ok
    # After a restore the node holds those prefixes: assign returns them.
    assert texts(alloc.assign(node).pod_cidrs) == ["10.0.7.0/24", "2001:db8::/80"]
    alloc.allocator._check()


def test_restore_adopts_values_with_host_bits_as_stored_by_older_servers() -> None:
    alloc = cluster()
    result = alloc.restore("a", ["10.0.7.1/24"])
    assert result.items == (("10.0.7.1/24", "adopted", result.items[0][2]),)
    assert alloc.allocator.owner_of("10.0.7.0/24") == "a"


def test_restore_then_release_frees_everything() -> None:
    alloc = cluster()
    alloc.restore(Node.create("a", subnets=["2001:db8::5/64"]), ["10.0.7.0/24", "2001:db8::/80"])
    alloc.release("a")
    assert alloc.allocator.allocations() == ()
    assert texts(alloc.allocator.pools) == ["10.0.0.0/12", "fd40:10::/64"]
    alloc.allocator._check()


def test_explain_names_sources_and_reasons() -> None:
    alloc = cluster(policy=FixedPolicy(96))
    alloc.assign(Node.create("a", subnets=["2001:db8::1/128", "2001:db8::5/64"]))
    text = alloc.explain("a")
    assert text.splitlines()[0] == "node a:"
    assert "IPv4 10.0.0.0/24 (cluster)" in text
    assert "IPv6 2001:db8::1:0:0/96 (provider)" in text
    assert "skipped 2001:db8::1/128" in text
    with pytest.raises(UnknownNodeError):
        alloc.explain("nobody")


def test_errors_are_library_errors() -> None:
    with pytest.raises(Ipv6AllocError):
        NodeAllocator(["10.0.0.0/12"], node_mask={4: 8})
    with pytest.raises(ConfigurationError, match=r"families must name IP versions"):
        NodeAllocator([], families=[5])


def test_safe_policy_is_the_default() -> None:
    assert isinstance(cluster().policy, SafePolicy)


def test_restore_adopts_a_prefix_containing_the_node_address_with_a_warning() -> None:
    # A node that got its prefix from the reference tool holds its own address: adopt it.
    alloc = cluster()
    node = Node.create("a", subnets=["2001:a:b:2875::7952/64"])
    result = alloc.restore(node, ["10.0.0.0/24", "2001:a:b:2875::/80"])
    assert result.ok
    assignment = alloc.get("a")
    assert assignment is not None
    # Registered first, the node's address and its subnet-router anycast address were reserved;
    # both give way to the prefix it holds, each with a warning.
    assert len(assignment.warnings) == 2
    assert "2001:a:b:2875:: lies inside pod prefix 2001:a:b:2875::/80" in assignment.warnings[0]
    assert (
        "2001:a:b:2875::7952 lies inside pod prefix 2001:a:b:2875::/80" in (assignment.warnings[1])
    )


def test_a_restored_prefix_outside_every_pool_is_never_handed_out_again() -> None:
    alloc = cluster()
    result = alloc.restore("cp-1", ["10.0.0.0/24", "2001:a:b:2875:1::/80"])
    assert [status for _, status, _ in result.items] == ["adopted", "outside"]
    assert result.ok
    # A node of the same /64 joins later: its pool must avoid cp-1's /80.
    other = alloc.assign(Node.create("w6", subnets=["2001:a:b:2875::99/64"]))
    v6 = other.prefix(6)
    assert v6 is not None
    assert not v6.overlaps("2001:a:b:2875:1::/80")
    alloc.allocator._check()
    alloc.release("cp-1")
    alloc.release("w6")
    assert texts(alloc.allocator.pools) == ["10.0.0.0/12", "fd40:10::/64"]
    alloc.allocator._check()


def test_restore_keeps_one_prefix_per_family() -> None:
    alloc = cluster()
    result = alloc.restore("z", ["10.0.50.0/24", "10.0.51.0/24", "10.0.50.0/24"])
    assert [status for _, status, _ in result.items] == ["adopted", "conflict", "adopted"]
    assert (
        "node 'z' holds 10.0.50.0/24 already: at most one podCIDR per family"
        in (result.items[1][2])
    )
    assignment = alloc.get("z")
    assert assignment is not None
    assert texts(assignment.pod_cidrs) == ["10.0.50.0/24"]
    assert alloc.allocator.lookup("10.0.51.0") is None


def test_reservations_that_give_way_warn_once_per_address() -> None:
    alloc = cluster()
    alloc.assign(Node.create("w5", subnets=["2001:a:b:2875::99/64"]))
    alloc.restore(
        Node.create("cp-1", subnets=["2001:a:b:2875::7952/64"]),
        ["10.0.9.0/24", "2001:a:b:2875::/80"],
    )
    w5 = alloc.get("w5")
    assert w5 is not None
    assert len(w5.warnings) == 2  # its own address and the subnet-router anycast address
    assert len({w.split()[2] for w in w5.warnings}) == 2
    alloc.allocator._check()
    # Once cp-1 is gone the addresses are reserved again: no later prefix holds them.
    alloc.release("cp-1")
    again = alloc.assign(Node.create("w7", subnets=["2001:a:b:2875::7/64"]))
    v6 = again.prefix(6)
    assert v6 is not None
    assert not Prefix.coerce("2001:a:b:2875::99").subnet_of(v6)
    assert not Prefix.coerce("2001:a:b:2875::").subnet_of(v6)


def test_a_subnet_lost_to_a_restored_prefix_gives_back_every_reservation_later() -> None:
    # "small" registers a /121 subnet: its pool's first address and its own are reserved.
    alloc = cluster()
    services = texts(alloc.allocator.reserved())
    small = Node.create("small", subnets=["2001:db8:0:1::105/121"])
    alloc.register(small)
    assert sorted(texts(alloc.allocator.reserved())) == sorted(
        [
            *services,
            "2001:db8:0:1::100/128",
            "2001:db8:0:1::105/128",
        ]
    )
    # "big" held the whole /64 before a restart: the /121 pool and both addresses give way.
    result = alloc.restore("big", ["10.0.9.0/24", "2001:db8:0:1::/64"])
    assert [status for _, status, _ in result.items] == ["adopted", "outside"]
    assert texts(alloc.allocator.reserved()) == services
    assert "2001:db8:0:1::100/121" not in texts(alloc.allocator.pools)
    alloc._check()
    # Once "big" is gone both addresses are reserved again for "small", though the pool whose
    # first address one of them is went away: they are still small's, and go with it.
    alloc.release("big")
    assert sorted(texts(alloc.allocator.reserved())) == sorted(
        [
            *services,
            "2001:db8:0:1::100/128",
            "2001:db8:0:1::105/128",
        ]
    )
    alloc._check()
    snapshot = alloc.snapshot()
    assert NodeAllocator.from_snapshot(snapshot).snapshot() == snapshot
    alloc.unregister("small")
    assert texts(alloc.allocator.reserved()) == services
    assert texts(alloc.allocator.pools) == ["10.0.0.0/12", "fd40:10::/64"]
    alloc._check()


def test_a_prefix_from_a_subnet_nested_in_another_of_the_node_keeps_its_decision() -> None:
    # Both subnets are usable; the nested one comes first, so the prefix comes from it and
    # lies in both pools: what the node holds names the nested one, read back as assigned.
    alloc = cluster()
    node = Node.create("n", subnets=["2001:db8:0:1::205/120", "2001:db8:0:1::5/64"])
    assigned = alloc.assign(node)
    family = assigned.families[-1]
    assert str(family.pool) == "2001:db8:0:1::200/120"
    assert family.decision is not None
    assert str(family.decision.interface) == "2001:db8:0:1::205/120"
    assert alloc.get("n") == assigned
    alloc._check()
