"""NodeAllocator: the node layer's regressions, bad input, registration, uids, snapshots, copies."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import ipaddress
import json
import pickle
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ipv6alloc import (
    ConfigurationError,
    Decision,
    FixedPolicy,
    Interface,
    InvalidPrefixError,
    Ipv6AllocError,
    Node,
    NodeAllocator,
    PolicyError,
    Prefix,
    PrefixAllocator,
    ProviderPolicy,
    SafePolicy,
    SnapshotError,
    TalosPolicy,
    UnknownNodeError,
    strategies,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ipv6alloc import AddressLike, InterfaceLike


def cluster(**kwargs: object) -> NodeAllocator:
    options: dict[str, object] = {
        "node_mask": {4: 24, 6: 80},
        "service_cidrs": ["10.100.0.0/22", "fd40:10:100::/112"],
    }
    options.update(kwargs)
    return NodeAllocator(["10.0.0.0/12", "fd40:10::/64"], **options)  # type: ignore[arg-type]


def texts(prefixes: Iterable[Prefix]) -> list[str]:
    return [str(p) for p in prefixes]


def without_cursors(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A node allocator's snapshot without the next-fit cursors (which a release leaves)."""
    inner = {
        **snapshot["allocator"],
        "pools": [p["prefix"] for p in snapshot["allocator"]["pools"]],
    }
    return {**snapshot, "allocator": inner}


# -- 1. correctness bugs ---------------------------------------------------------------------------


def test_a_restore_that_ends_in_conflict_keeps_other_nodes_reservations() -> None:
    alloc = NodeAllocator(["fd00::/48"], node_mask={6: 64}, policy=FixedPolicy(120),
                          placement="lowest")  # fmt: skip
    alloc.assign(Node.create("A", subnets=["2001:db8::207/64"]))
    reserved = alloc.allocator.reserved()
    before = alloc.snapshot()
    result = alloc.restore("B", ["2001:db8::/64"])
    assert [status for _, status, _ in result.items] == ["conflict"]
    assert alloc.allocator.reserved() == reserved
    assert alloc.snapshot() == before, "a restore that adopts nothing changes nothing"
    c = alloc.assign(Node.create("C", subnets=["2001:db8::9/64"]))
    prefix = c.prefix(6)
    assert prefix is not None
    assert not Prefix.coerce("2001:db8::207").subnet_of(prefix)
    alloc._check()


def test_a_provider_subnet_equal_to_the_cluster_cidr_never_removes_the_cluster_pool() -> None:
    alloc = cluster()
    a = alloc.assign(Node.create("a", subnets=["fd40:10::5/64"]))
    assert a.families[1].source == "provider"
    alloc.release("a")
    assert Prefix.parse("fd40:10::/64") in alloc.allocator.pools
    fallback = alloc.assign(Node.create("oci", subnets=["2603:c020::1234/128"]))
    assert fallback.families[1].source == "cluster"
    alloc._check()


def test_the_rollback_of_a_failed_assign_keeps_the_cluster_pool() -> None:
    alloc = NodeAllocator(["10.0.0.0/24", "fd40:10::/64"], node_mask={4: 24, 6: 80})
    alloc.assign(Node.create("a"))  # the only IPv4 /24
    with pytest.raises(Ipv6AllocError):
        alloc.assign(Node.create("b", subnets=["fd40:10::5/64"]))
    assert Prefix.parse("fd40:10::/64") in alloc.allocator.pools
    alloc.release("a")
    alloc.assign(Node.create("c"))
    alloc._check()


@pytest.mark.parametrize("pod_cidrs", [[], ["<nil>"], [""], ["<nil>", "<nil>"]])
def test_a_restore_of_nothing_usable_registers_nothing(pod_cidrs: list[str]) -> None:
    alloc = cluster()
    node = Node.create("oci", subnets=["2001:db8::5/64"])
    before = alloc.snapshot()
    result = alloc.restore(node, pod_cidrs)
    assert all(status == "invalid" for _, status, _ in result.items)
    assert alloc.snapshot() == before
    assert "oci" not in alloc
    assert len(alloc.assign(node).pod_cidrs) == 2


