"""ipv6alloc.kubernetes.plan: every node's action under the API server's rules."""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc import NodeAllocator, Prefix, SafePolicy, TalosPolicy
from ipv6alloc._demo import DEMO_CLUSTER, run_demo
from ipv6alloc.kubernetes import (
    ACTIONS,
    AnnotationSource,
    KubeNode,
    NodePlan,
    NodeReadError,
    Plan,
    plan,
    read_nodes,
)

ANNOTATION = "ipv6alloc.io/node-subnets"
UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized"


def item(
    name: str,
    subnets: str | None = None,
    *,
    addresses: tuple[str, ...] = (),
    pod_cidrs: list[str] | None = None,
    created: str | None = "2024-05-01T10:00:00Z",
    uninitialized: bool = False,
    deleting: bool = False,
    version: str = "1",
    uid: str | None = None,
) -> dict[str, Any]:
    """A Node as ``kubectl get nodes -o json`` prints it."""
    metadata: dict[str, Any] = {"name": name, "resourceVersion": version}
    if uid is not None:
        metadata["uid"] = uid
    if created is not None:
        metadata["creationTimestamp"] = created
    if subnets is not None:
        metadata["annotations"] = {ANNOTATION: subnets}
    if deleting:
        metadata["deletionTimestamp"] = "2024-06-01T00:00:00Z"
    spec: dict[str, Any] = {}
    if pod_cidrs:
        spec["podCIDR"] = pod_cidrs[0]
        spec["podCIDRs"] = pod_cidrs
    if uninitialized:
        spec["taints"] = [{"key": UNINITIALIZED, "value": "true", "effect": "NoSchedule"}]
    if subnets and not addresses:
        addresses = (subnets.split(",")[0].split("/")[0],)
    status = {"addresses": [{"type": "InternalIP", "address": a} for a in addresses]}
    return {"kind": "Node", "metadata": metadata, "spec": spec, "status": status}


def day(i: int) -> str:
    return f"2024-05-{i + 1:02d}T10:00:00Z"


def demo_allocator(policy: Any = None) -> NodeAllocator:
    return NodeAllocator(
        DEMO_CLUSTER.cluster_cidrs,
        node_mask=dict(DEMO_CLUSTER.node_mask),
        service_cidrs=DEMO_CLUSTER.service_cidrs,
        policy=policy,
    )


def demo_items() -> list[dict[str, Any]]:
    return [
        item(name, subnet, created=day(i), version=str(10 + i))
        for i, (name, subnet) in enumerate(DEMO_CLUSTER.nodes)
    ]


def small() -> NodeAllocator:
    return NodeAllocator(["10.0.0.0/16", "fd00::/48"], node_mask={4: 24, 6: 80})


def applied(items: list[dict[str, Any]], result: Plan) -> list[dict[str, Any]]:
    """The nodes after a controller wrote every ``assign`` of the plan."""
    out = copy.deepcopy(items)
    for node in out:
        p = result.get(node["metadata"]["name"])
        if p is not None and p.action == "assign":
            node["spec"]["podCIDR"] = p.pod_cidrs[0]
            node["spec"]["podCIDRs"] = list(p.pod_cidrs)
    return out


def networks(texts: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(t, strict=False) for t in texts]


# -- the seed's cluster --------------------------------------------------------------------------


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]])
def test_the_seed_cluster_in_any_order_gets_the_demo_prefixes(order: list[int]) -> None:
    items = demo_items()
    result = plan([items[i] for i in order], demo_allocator())
    expected = {row.node.name: row.assignment.pod_cidrs for row in run_demo(SafePolicy())}
    assert [n.name for n in result] == [name for name, _ in DEMO_CLUSTER.nodes]  # oldest first
    for n in result:
        assert n.action == "assign"
        assert n.pod_cidrs == tuple(str(p) for p in expected[n.name])


