"""ipv6alloc.capacity: what-ifs on copies, diffs between reports, and reports from Nodes alone.

Expected values are worked out from the policies' rules by hand (docs/policies.md): under
SafePolicy a /64 gives /80s, its first /80 holding the anycast address and a node address low in
the subnet; a /120 or /121 gives the half without the node's address; a /126 or /128 is not
usable (pods would get fewer than 16 addresses), so such a node takes IPv6 from the cluster
pool. Under TalosPolicy nothing is reserved and a /121 is handed out whole.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

from ipv6alloc import (
    ConfigurationError,
    Node,
    NodeAllocator,
    Prefix,
    PrefixAllocator,
    TalosPolicy,
)
from ipv6alloc.capacity import CapacityReport, NotFit, PoolCapacity
from ipv6alloc.kubernetes import NodeReadError, read_nodes

CLUSTER = ["10.0.0.0/12", "fd40:10::/64"]
MASKS = {4: 24, 6: 80}


def live() -> NodeAllocator:
    """Two nodes: ``a`` on its own /64, ``b`` on its own /121 (its first address)."""
    alloc = NodeAllocator(CLUSTER, node_mask=MASKS, service_cidrs=["10.100.0.0/22"])
    alloc.assign(Node.create("a", subnets=["2001:db8:0:1::7/64"]))
    alloc.assign(Node.create("b", subnets=["2001:db8:0:2::100/121"]))
    return alloc


def row(report: CapacityReport, pool: str) -> PoolCapacity:
    found = report.get(pool)
    assert found is not None, f"no row for {pool}"
    return found


def counts(r: PoolCapacity) -> tuple[int, int, int, int]:
    return r.prefixes_total, r.prefixes_used, r.prefixes_free, r.prefixes_unusable


def prefix6(report: CapacityReport, name: str) -> Prefix | None:
    alloc = report.allocator
    assert isinstance(alloc, NodeAllocator)
    held = alloc.get(name)
    assert held is not None, f"{name} holds nothing"
    return held.prefix(6)


# -- the live allocator is never touched -----------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"add_nodes": 3},
        {"add_nodes": 2, "at": "2001:db8:0:1::/64"},
        {"add_nodes": 2, "at": "2001:db8:5::/112", "subnet_prefixlen": 120},
        {"add_nodes": [Node.create("c", subnets=["2001:db8:0:3::7/64"])]},
        {"policy": TalosPolicy()},
        {"node_mask": {4: 25}},
        {"node_mask": {4: 25}, "reassign": True, "add_nodes": 1},
        {"reassign": True},
    ],
    ids=lambda o: ",".join(sorted(o)),
)
def test_a_what_if_leaves_the_live_allocator_as_it_was(options: dict[str, Any]) -> None:
    alloc = live()
    statistics, snapshot = alloc.statistics(), alloc.snapshot()
    report = CapacityReport.from_allocator(alloc)
    rows = report.rows
    simulated = report.what_if(**options)
    assert simulated.allocator is not alloc
    assert alloc.statistics() == statistics
    assert alloc.snapshot() == snapshot
    assert report.rows == rows
    alloc._check()


# -- added nodes -----------------------------------------------------------------------------------


def test_synthetic_nodes_without_a_subnet_take_both_cluster_pools() -> None:
    report = CapacityReport.from_allocator(live())
    added = report.what_if(add_nodes=3)
    assert added.not_fit == ()
    assert counts(row(added, "10.0.0.0/12"))[:2] == (4096, 5)
    assert counts(row(added, "fd40:10::/64"))[:2] == (65536, 3)
    assert added.nodes == 5
    assert prefix6(added, "what-if-3") == Prefix.parse("fd40:10:0:0:2::/80")  # the third /80


def test_nodes_that_do_not_fit_come_with_the_reason() -> None:
    alloc = NodeAllocator(["10.0.0.0/22", "fd00::/64"], node_mask=MASKS)
    for name in ("a", "b"):
        alloc.assign(Node.create(name))
    added = CapacityReport.from_allocator(alloc).what_if(add_nodes=5)
    reason = "pool '10.0.0.0/22' has no free /24 left"
    assert added.not_fit == tuple(NotFit(f"what-if-{i}", reason) for i in (3, 4, 5))
    assert counts(row(added, "10.0.0.0/22")) == (4, 4, 0, 0)
    assert row(added, "10.0.0.0/22").status == "critical"
    assert "3 node(s) would not fit:\n  what-if-3: pool '10.0.0.0/22' has no free /24 left" in (
        str(added)
    )


def test_without_fallback_a_node_without_subnet_does_not_fit() -> None:
    alloc = NodeAllocator(CLUSTER, node_mask=MASKS, fallback=False)
    added = CapacityReport.from_allocator(alloc).what_if(add_nodes=1)
    assert added.not_fit == (
        NotFit("what-if-1", "node 'what-if-1' has no usable IPv6 subnet (it has no IPv6 subnet)"),
    )


def test_synthetic_names_skip_known_names() -> None:
    alloc = live()
    alloc.assign(Node.create("what-if-1"))
    added = CapacityReport.from_allocator(alloc).what_if(add_nodes=1)
    assert added.allocator is not None
    assert isinstance(added.allocator, NodeAllocator)
    assert set(added.allocator.holding()) == {"a", "b", "what-if-1", "what-if-2"}


def test_synthetic_nodes_on_one_shared_subnet() -> None:
    report = CapacityReport.from_allocator(live())
    added = report.what_if(add_nodes=3, at="2001:db8:0:1::/64")
    # The nodes sit at ::1, ::2, ::3: all in the first /80 with ::0 and node a's ::7. Node a
    # holds the second /80; the new nodes the next three.
    assert counts(row(added, "2001:db8:0:1::/64")) == (2**16, 4, 2**16 - 5, 1)
    assert [prefix6(added, f"what-if-{i}") for i in (1, 2, 3)] == [
        Prefix.parse(f"2001:db8:0:1:{i}::/80") for i in (2, 3, 4)
    ]
    assert row(added, "2001:db8:0:1::/64").allocations == 4


def test_a_shared_subnet_runs_out_of_addresses() -> None:
    # A /126 has 4 addresses: the nodes take ::1, ::2, ::3 (too small for pods: IPv6 from the
    # cluster pool); a fourth and fifth have no address left.
    added = CapacityReport.from_allocator(live()).what_if(add_nodes=5, at="2001:db8:6::/126")
    reason = "no address is left for it in 2001:db8:6::/126"
    assert added.not_fit == (NotFit("what-if-4", reason), NotFit("what-if-5", reason))
    assert counts(row(added, "fd40:10::/64"))[1] == 3


def test_synthetic_nodes_on_their_own_subnets_skip_provider_subnets() -> None:
    alloc = live()
    alloc.assign(Node.create("c", subnets=["2001:db8:7::5/120"]))
    report = CapacityReport.from_allocator(alloc)
    added = report.what_if(add_nodes=3, at="2001:db8:7::/112", subnet_prefixlen=120)
    new = [str(r.pool) for r in added.rows if r.pool.subnet_of("2001:db8:7::/112")]
    assert new == [
        "2001:db8:7::/120",
        "2001:db8:7::100/120",
        "2001:db8:7::200/120",
        "2001:db8:7::300/120",
    ]
    # Each at its subnet's ::1, in the lower /121 half: pods get the upper half.
    assert prefix6(added, "what-if-1") == Prefix.parse("2001:db8:7::180/121")
    diff = report.diff(added)
    assert [(str(c.pool), c.change) for c in diff if c.change == "added"] == [
        ("2001:db8:7::100/120", "added"),
        ("2001:db8:7::200/120", "added"),
        ("2001:db8:7::300/120", "added"),
    ]


def test_synthetic_subnets_run_out() -> None:
    added = CapacityReport.from_allocator(live()).what_if(
        add_nodes=5, at="2001:db8:8::/126", subnet_prefixlen=128
    )
    assert added.not_fit == (
        NotFit("what-if-5", "no /128 in 2001:db8:8::/126 is free of provider subnets"),
    )


def test_given_nodes() -> None:
    report = CapacityReport.from_allocator(live())
    added = report.what_if([Node.create("c", subnets=["2001:db8:0:3::7/64"]), Node.create("a")])
    assert added.not_fit == (NotFit("a", "a node named 'a' holds prefixes"),)
    assert counts(row(added, "2001:db8:0:3::/64")) == (2**16, 1, 2**16 - 2, 1)


# -- new settings ----------------------------------------------------------------------------------


def test_a_new_policy_keeps_what_nodes_hold() -> None:
    report = CapacityReport.from_allocator(live())
    talos = report.what_if(policy=TalosPolicy())
    assert talos.not_fit == ()
    # The held /80 and /122 stay; Talos carves whole /121s and reserves nothing.
    assert prefix6(talos, "a") == Prefix.parse("2001:db8:0:1:1::/80")
    assert prefix6(talos, "b") == Prefix.parse("2001:db8:0:2::140/122")
    assert counts(row(talos, "2001:db8:0:1::/64")) == (2**16, 1, 2**16 - 1, 0)
    slash121 = row(talos, "2001:db8:0:2::100/121")
    assert (slash121.pod_prefixlen, *counts(slash121)) == (121, 1, 1, 0, 0)


def test_a_new_policy_reassigned() -> None:
    talos = CapacityReport.from_allocator(live()).what_if(policy=TalosPolicy(), reassign=True)
    assert prefix6(talos, "a") == Prefix.parse("2001:db8:0:1::/80")
    assert prefix6(talos, "b") == Prefix.parse("2001:db8:0:2::100/121")


def test_a_new_node_mask_keeps_held_prefixes_or_reassigns() -> None:
    report = CapacityReport.from_allocator(live())
    kept = report.what_if(node_mask={4: 25})
    # Two /24s held: four /25 blocks used of 2**13.
    assert counts(row(kept, "10.0.0.0/12")) == (2**13, 4, 2**13 - 4, 0)
    assert row(kept, "10.0.0.0/12").pod_prefixlen == 25
    fresh = report.what_if(node_mask={4: 25}, reassign=True)
    assert counts(row(fresh, "10.0.0.0/12")) == (2**13, 2, 2**13 - 2, 0)
    held = fresh.allocator
    assert isinstance(held, NodeAllocator)
    assert str(held.get("a").pod_cidrs[0]) == "10.0.0.0/25"  # type: ignore[union-attr]


def test_reassigning_under_a_tighter_mask_leaves_nodes_out() -> None:
    alloc = NodeAllocator(["10.0.0.0/24"], node_mask={4: 25})
    for name in ("a", "b"):
        alloc.assign(Node.create(name))
    report = CapacityReport.from_allocator(alloc)
    fresh = report.what_if(node_mask={4: 24}, reassign=True)
    assert fresh.not_fit == (NotFit("b", "pool '10.0.0.0/24' has no free /24 left"),)
    kept = report.what_if(node_mask={4: 24})
    # Both /25s kept: the one /24 block is used (two longer prefixes count one block).
    assert counts(row(kept, "10.0.0.0/24")) == (1, 1, 0, 0)
    assert row(kept, "10.0.0.0/24").allocations == 2


def test_what_ifs_chain_and_keep_the_selection() -> None:
    report = CapacityReport.from_allocator(live()).select(kind="cluster")
    twice = report.what_if(add_nodes=1).what_if(add_nodes=1)
    assert [str(r.pool) for r in twice] == CLUSTER
    assert row(twice, "10.0.0.0/12").prefixes_used == 4


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"add_nodes": -1}, ConfigurationError, "add_nodes must be 0 or more, not '-1'"),
        ({"add_nodes": "3"}, TypeError, "add_nodes must be a count of nodes or a list of Node"),
        ({"add_nodes": True}, TypeError, "add_nodes must be a count"),
        ({"add_nodes": [1]}, TypeError, "add_nodes holds int '1': each must be a Node"),
        ({"add_nodes": 1, "at": "10.1.0.0/16"}, ConfigurationError, "at must be an IPv6"),
        (
            {"add_nodes": 1, "at": "2001:db8::/64", "subnet_prefixlen": 48},
            ConfigurationError,
            "subnet_prefixlen must lie between 64 \\(that of at\\) and 128, not '48'",
        ),
        ({"add_nodes": 1, "subnet_prefixlen": 64}, ConfigurationError, "subnet_prefixlen needs at"),
        (
            {"add_nodes": [Node.create("z")], "at": "2001:db8::/64"},
            ConfigurationError,
            "at and subnet_prefixlen are for add_nodes=N",
        ),
        ({"reassign": "yes"}, TypeError, "reassign must be True or False"),
        ({"node_mask": 24}, TypeError, "node_mask must map IP versions"),
        ({"node_mask": {4: 8}}, ConfigurationError, "cannot hold a /8 node prefix"),
        ({"policy": "talos"}, TypeError, "policy must have a choose\\(\\) method"),
    ],
)
def test_what_if_refuses_bad_arguments(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    report = CapacityReport.from_allocator(live())
    with pytest.raises(error, match=message):
        report.what_if(**options)


def test_what_if_needs_a_node_allocator() -> None:
    report = CapacityReport.from_allocator(PrefixAllocator(["10.0.0.0/22"]), pod_prefixlen=24)
    with pytest.raises(TypeError, match="what_if\\(\\) needs a report read from a NodeAllocator"):
        report.what_if(add_nodes=1)


# -- diffs -----------------------------------------------------------------------------------------


def test_diff_changed_added_removed() -> None:
    report = CapacityReport.from_allocator(live())
    added = report.what_if([Node.create("c", subnets=["2001:db8:0:3::7/64"])])
    diff = report.diff(added)
    assert [(str(c.pool), c.change) for c in diff] == [
        ("10.0.0.0/12", "changed"),
        ("2001:db8:0:3::/64", "added"),
    ]
    ipv4, new = diff.changes
    assert (ipv4.prefixes_used_delta, ipv4.nodes_fit_delta) == (1, -1)
    assert (new.before, new.prefixes_used_delta, new.nodes_fit_delta) == (None, 1, 2**16 - 2)
    assert diff.to_records()[0] == {
        "pool": "10.0.0.0/12",
        "family": 4,
        "kind": "cluster",
        "change": "changed",
        "pod_prefixlen_before": 24,
        "pod_prefixlen_after": 24,
        "prefixes_used_before": 2,
        "prefixes_used_after": 3,
        "nodes_fit_before": 4094,
        "nodes_fit_after": 4093,
        "utilization_before": 2 / 4096,
        "utilization_after": 3 / 4096,
        "status_before": "ok",
        "status_after": "ok",
        "prefixes_used_delta": 1,
        "nodes_fit_delta": -1,
    }
    back = added.diff(report)
    assert [(str(c.pool), c.change) for c in back] == [
        ("10.0.0.0/12", "changed"),
        ("2001:db8:0:3::/64", "removed"),
    ]
    assert back.changes[1].nodes_fit_delta == -(2**16 - 2)
    assert repr(diff) == "CapacityDiff(1 added, 0 removed, 1 changed, 0 not fit)"


def test_diff_renders() -> None:
    report = CapacityReport.from_allocator(live())
    same = report.diff(report)
    assert len(same) == 0
    assert str(same) == "no pool changed"
    assert same._repr_html_() == "<p>no pool changed</p>"
    diff = report.diff(report.what_if(add_nodes=1))
    lines = str(diff).splitlines()
    assert lines[0].split() == ["POOL", "KIND", "CHANGE", "BEFORE", "AFTER", "NODES", "FIT"]
    assert lines[1].split()[:3] == ["10.0.0.0/12", "cluster", "changed"]
    assert "/24 used 2 fit 4,094 (0.0 %, ok)" in lines[1]
    assert lines[1].endswith("-1")
    assert lines[2].split()[:3] == ["fd40:10::/64", "cluster", "changed"]
    html = diff._repr_html_()
    assert html.count("<tr>") == 1 + len(diff)
    assert ">-1</td>" in html
    with pytest.raises(TypeError, match="diff\\(\\) takes a CapacityReport"):
        report.diff("x")  # type: ignore[arg-type]


def test_diff_lists_the_nodes_that_do_not_fit() -> None:
    alloc = NodeAllocator(["10.0.0.0/24"], node_mask={4: 24})
    report = CapacityReport.from_allocator(alloc)
    diff = report.diff(report.what_if(add_nodes=[Node.create("x"), Node.create("<y>")]))
    assert diff.not_fit == (NotFit("<y>", "pool '10.0.0.0/24' has no free /24 left"),)
    assert str(diff).endswith(
        "1 node(s) would not fit:\n  <y>: pool '10.0.0.0/24' has no free /24 left"
    )
    assert "<code>&lt;y&gt;</code>" in diff._repr_html_()


# -- reports from Nodes alone ----------------------------------------------------------------------

SUBNETS = {"n1": "2001:db8:1::7/64", "n2": "2001:db8:2::100/121"}
SETTINGS: dict[str, Any] = {"cluster_cidrs": ["10.0.0.0/16", "fd00::/64"], "node_mask": MASKS}


def node_mapping(name: str, day: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "creationTimestamp": f"2024-01-{day:02d}T00:00:00Z",
            "annotations": {"ipv6alloc.io/node-subnets": SUBNETS[name]},
        },
    }


def official(name: str, day: int) -> k8s.V1Node:
    import datetime as dt

    return k8s.V1Node(
        api_version="v1",
        kind="Node",
        metadata=k8s.V1ObjectMeta(
            name=name,
            uid=f"uid-{name}",
            creation_timestamp=dt.datetime(2024, 1, day, tzinfo=dt.UTC),
            annotations={"ipv6alloc.io/node-subnets": SUBNETS[name]},
        ),
    )


ITEMS = [node_mapping("n1", 1), node_mapping("n2", 2)]
SHAPES: dict[str, Any] = {
    "kind: List": {"kind": "List", "items": ITEMS},
    "NodeList": {"kind": "NodeList", "apiVersion": "v1", "items": ITEMS},
    "list of mappings": ITEMS,
    "tuple of mappings": tuple(ITEMS),
    "KubeNode values": read_nodes(ITEMS),
    "V1NodeList": k8s.V1NodeList(items=[official("n1", 1), official("n2", 2)]),
    "list of V1Node": [official("n1", 1), official("n2", 2)],
    "core Nodes": [Node.create(name, subnets=[subnet]) for name, subnet in SUBNETS.items()],
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_from_nodes_reads_every_shape(shape: str) -> None:
    report = CapacityReport.from_nodes(SHAPES[shape], **SETTINGS)
    assert report.nodes == 2
    assert report.not_fit == ()
    assert [(str(r.pool), *counts(r)) for r in report.rows] == [
        ("10.0.0.0/16", 256, 2, 254, 0),
        ("fd00::/64", 2**16, 0, 2**16, 0),
        ("2001:db8:1::/64", 2**16, 1, 2**16 - 2, 1),
        ("2001:db8:2::100/121", 2, 1, 0, 1),
    ]


def test_from_nodes_a_single_node_mapping() -> None:
    report = CapacityReport.from_nodes(node_mapping("n1", 1), **SETTINGS)
    assert [str(r.pool) for r in report.rows] == ["10.0.0.0/16", "fd00::/64", "2001:db8:1::/64"]


def test_from_nodes_lists_the_plan_s_errors() -> None:
    bare = {
        "kind": "Node",
        "metadata": {"name": "bare"},
        "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.9"}]},
    }
    report = CapacityReport.from_nodes([node_mapping("n1", 1), bare], **SETTINGS, fallback=False)
    assert [n.node for n in report.not_fit] == ["bare"]
    assert report.not_fit[0].reason.startswith("node 'bare' has no usable IPv6 subnet")
    assert report.nodes == 1


def test_from_core_nodes_duplicates_and_full_pools() -> None:
    nodes = [Node.create("a"), Node.create("b"), Node.create("a")]
    report = CapacityReport.from_nodes(nodes, ["10.0.0.0/24"], node_mask={4: 24})
    assert report.not_fit == (
        NotFit("a", "node 'a' is listed more than once"),
        NotFit("b", "pool '10.0.0.0/24' has no free /24 left"),
    )


def test_from_nodes_refuses_bad_input() -> None:
    core = SHAPES["core Nodes"]
    with pytest.raises(TypeError, match="sources are for Kubernetes Nodes"):
        CapacityReport.from_nodes(core, **SETTINGS, sources=[])
    with pytest.raises(NodeReadError, match="read text with parse_nodes"):
        CapacityReport.from_nodes('{"kind": "List"}', **SETTINGS)
    with pytest.raises(ConfigurationError, match="needs a node mask"):
        CapacityReport.from_nodes(core, ["10.0.0.0/16"])
    with pytest.raises(ConfigurationError, match="max_pods must be an integer from 1"):
        CapacityReport.from_nodes(core, **SETTINGS, max_pods=-5)


def test_from_nodes_report_s_what_if_uses_the_planned_allocator() -> None:
    report = CapacityReport.from_nodes(SHAPES["kind: List"], **SETTINGS)
    assert isinstance(report.allocator, NodeAllocator)
    assert set(report.allocator.holding()) == {"n1", "n2"}
    added = report.what_if(add_nodes=254)
    assert added.not_fit == ()
    assert row(added, "10.0.0.0/16").nodes_fit == 0
    assert len(report.what_if(add_nodes=255).not_fit) == 1