def test_a_provider_pool_goes_with_the_last_node_using_it() -> None:
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    result = alloc.restore("b", ["10.0.9.0/24", "2001:db8:0:0:7::/80"])
    assert result.ok
    alloc.release("a")
    assert Prefix.parse("2001:db8::/64") in alloc.allocator.pools, "b still holds a prefix in it"
    alloc.release("b")
    assert texts(alloc.allocator.pools) == ["10.0.0.0/12", "fd40:10::/64"]
    alloc._check()


def test_a_composite_policy_reserves_as_the_rule_that_applied() -> None:
    talos_default = ProviderPolicy({"2001:db8::/32": SafePolicy()}, default=TalosPolicy())
    for policy in (TalosPolicy(), talos_default):
        alloc = cluster(policy=policy)
        a = alloc.assign(Node.create("w3", subnets=["2a02:a:152:202::100/121"]))
        assert a.families[1].source == "provider", policy
        assert str(a.prefix(6)) == "2a02:a:152:202::100/121"
        assert texts(alloc.allocator.reserved()) == ["10.100.0.0/22", "fd40:10:100::/112"]
    # The other rule of the same composite policy keeps the node's address out.
    alloc = cluster(policy=talos_default)
    b = alloc.assign(Node.create("db", subnets=["2001:db8::100/121"]))
    assert str(b.prefix(6)) == "2001:db8::140/122"
    assert "2001:db8::100/128" in texts(alloc.allocator.reserved())


class _Flaky:
    """A user-written policy that fails with a non-library error for one subnet."""

    name = "flaky"

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        iface = Interface.parse(interface)
        if iface.prefixlen == 96:
            raise KeyError("no such provider")
        return SafePolicy().choose(iface, reserved)


def test_assign_undoes_everything_on_any_exception() -> None:
    alloc = cluster(policy=_Flaky())
    alloc.assign(Node.create("ok", subnets=["2001:db8::5/64"]))
    before = alloc.snapshot()
    with pytest.raises(KeyError, match="no such provider"):
        alloc.assign(Node.create("bad", subnets=["2001:db8:1::5/64", "2001:db8:2::5/96"]))
    assert alloc.snapshot() == before
    assert "bad" not in alloc
    alloc._check()


def test_statistics_wait_for_an_assignment_in_progress() -> None:
    alloc = cluster()
    holding = threading.Event()
    release = threading.Event()

    def hold_the_lock() -> None:
        with alloc._lock:
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    holding.wait(10)
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(alloc.statistics()))
    reader.start()
    reader.join(0.2)
    still_waiting = reader.is_alive()
    release.set()
    holder.join(10)
    reader.join(10)
    assert still_waiting, "statistics() must take the node lock"
    assert len(got) == 1


# -- 2. bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [(), 0, True, 1.5, None, b"10.0.0.0/24", "10.0.0.1", "10.0.0.0/255.255.255.0",
              "fe80::%eth0/64", " 10.0.0.0/24", "10.0.0.0/33", "<nil>", [], {"a": 1}],
)  # fmt: skip
def test_restore_reports_what_the_api_server_could_not_hold_as_invalid(value: object) -> None:
    alloc = cluster()
    before = alloc.snapshot()
    result = alloc.restore("n", [value])  # type: ignore[list-item]
    assert [status for _, status, _ in result.items] == ["invalid"]
    assert alloc.snapshot() == before