def test_the_talos_policy_gives_the_article_prefixes() -> None:
    result = plan(demo_items(), demo_allocator(TalosPolicy()))
    # domain.md: the IPv6 podCIDRs shown in the article for these five nodes.
    assert [n.pod_cidrs[1] for n in result] == [
        "2001:a:b:2875::/80",
        "2a00:a:0:1c4::/80",
        "2a09:a:f:42f6::/80",
        "2a02:a:152:202::100/121",
        "2a02:a:153:201::100/121",
    ]


def test_a_restart_keeps_what_nodes_hold_and_assigns_only_the_new_ones() -> None:
    first = demo_items()[:3]
    done = applied(first, plan(first, demo_allocator()))
    held = {n["metadata"]["name"]: n["spec"]["podCIDRs"] for n in done}
    later = [*done, *demo_items()[3:]]
    result = plan(later, demo_allocator())  # a fresh allocator: a restart
    for n in result:
        if n.name in held:
            assert (n.action, list(n.pod_cidrs)) == ("adopt", held[n.name])
        else:
            assert n.action == "assign"
    fresh = [n.pod_cidrs for n in result if n.name not in held]
    assert all(
        not a.overlaps(b)
        for new in fresh
        for a in networks(new)
        for old in held.values()
        for b in networks(tuple(old))
        if a.version == b.version
    )


def test_planning_the_applied_result_again_writes_nothing() -> None:
    items = demo_items()
    alloc = demo_allocator()
    first = plan(items, alloc)
    done = applied(items, first)
    assert {n.action for n in plan(done, alloc)} == {"keep"}
    assert {n.action for n in plan(done, demo_allocator())} == {"adopt"}


def test_an_assign_not_yet_written_is_planned_again_with_the_same_prefixes() -> None:
    items = demo_items()
    alloc = demo_allocator()
    first = plan(items, alloc)
    again = plan(items, alloc)
    assert [(n.action, n.pod_cidrs) for n in again] == [(n.action, n.pod_cidrs) for n in first]


# -- actions -------------------------------------------------------------------------------------


def test_nested_subnets_of_two_nodes_never_overlap_whoever_is_older() -> None:
    outer = ("big", "2001:db8:0:1::5/64")
    # In the /80 the big node's own policy would pick first: only its registration keeps it out.
    inner = ("small", "2001:db8:0:1:1::105/121")
    for first, second in ((outer, inner), (inner, outer)):
        result = plan(
            [item(*first, created=day(0)), item(*second, created=day(1))],
            NodeAllocator(["fd00::/48"], node_mask={6: 80}),
        )
        big, small_ = result.get("big"), result.get("small")
        assert big is not None
        assert small_ is not None
        assert (big.action, small_.action) == ("assign", "assign")
        inner_subnet = ipaddress.ip_interface(inner[1]).network
        (b,) = networks(big.pod_cidrs)
        (s,) = networks(small_.pod_cidrs)
        assert not b.overlaps(inner_subnet)
        assert s.subnet_of(inner_subnet)  # type: ignore[arg-type]


def test_a_node_with_only_a_slash_128_falls_back_to_the_cluster_pool() -> None:
    result = plan([item("dhcp", "2001:db8::5/128")], small())
    (n,) = result
    assert n.action == "assign"
    assert ipaddress.IPv6Network(n.pod_cidrs[1]).subnet_of(ipaddress.IPv6Network("fd00::/48"))
    assert n.subnet is None


def test_a_node_without_a_subnet_and_without_fallback_is_an_error() -> None:
    alloc = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24}, families=[4, 6], fallback=False)
    (n,) = plan([item("w", None, addresses=("2001:db8::5",))], alloc)
    assert n.action == "error"
    assert "no usable IPv6 subnet" in n.reason
    assert not plan([item("w", None, addresses=("2001:db8::5",))], alloc).ok


def test_an_uninitialized_node_waits_and_is_not_a_failure() -> None:
    result = plan([item("new", "2001:db8::5/64", uninitialized=True)], small())
    (n,) = result
    assert (n.action, n.pod_cidrs) == ("wait", ())
    assert "uninitialized" in n.reason
    assert result.ok


def test_a_node_without_addresses_waits() -> None:
    (n,) = plan([item("bare", None)], small())
    assert n.action == "wait"
    assert "no addresses" in n.reason


def test_a_node_being_deleted_keeps_its_prefixes_and_gets_none_new() -> None:
    alloc = small()
    live = item("old", "2001:db8:0:1::5/64", created=day(0))
    done = applied([live], plan([live], alloc))
    done[0]["metadata"]["deletionTimestamp"] = "2024-06-01T00:00:00Z"
    going = item("going", "2001:db8:0:2::5/64", deleting=True, created=day(1))
    result = plan([*done, going], alloc)
    assert [(n.name, n.action) for n in result] == [("old", "keep"), ("going", "wait")]
    assert "old" in alloc


def test_a_node_that_is_gone_is_released() -> None:
    alloc = small()
    items = [item("a", "2001:db8:0:1::5/64", created=day(0)), item("b", "2001:db8:0:2::5/64")]
    first = plan(items, alloc)
    result = plan(applied(items, first)[:1], alloc)
    gone = result.get("b")
    assert gone is not None
    assert gone.action == "release"
    assert "b" not in alloc
    assert "2001:db8:0:2::/64" not in {str(p) for p in alloc.allocator.pools}


def test_a_failing_source_makes_the_node_wait_and_never_falls_back() -> None:
    def metadata_service(node: KubeNode) -> list[str]:
        raise TimeoutError("metadata service timed out")

    alloc = small()
    (n,) = plan([item("w", None, addresses=("2001:db8::5",))], alloc, sources=[metadata_service])
    assert n.action == "wait"
    assert "TimeoutError" in n.reason
    assert "w" not in alloc  # nothing from the cluster pool


def test_a_malformed_annotation_is_an_error_naming_the_entry() -> None:
    (n,) = plan([item("w", "2001:db8::5/64,not-a-subnet", addresses=("2001:db8::5",))], small())
    assert n.action == "error"
    assert "not-a-subnet" in n.reason


def test_two_nodes_holding_the_same_prefix_the_younger_is_a_conflict() -> None:
    items = [
        item("old", "2001:db8:0:1::5/64", pod_cidrs=["10.0.1.0/24"], created=day(0)),
        item("young", "2001:db8:0:2::5/64", pod_cidrs=["10.0.1.0/24"], created=day(1)),
    ]
    alloc = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24})
    result = plan(list(reversed(items)), alloc)
    old, young = result.get("old"), result.get("young")
    assert old is not None
    assert young is not None
    assert (old.action, young.action) == ("adopt", "conflict")
    assert young.pod_cidrs == ()
    assert "10.0.1.0/24" in young.reason
    assert not result.ok
    assert alloc.get("old") is not None
    assert alloc.get("young") is None


def test_an_invalid_stored_podcidr_is_a_conflict_and_not_touched() -> None:
    (n,) = plan([item("w", "2001:db8::5/64", pod_cidrs=["banana"])], small())
    assert n.action == "conflict"
    assert "banana" in n.reason
    assert n.merge_patch is None


def test_a_lax_stored_value_is_adopted_as_it_is_never_rewritten() -> None:
    node = item("w", "2001:db8:0:1::5/64", pod_cidrs=["10.0.3.7/24", "2001:db8:0:1:1::1/80"])
    alloc = small()
    (n,) = plan([node], alloc)
    assert n.action == "adopt"
    assert n.pod_cidrs == ("10.0.3.7/24", "2001:db8:0:1:1::1/80")
    held = alloc.get("w")
    assert held is not None
    assert [str(p) for p in held.pod_cidrs] == ["10.0.3.0/24", "2001:db8:0:1:1::/80"]