def test_restore_adopts_lax_cidr_text_and_single_values() -> None:
    alloc = cluster()
    result = alloc.restore("n", "10.0.7.1/24")
    assert result.items[0][:2] == ("10.0.7.1/24", "adopted")
    assert result.adopted == ("10.0.7.1/24",)
    assert alloc.allocator.owner_of("10.0.7.0") == "n"
    result = alloc.restore("m", [Prefix.parse("10.0.8.0/24")])
    assert result.ok


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a: a.assign("worker-1"), r"assign\(\) takes a Node \(see Node.create\), not str"),
        (lambda a: a.register(None), r"register\(\) takes a Node"),
        (lambda a: a.restore(None, []), r"a node name must be non-empty text, not 'None'"),
        (lambda a: a.restore("", []), r"a node name must be non-empty text"),
        (lambda a: a.restore("n", 42), r"pod_cidrs"),
        (lambda a: a.release(None), r"a node name must be non-empty text"),
        (lambda a: a.unregister(["n"]), r"a node name must be non-empty text"),
        (lambda a: a.explain(3), r"a node name must be non-empty text"),
        (lambda a: a.get(3), r"a node name must be non-empty text"),
    ],
)
def test_wrong_types_are_type_errors(call: object, message: str) -> None:
    alloc = cluster()
    with pytest.raises(TypeError, match=message):
        call(alloc)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"node_mask": {4: True, 6: 80}}, ConfigurationError, r"cannot hold a /True node prefix"),
        ({"node_mask": {4: 24.0, 6: 80}}, ConfigurationError, r"must lie between 12 and 32"),
        ({"node_mask": [24, 80]}, TypeError, r"node_mask must map IP versions"),
        ({"families": [True]}, ConfigurationError, r"families must name IP versions"),
        ({"families": "46"}, TypeError, r"families must be a list"),
        ({"fallback": "no"}, TypeError, r"fallback must be True or False"),
        ({"policy": "safe"}, TypeError, r"policy must have a choose\(\) method"),
        ({"placement": "first"}, ConfigurationError, r"placement must be"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        cluster(**kwargs)


def test_a_single_cidr_where_a_list_is_expected_is_one_item() -> None:
    alloc = NodeAllocator(ipaddress.ip_network("10.0.0.0/16"), node_mask={4: 24},
                          service_cidrs="10.0.0.0/24")  # fmt: skip
    assert texts(alloc.allocator.pools) == ["10.0.0.0/16"]
    assert texts(alloc.allocator.reserved()) == ["10.0.0.0/24"]
    node = Node.create("n", subnets="2001:db8::5/64", addresses="192.0.2.1")
    assert [str(s) for s in node.subnets] == ["2001:db8::5/64"]
    assert texts(node.addresses) == ["192.0.2.1/32", "2001:db8::5/128"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Node("n", ("10.0.0.1/32",)), r"addresses must be a tuple of single-address"),  # type: ignore[arg-type]
        (lambda: Node("n", (Prefix.parse("10.0.0.0/24"),)), r"single-address"),
        (lambda: Node("n", (), ("2001:db8::1/64",)), r"subnets must be a tuple of Interface"),  # type: ignore[arg-type]
        (lambda: Node("n", uid=5), r"a uid must be non-empty text or None"),  # type: ignore[arg-type]
        (lambda: Node.create(7), r"a node name must be non-empty text, not '7'"),  # type: ignore[arg-type]
        (lambda: Node.create("n", uid=""), r"a uid must be non-empty text"),
        (lambda: Node.create("n", subnets=[42]), r"expected an interface"),  # type: ignore[list-item]
    ],
)
def test_bad_nodes_are_refused(build: object, message: str) -> None:
    with pytest.raises(InvalidPrefixError, match=message):
        build()  # type: ignore[operator]