def test_an_ipv4_only_node_in_a_dual_stack_cluster_must_be_recreated() -> None:
    (n,) = plan([item("v4", "2001:db8::5/64", pod_cidrs=["10.0.9.0/24"])], small())
    assert n.action == "error"
    assert "re-created" in n.reason
    assert n.pod_cidrs == ()


def test_a_node_holding_only_another_family_than_the_cluster_must_be_recreated() -> None:
    alloc = NodeAllocator(["fd00::/48"], node_mask={6: 80})
    (n,) = plan([item("v4", None, addresses=("2001:db8::5",), pod_cidrs=["10.0.0.0/24"])], alloc)
    assert n.action == "error"
    assert "no IPv6 prefix" in n.reason


def test_a_node_listed_twice_is_planned_once_and_the_copy_is_an_error() -> None:
    nodes = [KubeNode("w", addresses=("2001:db8::5",)), KubeNode("w", addresses=("2001:db8::6",))]
    result = plan(nodes, small())
    assert [n.action for n in result] == ["assign", "error"]
    assert "more than once" in result.nodes[1].reason


def test_the_node_holds_other_podcidrs_than_planned_its_own_win() -> None:
    alloc = small()
    node = item("w", "2001:db8:0:1::5/64")
    first = plan([node], alloc)
    (planned,) = first
    written = item("w", "2001:db8:0:1::5/64", pod_cidrs=["10.0.7.0/24", "2001:db8:0:1:7::/80"])
    (n,) = plan([written], alloc)
    assert n.action == "adopt"
    assert n.pod_cidrs == ("10.0.7.0/24", "2001:db8:0:1:7::/80")
    assert any("had planned" in w for w in n.warnings)
    held = alloc.get("w")
    assert held is not None
    assert [str(p) for p in held.pod_cidrs] == ["10.0.7.0/24", "2001:db8:0:1:7::/80"]
    assert alloc.allocator.lookup(planned.pod_cidrs[0]) is None  # the planned /24 is free


# -- patches and values --------------------------------------------------------------------------


def test_an_assign_carries_both_patches_with_the_resource_version() -> None:
    (n,) = plan([item("w", "2001:db8:0:1::5/64", version="4711")], small())
    assert n.merge_patch == {
        "metadata": {"resourceVersion": "4711"},
        "spec": {"podCIDR": n.pod_cidrs[0], "podCIDRs": list(n.pod_cidrs)},
    }
    assert n.json_patch is not None
    assert n.json_patch[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "4711"}
    assert {"op": "add", "path": "/spec/podCIDRs", "value": list(n.pod_cidrs)} in n.json_patch
    for action in ACTIONS:
        if action != "assign":
            other = NodePlan("x", action, "why", n.pod_cidrs, None, (), "1")
            assert other.merge_patch is None
            assert other.json_patch is None


@pytest.mark.parametrize("cidrs", [["fd00::/48", "10.0.0.0/16"], ["10.0.0.0/16", "fd00::/48"]])
def test_podcidrs_follow_the_cluster_family_order_in_canonical_text(cidrs: list[str]) -> None:
    alloc = NodeAllocator(cidrs, node_mask={4: 24, 6: 80})
    (n,) = plan([item("w", "2001:DB8:0:1:0::5/64")], alloc)
    assert [ipaddress.ip_network(p).version for p in n.pod_cidrs] == [
        ipaddress.ip_network(c).version for c in cidrs
    ]
    assert all(p == str(ipaddress.ip_network(p)) for p in n.pod_cidrs)  # RFC 5952


def test_an_ipv4_mapped_subnet_is_never_planned() -> None:
    (n,) = plan([item("w", "::ffff:10.0.0.5/120", addresses=("10.0.0.5",))], small())
    assert n.action == "error"
    assert "IPv4-mapped" in n.reason