def test_long_input_gives_a_short_message() -> None:
    huge = "x" * 100_000
    alloc = cluster()
    calls: list[Callable[[], object]] = [
        lambda: Node.create(huge, subnets=[huge]),
        lambda: alloc.assign(huge),  # type: ignore[arg-type]
        lambda: alloc.release(huge),
        lambda: alloc.unregister(huge),
        lambda: alloc.explain(huge),
        lambda: cluster(node_mask={4: huge, 6: 80}),
        lambda: NodeAllocator([huge]),
        lambda: NodeAllocator.from_snapshot({"format": huge}),
    ]
    for call in calls:
        with pytest.raises((TypeError, Ipv6AllocError)) as info:
            call()
        assert len(str(info.value)) < 300, str(info.value)[:300]
    result = alloc.restore("n", [huge])
    assert len(result.items[0][2]) < 300


_GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=50),
    st.binary(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["10.0.0.0/24", "2001:db8::/64", "2001:db8::1/64", "<nil>", "fd40:10::/64"]),
)


@settings(max_examples=300)
@given(name=_GARBAGE, values=st.lists(_GARBAGE, max_size=3), subnet=_GARBAGE)
def test_garbage_into_every_node_entry_point(
    name: object, values: list[object], subnet: object
) -> None:
    alloc = cluster()
    alloc.assign(Node.create("ok", subnets=["2001:db8::5/64"]))
    for call in (
        lambda: alloc.restore(name, values),  # type: ignore[arg-type]
        lambda: alloc.assign(Node.create(name, subnets=[subnet])),  # type: ignore[arg-type,list-item]
        lambda: alloc.register(Node.create("x", subnets=values, addresses=[subnet])),  # type: ignore[arg-type,list-item]
        lambda: alloc.release(name),  # type: ignore[arg-type]
        lambda: alloc.unregister(name),  # type: ignore[arg-type]
        lambda: alloc.get(name),  # type: ignore[arg-type]
        lambda: alloc.explain(name),  # type: ignore[arg-type]
    ):
        message = ""
        try:
            call()
        except (TypeError, InvalidPrefixError, UnknownNodeError, PolicyError) as e:
            message = str(e)
        assert len(message) < 300
    alloc._check()


# -- 3. what the edges need ------------------------------------------------------------------------


def test_registering_first_keeps_a_nested_subnet_out_of_the_outer_nodes_prefix() -> None:
    a = Node.create("a", subnets=["2001:db8:0:1::10/64"])
    b = Node.create("b", subnets=["2001:db8:0:1:1::100/120"])
    # Without registration, the order decides: b falls back to the cluster pool.
    alloc = NodeAllocator(["fd00::/48"], node_mask={6: 64})
    alloc.assign(a)
    assert alloc.assign(b).families[0].source == "cluster"
    # Registered first, both get their own subnet's prefixes.
    alloc = NodeAllocator(["fd00::/48"], node_mask={6: 64})
    alloc.register(a)
    alloc.register(b)
    assert alloc.registered() == ("a", "b")
    assert len(alloc) == 0
    assert str(alloc.assign(a).prefix(6)) == "2001:db8:0:1:2::/80"
    got = alloc.assign(b)
    assert got.families[0].source == "provider"
    assert str(got.prefix(6)) == "2001:db8:0:1:1::180/121"
    alloc._check()


def test_register_is_idempotent_and_unregister_is_its_inverse() -> None:
    alloc = cluster()
    fresh = alloc.snapshot()
    node = Node.create("a", subnets=["2001:db8::5/64"], addresses=["192.0.2.5"])
    alloc.register(node)
    once = alloc.snapshot()
    assert once != fresh
    alloc.register(node)
    assert alloc.snapshot() == once
    alloc.unregister("a")
    assert alloc.snapshot() == fresh
    with pytest.raises(UnknownNodeError, match=r"node 'a' is not known here"):
        alloc.unregister("a")
    # A node holding prefixes gives them back when unregistered (next-fit's cursor stays
    # where the allocation moved it, as with a release).
    alloc.assign(node)
    alloc.unregister("a")
    assert without_cursors(alloc.snapshot()) == without_cursors(fresh)


def test_register_learns_a_changed_node_afresh() -> None:
    alloc = cluster()
    alloc.register(Node.create("a", subnets=["2001:db8::5/64"]))
    alloc.register(Node.create("a", subnets=["2001:db8:1::5/64"]))
    assert "2001:db8::/64" not in texts(alloc.allocator.pools)
    assert "2001:db8:1::/64" in texts(alloc.allocator.pools)
    alloc._check()


def test_a_name_held_under_another_uid_is_released_first() -> None:
    alloc = cluster(placement="lowest")
    old = alloc.assign(Node.create("w", subnets=["2001:db8::5/64"], uid="uid-1"))
    again = alloc.assign(Node.create("w", subnets=["2001:db8::5/64"], uid="uid-1"))
    assert again == old
    new = alloc.assign(Node.create("w", subnets=["2001:db8:1::5/64"], uid="uid-2"))
    assert new is not old
    assert new.prefix(6) is not None
    assert alloc.allocator.lookup(old.pod_cidrs[1]) is None
    assert "2001:db8::/64" not in texts(alloc.allocator.pools)
    # Without a uid on either side, the name alone counts.
    assert alloc.assign(Node.create("w", subnets=["2001:db8:1::5/64"])) == new
    alloc._check()


def test_node_snapshots_restore_every_piece_and_the_next_assignments() -> None:
    alloc = cluster()
    nodes = [
        Node.create("w5", subnets=["2001:a:b:2875::99/64"], uid="u5"),
        Node.create("nested", subnets=["2001:a:b:2875:1::100/120"]),
        Node.create("oci", subnets=["2603:c020::1234/128"], addresses=["192.0.2.9"]),
    ]
    for node in nodes:
        alloc.register(node)
    alloc.assign(nodes[0])
    alloc.restore(Node.create("cp-1", subnets=["2001:a:b:2875::7952/64"]),
                  ["10.0.9.0/24", "2001:a:b:2875::/80"])  # fmt: skip
    alloc.restore("old", ["10.0.10.0/24", "2a01:4f8::/80"])
    data = json.loads(json.dumps(alloc.snapshot()))
    again = NodeAllocator.from_snapshot(data)
    again._check()
    assert again.snapshot() == alloc.snapshot()
    assert again.nodes() == alloc.nodes()
    assert again.registered() == alloc.registered()
    assert again.statistics() == alloc.statistics()
    for node in [*nodes, Node.create("late", subnets=["2001:a:b:2875::5/64"])]:
        assert again.assign(node) == alloc.assign(node)
    alloc.release("cp-1")
    again.release("cp-1")
    assert again.snapshot() == alloc.snapshot()


def test_node_snapshot_errors() -> None:
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    good = alloc.snapshot()
    with pytest.raises(SnapshotError, match=r"taken with policy 'SafePolicy\(\)', not 'TalosPol"):
        NodeAllocator.from_snapshot(good, policy=TalosPolicy())
    with pytest.raises(SnapshotError, match=r"unknown snapshot format"):
        NodeAllocator.from_snapshot({**good, "format": "ipv6alloc.PrefixAllocator/1"})
    with pytest.raises(SnapshotError, match=r"a snapshot is a mapping"):
        NodeAllocator.from_snapshot([])  # type: ignore[arg-type]
    broken = copy.deepcopy(good)
    broken["nodes"][0]["allocated"] = []
    with pytest.raises(SnapshotError, match=r"contradicts itself"):
        NodeAllocator.from_snapshot(broken)
    broken = copy.deepcopy(good)
    broken["nodes"].append(broken["nodes"][0])
    with pytest.raises(SnapshotError, match=r"listed twice"):
        NodeAllocator.from_snapshot(broken)
    node = good["nodes"][0]
    assert node["reserved"]
    assert node["pools"] == ["2001:db8::/64"]
    corruptions: list[tuple[str, object, str]] = [
        ("reserved", [*node["reserved"], node["reserved"][0]], "distinct addresses"),
        ("reserved", ["2001:db8::/120"], "distinct addresses"),
        ("pools", [], "must list those of its usable subnets"),
        ("pools", ["2001:db8::/64", "2001:db8::/64"], "must list those of its usable subnets"),
        ("pools", ["2001:db8::/64", "2001:db9::/64"], "uses unknown pool"),
        ("registered", False, "registered when, and only when"),
    ]
    for key, value, message in corruptions:
        broken = copy.deepcopy(good)
        broken["nodes"][0][key] = value
        with pytest.raises(SnapshotError, match=message):
            NodeAllocator.from_snapshot(broken)
    broken = copy.deepcopy(good)
    broken["pools"] = []
    with pytest.raises(SnapshotError, match=r"'pools' must list the allocator's pools"):
        NodeAllocator.from_snapshot(broken)
    alloc.register(Node.create("r", subnets=["2001:db8:7::5/64"]))
    broken = alloc.snapshot()
    broken["nodes"] = [n for n in broken["nodes"] if n["name"] != "r"]
    with pytest.raises(SnapshotError, match=r"pool '2001:db8:7::/64' is used by no node"):
        NodeAllocator.from_snapshot(broken)