def test_a_prefix_from_an_ipv4_mapped_cluster_cidr_is_never_planned() -> None:
    alloc = NodeAllocator(["::ffff:0:0/96"], node_mask={6: 120})
    (n,) = plan([item("w", None, addresses=("2001:db8::5",))], alloc)
    assert n.action == "error"
    assert "IPv4-mapped" in n.reason
    assert "w" not in alloc  # what was taken is given back


def test_plan_output_is_json_safe_and_summarised() -> None:
    result = plan([*demo_items(), item("new", "2001:db8::5/64", uninitialized=True)], small())
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) == {"nodes", "summary"}
    assert all(
        set(n) == {"name", "action", "podCIDRs", "reason", "subnet", "warnings"}
        for n in data["nodes"]
    )
    assert data["summary"] == {
        action: sum(n["action"] == action for n in data["nodes"]) for action in ACTIONS
    }
    table = str(result).splitlines()
    assert table[0].split() == ["NODE", "ACTION", "PODCIDRS", "SUBNET", "REASON"]
    assert len(table) == len(result) + 1


def test_plan_reads_every_shape_and_refuses_what_is_not_a_node() -> None:
    items = demo_items()
    as_list = plan({"kind": "List", "items": items}, demo_allocator())
    as_kube = plan(read_nodes(items), demo_allocator())
    assert [(n.name, n.pod_cidrs) for n in as_list] == [(n.name, n.pod_cidrs) for n in as_kube]
    with pytest.raises(NodeReadError):
        plan([{"kind": "Pod", "metadata": {"name": "web"}}], small())
    with pytest.raises(TypeError, match="subnet source"):
        plan(items, small(), sources=[42])  # type: ignore[list-item]


def test_a_dry_run_on_a_copy_leaves_the_allocator_as_it_was() -> None:
    alloc = demo_allocator()
    before = alloc.snapshot()
    plan(demo_items(), alloc.copy())
    assert alloc.snapshot() == before


def test_another_annotation_key() -> None:
    node = item("w", None, addresses=("2001:db8::5",))
    node["metadata"]["annotations"] = {"example.com/subnets": "2001:db8:0:1::5/64"}
    (n,) = plan([node], small(), sources=[AnnotationSource("example.com/subnets")])
    assert n.subnet == "2001:db8:0:1::5/64"


# -- the property --------------------------------------------------------------------------------

NAMES = ["n0", "n1", "n2", "n3", "n4"]
SUBNETS = [
    "2001:db8:0:1::5/64",
    "2001:db8:0:1:1::105/121",  # nested in the /64 above, in the /80 it would take first
    "2001:db8:0:2::9/120",
    "2001:db8:0:3::1/128",
    "2001:db8:0:1::5/64,2001:db8:0:2::9/120",
    "garbage",
]
STORED = [
    "10.0.0.0/24",
    "10.0.1.0/24",
    "10.0.1.9/24",  # lax
    "10.9.0.0/24",  # outside the cluster pool
    "fd00::/120",
    "fd00::100/120",
    "2001:db8:0:1:1::/80",
    "2001:db8:0:1::/80",  # holds the node address of the /64
    "2001:db8:0:2::80/121",
    "nonsense",
]


@st.composite
def node_items(draw: st.DrawFn) -> dict[str, Any]:
    subnets = draw(st.none() | st.sampled_from(SUBNETS))
    addresses = draw(
        st.lists(st.sampled_from(["2001:db8:0:1::5", "10.1.0.9", "bogus"]), max_size=2)
    )
    return item(
        draw(st.sampled_from(NAMES)),
        subnets,
        addresses=tuple(addresses),
        # Most nodes are plain new ones: they are where a plan can go wrong.
        pod_cidrs=None
        if draw(st.integers(0, 2))
        else draw(st.lists(st.sampled_from(STORED), min_size=1, max_size=2)),
        created=draw(st.none() | st.sampled_from([day(0), day(1), day(2)])),
        uninitialized=draw(st.integers(0, 4)) == 0,
        deleting=draw(st.integers(0, 4)) == 0,
        uid=draw(st.none() | st.sampled_from(["u1", "u2"])),
    )