def _corruptions(data: object, path: tuple[object, ...] = ()) -> Iterable[tuple[object, ...]]:
    """Every path to a leaf or container of a snapshot."""
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _corruptions(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _corruptions(value, (*path, i))


def test_every_corrupted_node_snapshot_is_refused_or_consistent() -> None:
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"], addresses=["10.0.0.7"]))
    alloc.restore(Node.create("b", subnets=["2001:db8::9/64"]), ["10.0.3.0/24", "2001:db8::/80"])
    good = alloc.snapshot()
    replacements: list[object] = [None, 7, "x", [], {}, True, "2001:db8::/64"]
    for path in list(_corruptions(good))[1:]:
        for replacement in replacements:
            broken = copy.deepcopy(good)
            target = broken
            for key in path[:-1]:
                target = target[key]  # type: ignore[index]
            target[path[-1]] = replacement  # type: ignore[index]
            try:
                loaded = NodeAllocator.from_snapshot(broken)
            except SnapshotError:
                continue
            loaded._check()  # whatever loads is consistent


def test_copies_are_independent() -> None:
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    for clone in (alloc.copy(), copy.copy(alloc), copy.deepcopy(alloc),
                  pickle.loads(pickle.dumps(alloc))):  # fmt: skip
        assert clone.snapshot() == alloc.snapshot()
        before = alloc.snapshot()
        clone.assign(Node.create("b", subnets=["2001:db8::6/64"]))
        clone.release("a")
        assert alloc.snapshot() == before
        clone._check()
        alloc._check()
    plain = PrefixAllocator(["10.0.0.0/16"])
    plain.allocate(24, owner=("a", 1))
    for twin in (plain.copy(), copy.copy(plain), copy.deepcopy(plain),
                 pickle.loads(pickle.dumps(plain))):  # fmt: skip
        twin.allocate(24)
        assert len(plain) == 1
        assert len(twin) == 2
        twin._check()


def test_statistics_count_free_blocks_exactly_and_name_roles() -> None:
    plain = PrefixAllocator(["10.0.0.0/24"], reserved=["10.0.0.127", "10.0.0.128"])
    s = plain.statistics().pools[0]
    assert s.free_prefixes(25) == 0, "no /25 is free: each holds a reserved address"
    assert s.free_prefixes(26) == 2
    assert s.free_prefixes(32) == 254
    assert s.role is None
    with pytest.raises(TypeError):
        s.free_prefixes("25")  # type: ignore[arg-type]
    with pytest.raises(InvalidPrefixError):
        s.free_prefixes(33)
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    alloc.restore("b", ["10.0.9.0/24", "2a01:4f8::/80"])
    roles = {str(p.pool): p.role for p in alloc.statistics().pools}
    assert roles == {
        "10.0.0.0/12": "cluster",
        "fd40:10::/64": "cluster",
        "2001:db8::/64": "provider",
        "2a01:4f8::/80": "outside",
    }
    stats = alloc.statistics()
    assert pickle.loads(pickle.dumps(stats)) == stats
    plain_dict = dataclasses.asdict(stats)
    assert plain_dict["pools"][2]["by_prefixlen"] == {80: 1}


def test_a_restore_of_a_node_known_by_name_that_adopts_nothing_keeps_its_pools() -> None:
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    assert alloc.restore("b", ["2001:db8:0:0:7::/80"]).ok  # by name, in a's pool
    alloc.release("a")  # b is the pool's last user now
    before = alloc.snapshot()
    node = Node.create("b", subnets=["2001:db8:1::5/64"])
    result = alloc.restore(node, ["<nil>"])
    assert [status for _, status, _ in result.items] == ["invalid"]
    assert alloc.snapshot() == before
    alloc._check()
    alloc.register(node)  # learning it keeps the pool of what it holds, too
    assert "2001:db8::/64" in texts(alloc.allocator.pools)
    alloc._check()
    alloc.release("b")
    assert texts(alloc.allocator.pools) == ["10.0.0.0/12", "fd40:10::/64"]


def test_threads_sharing_a_node_allocator_leave_it_consistent() -> None:
    alloc = cluster(placement="lowest")
    subnets = ["2001:db8::{}/64", "2001:db8::1:0:0:{}/120", "2001:db8:0:1::{}/121"]
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            for step in range(400):
                k = (seed * 7919 + step * 104729) % 24
                name = f"n{k}"
                node = Node.create(name, subnets=[subnets[k % 3].format(k + 1)], uid=f"u{k}")
                action = (seed + step) % 4
                if action == 0:
                    alloc.register(node)
                elif action in (1, 2):
                    alloc.assign(node)
                elif name in alloc:
                    with contextlib.suppress(UnknownNodeError):  # released by another thread
                        alloc.release(name)
                alloc.statistics()
        except BaseException as e:  # handed to the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that an unlocked step would show
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors
    alloc._check()
    held = [p for a in alloc.nodes() for p in a.pod_cidrs]
    assert len(set(held)) == len(held)


def test_a_restore_interrupted_midway_gives_back_what_it_took(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alloc = cluster()
    alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    before = alloc.snapshot()
    occupy = alloc.allocator.occupy

    def interrupted(prefix: Prefix, *, owner: object = None) -> Prefix:
        if str(prefix) == "10.0.9.0/24":
            raise KeyboardInterrupt  # as Ctrl-C in the middle of a restore
        return occupy(prefix, owner=owner)

    monkeypatch.setattr(alloc.allocator, "occupy", interrupted)
    with pytest.raises(KeyboardInterrupt):
        alloc.restore("b", ["2a01:4f8::/80", "2001:db8:0:0:7::/80", "10.0.9.0/24"])
    assert alloc.snapshot() == before
    alloc._check()


# -- the decisions a node allocator keeps --------------------------------------------------------


class _ByHand:
    """A policy of the user's own: SafePolicy's choice with the reason as text.

    With ``moved``, the decision names an interface one address above the one asked about:
    none of the node's subnets.
    """

    name = "by-hand"

    def __init__(self, *, moved: bool = False) -> None:
        self.moved = moved

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        iface = Interface.parse(interface)
        d = SafePolicy().choose(iface, reserved)
        if self.moved:
            iface = Interface(iface.address + 1, iface.prefixlen)
        return Decision(iface, d.pool, d.prefixlen, f"by hand: {iface}", d.reserved, self.name)


_KEPT_POLICIES: dict[str, Callable[[], Any]] = {
    "safe": SafePolicy,
    "talos": TalosPolicy,
    "fixed": lambda: FixedPolicy(96),
    "provider": lambda: ProviderPolicy({"2001:db8:1::/48": FixedPolicy(112)}),
    "by hand": _ByHand,
    "by hand, moved": lambda: _ByHand(moved=True),
}


@pytest.mark.parametrize("make", list(_KEPT_POLICIES.values()), ids=list(_KEPT_POLICIES))
def test_the_decisions_read_back_are_those_the_policy_gave(make: Callable[[], Any]) -> None:
    policy = make()
    alloc = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24}, families=[4, 6], policy=policy)
    nodes = [
        Node.create("one", subnets=["2001:db8::10/64"]),
        Node.create(
            "two",
            subnets=["2001:db8:1:0:1::100/80", "2001:db8:2::5/64"],
            addresses=["2001:db8:1:0:1::7", "10.1.2.3"],
        ),
        Node.create("three", subnets=["2001:db8:3::5/64", "2001:db8:4::5/64"]),
    ]
    for node in nodes:
        alloc.assign(node)
    alloc.register(Node.create("registered", subnets=["2001:db8:5::5/64"]))
    expected = {}
    for node in [*nodes, Node.create("registered", subnets=["2001:db8:5::5/64"])]:
        hint = [a for a in node.addresses if a.version == 6]
        expected[node.name] = tuple(policy.choose(s, reserved=hint) for s in node.subnets)

    def kept(a: NodeAllocator) -> dict[str, tuple[Decision, ...]]:
        return {name: rec.usable for name, rec in a._nodes.items()}

    copies: dict[str, NodeAllocator] = {
        "itself": alloc,
        "copy": alloc.copy(),
        "pickle": pickle.loads(pickle.dumps(alloc)),
        "snapshot": NodeAllocator.from_snapshot(alloc.snapshot(), policy=policy),
    }
    for how, a in copies.items():
        assert kept(a) == expected, how
        assert [d.reason for d in kept(a)["two"]] == [d.reason for d in expected["two"]], how
        for node in nodes:
            held = a.get(node.name)
            assert held is not None, how
            (family,) = [f for f in held.families if f.source == "provider"]
            assert family.decision == expected[node.name][0], how
            assert family.pool == expected[node.name][0].pool, how
        a._check()