def kube_nodes(items: list[dict[str, Any]]) -> list[KubeNode]:
    """Each item read alone (read_nodes refuses a list that names a node twice)."""
    return [read_nodes([i])[0] for i in items]


def annotated(node: KubeNode) -> list[ipaddress.IPv6Interface]:
    """The valid subnets of the node's annotation."""
    found = []
    for text in node.annotations.get(ANNOTATION, "").split(","):
        try:
            found.append(ipaddress.IPv6Interface(text))
        except ValueError:
            continue
    return found


def cluster() -> NodeAllocator:
    return NodeAllocator(["10.0.0.0/22", "fd00::/112"], node_mask={4: 24, 6: 120})


def holdings(result: Plan) -> list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    return [
        (n.name, net)
        for n in result
        if n.action in ("keep", "adopt", "assign")
        for net in networks(n.pod_cidrs)
    ]


@given(st.lists(node_items(), max_size=7))
def test_plan_never_raises_never_overlaps_never_moves_and_converges(
    items: list[dict[str, Any]],
) -> None:
    nodes = kube_nodes(items)
    alloc = cluster()
    result = plan(nodes, alloc)
    alloc._check()
    # Every listed node gets one action (a name listed twice: the copies are errors).
    assert sorted(n.name for n in result if n.action != "release") == sorted(n.name for n in nodes)
    # No two nodes' prefixes overlap.
    held = holdings(result)
    for i, (a, x) in enumerate(held):
        for b, y in held[i + 1 :]:
            assert a == b or x.version != y.version or not x.overlaps(y), (a, x, b, y)
    # A written prefix holds no node's address and no other node's subnet nested in its own (a
    # name listed twice: the oldest is planned, the copies are errors and count for nothing).
    first_of: dict[str, KubeNode] = {}
    for node in sorted(nodes, key=lambda n: n.sort_key):
        first_of.setdefault(node.name, node)
    interfaces = {n.name: annotated(n) for n in first_of.values()}
    addresses = {ipaddress.ip_address(a) for node in first_of.values() for a in node.addresses}
    addresses |= {i.ip for found in interfaces.values() for i in found}
    for n in result.writes:
        written = [net for net in networks(n.pod_cidrs) if net.version == 6]
        assert not any(a in net for net in written for a in addresses), n
        own = [
            i.network for i in interfaces[n.name] if any(w.subnet_of(i.network) for w in written)
        ]
        for name, found in interfaces.items():
            for theirs in (i.network for i in found):
                if name != n.name and any(theirs != o and theirs.subnet_of(o) for o in own):
                    assert not any(w.overlaps(theirs) for w in written), (n, name, theirs)
    # What a node holds is never changed: no write, and keep/adopt report it as stored.
    for n in result:
        stored = first_of.get(n.name)
        if stored is not None and stored.pod_cidrs and n.action != "error":
            assert n.action in ("keep", "adopt", "conflict"), n
            if n.action != "conflict":
                assert n.pod_cidrs == stored.pod_cidrs
    # Planned writes are what the API server accepts.
    for n in result.writes:
        versions = [ipaddress.ip_network(p).version for p in n.pod_cidrs]
        assert versions == list(alloc.families)
        assert all(p == str(ipaddress.ip_network(p)) for p in n.pod_cidrs)
        mapped = Prefix.parse("::ffff:0:0/96")
        assert not any(Prefix.parse(p).subnet_of(mapped) for p in n.pod_cidrs if ":" in p)
    # Planning the applied result again writes nothing, with this allocator or a fresh one.
    done = kube_nodes(applied(items, result))
    for again in (plan(done, alloc), plan(done, cluster())):
        assert not again.writes
        before = {n.name: n.action for n in result}
        for n in again:
            if before.get(n.name) == "assign":
                assert n.action in ("keep", "adopt"), n