def test_a_policy_that_returns_no_decision_is_an_error() -> None:
    class Broken:
        name = "broken"

        def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> object:
            return ("2001:db8::/64", 80)

    alloc = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24}, policy=Broken())  # type: ignore[arg-type]
    with pytest.raises(
        PolicyError,
        match=r"^Broken.choose\(\) must return a Decision for '2001:db8::5/64', not \"\('",
    ):
        alloc.assign(Node.create("a", subnets=["2001:db8::5/64"]))
    assert len(alloc) == 0
    assert alloc.allocator.pools == (Prefix.parse("10.0.0.0/16"),)
    alloc._check()


@given(
    st.lists(strategies.interfaces(), max_size=3),
    st.lists(strategies.addresses(), max_size=3),
    st.data(),
)
def test_create_keeps_each_address_once_in_address_order(
    subnets: list[str], addresses: list[Any], data: st.DataObject
) -> None:
    subnets = [s for s in subnets if ipaddress.IPv6Interface(s).ip.ipv4_mapped is None]
    own = [ipaddress.IPv6Interface(s).ip for s in subnets]
    # Some subnets' own addresses given again, as ipaddress values or upper-case text.
    again = data.draw(st.lists(st.sampled_from(own), max_size=2)) if own else []
    given = [*addresses, *again, *(str(a).upper() for a in again)]
    node = Node.create("n", subnets=subnets, addresses=given)
    every = {(a.version, int(a)) for a in [*addresses, *own]}
    assert [(p.version, p.value) for p in node.addresses] == sorted(every)
    assert all(p.prefixlen == p.max_prefixlen for p in node.addresses)
