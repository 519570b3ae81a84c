"""ipv6alloc.capacity: every count of a report against arithmetic done here, by hand.

Expected values come from the definitions (a /P pool holds 2**(L - P) aligned /L blocks; a block
is free when no allocation, reservation or nested pool touches it) and from the policies' rules
(docs/policies.md: under SafePolicy a /64 gives /80s and its first /80 holds the subnet-router
anycast address and a node address low in the subnet; a /121 gives its upper /122; under
TalosPolicy a /121 is handed out whole), never from the report's own output. A property test
counts free and used blocks address by address in small pools.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc import (
    ConfigurationError,
    FixedPolicy,
    Ipv6AllocError,
    Node,
    NodeAllocator,
    Prefix,
    PrefixAllocator,
    TalosPolicy,
)
from ipv6alloc.capacity import (
    DEFAULT_MAX_PODS,
    FIELDS,
    CapacityReport,
    Exhaustion,
    NotFit,
    PoolCapacity,
    Thresholds,
)
from ipv6alloc.strategies import allocators

#: The example cluster's settings (the article's cluster CIDRs, /80 IPv6 fallback prefixes).
CLUSTER = ["10.0.0.0/12", "fd40:10::/64"]
MASKS = {4: 24, 6: 80}


def row(report: CapacityReport, pool: str) -> PoolCapacity:
    found = report.get(pool)
    assert found is not None, f"no row for {pool}"
    return found


def counts(r: PoolCapacity) -> tuple[int, int, int, int, int]:
    return r.prefixes_total, r.prefixes_used, r.prefixes_free, r.prefixes_unusable, r.nodes_fit


# -- the numbers -------------------------------------------------------------------------


def test_a_64_holds_65536_80s() -> None:
    report = CapacityReport.from_allocator(PrefixAllocator(["2001:db8::/64"]), pod_prefixlen=80)
    r = row(report, "2001:db8::/64")
    assert counts(r) == (2**16, 0, 2**16, 0, 65_536)
    assert r.addresses_per_prefix == 2 ** (128 - 80)
    assert r.pods_per_node == DEFAULT_MAX_PODS == 110
    assert (r.utilization, r.largest_free_prefixlen, r.fragmentation, r.status) == (
        0.0,
        64,
        0.0,
        "ok",
    )
    assert (r.family, r.kind, r.pod_prefixlen) == (6, "cluster", 80)


def test_a_22_holds_4_24s() -> None:
    report = CapacityReport.from_allocator(PrefixAllocator(["10.0.0.0/22"]), pod_prefixlen=24)
    r = row(report, "10.0.0.0/22")
    assert counts(r) == (4, 0, 4, 0, 4)
    assert (r.addresses_per_prefix, r.pods_per_node) == (256, 110)


def test_one_reserved_address_in_a_120_leaves_one_of_two_121s() -> None:
    pool = PrefixAllocator(["2001:db8::/120"], reserved=["2001:db8::5"])
    r = row(CapacityReport.from_allocator(pool, pod_prefixlen=121), "2001:db8::/120")
    assert counts(r) == (2, 0, 1, 1, 1)
    # Free: 255 addresses; the largest free aligned block is the upper /121 (128 addresses).
    assert r.largest_free_prefixlen == 121
    assert r.fragmentation == pytest.approx(1 - 128 / 255)
    assert r.utilization == 0.0


def test_nodes_fit_counts_aligned_blocks_never_free_addresses_over_block_size() -> None:
    # .127 and .128 reserved: 254 free addresses would be "one /25" by division; no /25 is free.
    pool = PrefixAllocator(["10.0.0.0/24"], reserved=["10.0.0.127", "10.0.0.128"])
    report = CapacityReport.from_allocator(pool, pod_prefixlen=25)
    r = row(report, "10.0.0.0/24")
    assert pool.statistics().pools[0].free_addresses // 128 == 1  # 254 // 128: "one /25"
    assert counts(r) == (2, 0, 0, 2, 0)
    assert r.status == "critical"  # no node fits, whatever the utilization (0 %)
    assert row(CapacityReport.from_allocator(pool, pod_prefixlen=26), "10.0.0.0/24").nodes_fit == 2


def test_huge_counts_stay_exact_ints() -> None:
    report = CapacityReport.from_allocator(PrefixAllocator(["2001:db8::/48"]), pod_prefixlen=120)
    r = row(report, "2001:db8::/48")
    assert r.prefixes_total == r.nodes_fit == 2**72 == 4_722_366_482_869_645_213_696
    assert type(r.prefixes_total) is int
    record = report.to_records()[0]
    assert record["prefixes_total"] == record["nodes_fit"] == "4722366482869645213696"
    assert record["addresses_per_prefix"] == 256  # small counts stay numbers
    assert r.pods_per_node == 110


def test_json_strings_start_just_above_2_to_the_53() -> None:
    # A /11 holds 2**53 /64s: still a number; a /10 holds 2**54: text.
    pools = PrefixAllocator(["2000::/11", "4000::/10"])
    records = CapacityReport.from_allocator(pools, pod_prefixlen=64).to_records()
    assert records[0]["prefixes_total"] == 2**53
    assert records[1]["prefixes_total"] == str(2**54) == "18014398509481984"
    data = json.loads(json.dumps(CapacityReport.from_allocator(pools, pod_prefixlen=64).to_dict()))
    assert data["pools"][1]["nodes_fit"] == "18014398509481984"
    assert data["totals"][0]["prefixes_total"] == str(2**53 + 2**54)


# -- a node allocator -----------------------------------------------------------------------------


def example_allocator(policy: Any = None) -> NodeAllocator:
    alloc = NodeAllocator(
        CLUSTER,
        node_mask=MASKS,
        policy=policy,
        service_cidrs=["10.100.0.0/22", "fd40:10:100::/112"],
    )
    alloc.assign(Node.create("a", subnets=["2001:db8:0:1::7/64"]))
    alloc.assign(Node.create("b", subnets=["2001:db8:0:2::100/121"]))
    return alloc


def test_node_allocator_rows_under_safe_policy() -> None:
    report = CapacityReport.from_allocator(example_allocator())
    assert [(str(r.pool), r.kind) for r in report.rows] == [
        ("10.0.0.0/12", "cluster"),
        ("fd40:10::/64", "cluster"),
        ("2001:db8:0:1::/64", "provider"),
        ("2001:db8:0:2::100/121", "provider"),
    ]
    ipv4 = row(report, "10.0.0.0/12")
    assert counts(ipv4) == (2**12, 2, 2**12 - 2, 0, 4094)
    assert (ipv4.pod_prefixlen, ipv4.utilization) == (24, 2 / 4096)
    assert counts(row(report, "fd40:10::/64")) == (2**16, 0, 2**16, 0, 2**16)
    # The /64: its first /80 holds the anycast address and the node's ::7; the node took one.
    slash64 = row(report, "2001:db8:0:1::/64")
    assert counts(slash64) == (2**16, 1, 2**16 - 2, 1, 2**16 - 2)
    assert (slash64.pod_prefixlen, slash64.pods_per_node) == (80, 110)
    # The /121: two /122 halves, the node holds the upper, the lower holds two reserved addresses.
    slash121 = row(report, "2001:db8:0:2::100/121")
    assert counts(slash121) == (2, 1, 0, 1, 0)
    assert (slash121.pod_prefixlen, slash121.addresses_per_prefix, slash121.pods_per_node) == (
        122,
        64,
        64,
    )
    assert (slash121.utilization, slash121.status) == (0.5, "critical")
    # The lower /122 holds ::100 (the anycast address, and the node's): 63 free addresses, the
    # largest free aligned block ::120/123 (32 addresses).
    assert slash121.largest_free_prefixlen == 123
    assert slash121.fragmentation == pytest.approx(1 - 32 / 63)


def test_node_allocator_rows_under_talos_policy() -> None:
    report = CapacityReport.from_allocator(example_allocator(TalosPolicy()))
    slash121 = row(report, "2001:db8:0:2::100/121")
    assert counts(slash121) == (1, 1, 0, 0, 0)
    assert (slash121.pod_prefixlen, slash121.largest_free_prefixlen) == (121, None)
    assert slash121.fragmentation == 0.0
    # Talos reserves nothing: the node's /80 is the first, the other 65,535 are free.
    assert counts(row(report, "2001:db8:0:1::/64")) == (2**16, 1, 2**16 - 1, 0, 2**16 - 1)


def test_max_pods_caps_pods_per_node() -> None:
    report = CapacityReport.from_allocator(example_allocator(), max_pods=200)
    assert row(report, "10.0.0.0/12").pods_per_node == 200  # a /24 holds 256
    assert row(report, "2001:db8:0:2::100/121").pods_per_node == 64  # a /122 holds 64
    assert report.max_pods == 200
    with pytest.raises(ConfigurationError, match=r"max_pods must be an integer from 1, not '0'"):
        CapacityReport.from_allocator(example_allocator(), max_pods=0)


def test_a_registered_node_s_subnet_is_counted_in_its_decision() -> None:
    alloc = NodeAllocator(CLUSTER, node_mask=MASKS)
    alloc.register(Node.create("waiting", subnets=["2001:db8:7::7/96"]))
    r = row(CapacityReport.from_allocator(alloc), "2001:db8:7::/96")
    # The reference table gives a /96 P+16 = /112 blocks; the first holds ::0 and ::7.
    assert (r.pod_prefixlen, *counts(r)) == (112, 2**16, 0, 2**16 - 1, 1, 2**16 - 1)


def test_a_restored_prefix_of_another_length_counts_in_blocks_of_the_decision() -> None:
    # The node holds a /80 from before; the policy now carves /96s from its /64.
    alloc = NodeAllocator(CLUSTER, node_mask=MASKS, policy=FixedPolicy(96))
    node = Node.create("old", subnets=["2001:db8:9::7/64"])
    result = alloc.restore(node, ["10.0.0.0/24", "2001:db8:9:0:1::/80"])
    assert result.ok
    r = row(CapacityReport.from_allocator(alloc), "2001:db8:9::/64")
    # The /80 covers 2**16 /96s; the first /96 holds ::0 and ::7.
    assert r.pod_prefixlen == 96
    assert counts(r) == (2**32, 2**16, 2**32 - 2**16 - 1, 1, 2**32 - 2**16 - 1)
    assert r.allocations == 1


def test_outside_pools_are_left_out() -> None:
    alloc = NodeAllocator(CLUSTER, node_mask=MASKS)
    result = alloc.restore("stray", ["192.0.2.0/24", "2001:db8:ffff::/80"])
    assert [status for _, status, _ in result.items] == ["outside", "outside"]
    assert {str(r.pool) for r in CapacityReport.from_allocator(alloc).rows} == set(CLUSTER)


# -- a bare prefix allocator --------------------------------------------------------------------


def test_prefix_allocator_lengths() -> None:
    pools = PrefixAllocator(["10.0.0.0/22", "2001:db8::/64"])
    both = CapacityReport.from_allocator(pools, pod_prefixlen={4: 24, 6: 96})
    assert [r.prefixes_total for r in both.rows] == [4, 2**32]
    with pytest.raises(
        ConfigurationError,
        match=r"pool 2001:db8::/64 holds no allocation to read a pod prefix length from: "
        r"pass pod_prefixlen=\{6: ...\}",
    ):
        CapacityReport.from_allocator(pools, pod_prefixlen={4: 24})
    with pytest.raises(ConfigurationError, match=r"pod prefix length '40' is out of range 0-32"):
        CapacityReport.from_allocator(pools, pod_prefixlen=40)
    with pytest.raises(TypeError, match="pod_prefixlen must be"):
        CapacityReport.from_allocator(pools, pod_prefixlen="24")  # type: ignore[arg-type]


def test_prefix_allocator_reads_the_most_common_length_the_longer_on_a_tie() -> None:
    pools = PrefixAllocator(["10.0.0.0/16"], placement="lowest")
    for length in (24, 24, 26, 26, 28):
        pools.allocate(length)
    r = CapacityReport.from_allocator(pools).rows[0]
    assert r.pod_prefixlen == 26
    # Two /24s cover 8 /26s, two /26s two, a /28 one (its /26 is not free).
    assert r.prefixes_used == 8 + 2 + 1
    assert r.prefixes_free == 2**10 - 11
    assert r.allocations == 5


def test_from_allocator_refuses_other_things() -> None:
    with pytest.raises(TypeError, match="from_allocator\\(\\) takes a NodeAllocator or a Pr"):
        CapacityReport.from_allocator("10.0.0.0/8")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pod_prefixlen is for a PrefixAllocator"):
        CapacityReport.from_allocator(example_allocator(), pod_prefixlen=24)
    with pytest.raises(TypeError, match="thresholds must be a Thresholds value"):
        CapacityReport.from_allocator(example_allocator(), thresholds=0.5)  # type: ignore[arg-type]


# -- statuses ------------------------------------------------------------------------------------


def pool_used(blocks: int, used: int, thresholds: Thresholds | None = None) -> PoolCapacity:
    """A /24 carved in ``blocks`` blocks, ``used`` of them allocated."""
    length = 24 + (blocks.bit_length() - 1)
    pools = PrefixAllocator(["10.0.0.0/24"], placement="lowest")
    for _ in range(used):
        pools.allocate(length)
    report = CapacityReport.from_allocator(pools, pod_prefixlen=length, thresholds=thresholds)
    return report.rows[0]


@pytest.mark.parametrize(
    ("used", "status"),
    [(0, "ok"), (11, "ok"), (12, "warn"), (14, "warn"), (15, "critical"), (16, "critical")],
)
def test_default_statuses_at_the_thresholds(used: int, status: str) -> None:
    # 16 blocks: 12/16 = 75 % (warn from here), 14/16 = 87.5 %, 15/16 = 93.75 % (critical).
    r = pool_used(16, used)
    assert r.utilization == used / 16
    assert r.status == status


@pytest.mark.parametrize(("used", "status"), [(1, "ok"), (2, "warn"), (3, "critical")])
def test_configured_thresholds_are_inclusive(used: int, status: str) -> None:
    assert pool_used(4, used, Thresholds(warn=0.5, critical=0.75)).status == status


def test_exactly_ninety_percent_is_critical() -> None:
    assert Thresholds().status(9 / 10, 1) == "critical"
    assert Thresholds().status(0.8999, 1) == "warn"
    assert Thresholds().status(0.0, 0) == "critical"


@pytest.mark.parametrize(
    ("warn", "critical"), [(0.95, 0.9), (-0.1, 0.5), (0.5, 1.5), (True, 0.9), ("0.5", 0.9)]
)
def test_bad_thresholds(warn: Any, critical: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"thresholds must satisfy 0 <= warn <= critical"):
        Thresholds(warn, critical)


# -- totals and what runs out first ---------------------------------------------------------------


def test_totals_per_family_and_kind() -> None:
    report = CapacityReport.from_allocator(example_allocator())
    totals = {(t.family, t.kind): t for t in report.totals}
    assert list(totals) == [(4, "cluster"), (6, "cluster"), (6, "provider")]
    provider = totals[6, "provider"]
    assert (provider.pools, provider.prefixes_total, provider.prefixes_used) == (2, 2**16 + 2, 2)
    assert (provider.nodes_fit, provider.prefixes_unusable) == (2**16 - 2, 2)
    assert (provider.ok, provider.warn, provider.critical) == (1, 0, 1)
    assert provider.utilization == 2 / (2**16 + 2)
    assert totals[4, "cluster"].to_record() == {
        "family": 4,
        "kind": "cluster",
        "pools": 1,
        "prefixes_total": 4096,
        "prefixes_used": 2,
        "prefixes_free": 4094,
        "prefixes_unusable": 0,
        "nodes_fit": 4094,
        "utilization": 2 / 4096,
        "ok": 1,
        "warn": 0,
        "critical": 0,
    }


def test_no_nodes_no_first_exhausted() -> None:
    report = CapacityReport.from_allocator(NodeAllocator(CLUSTER, node_mask=MASKS))
    assert report.nodes == 0
    assert report.first_exhausted is None
    assert report.exhaustion() == ()
    assert "first to run out: none" in str(report)


def test_the_cluster_pool_every_node_uses_runs_out_first() -> None:
    alloc = NodeAllocator(["10.0.0.0/22", "fd00::/64"], node_mask=MASKS)
    for i in range(2):
        alloc.assign(Node.create(f"n{i}", subnets=[f"2001:db8:{i}::7/64"]))
    report = CapacityReport.from_allocator(alloc)
    # Every node took a /24 (share 1), 2 of 4 are left; the IPv6 pool served nobody, and each
    # /64 is its node's own (new nodes bring their own): neither has a rate.
    assert [(str(e.row.pool), e.share, e.new_nodes) for e in report.exhaustion()] == [
        ("10.0.0.0/22", 1.0, 2)
    ]
    first = report.first_exhausted
    assert first is not None
    assert str(first.pool) == "10.0.0.0/22"


def test_a_shared_subnet_can_run_out_first() -> None:
    # Three nodes on one on-link /64, /67 pod prefixes: 8 blocks, the first holds ::0 and the
    # nodes' addresses, three are held: 4 free. The subnet's rate is 2 of 3 nodes (its first
    # node brought it): 4 / (2/3) = 6 more nodes. The IPv4 /16: 253 free at rate 1.
    alloc = NodeAllocator(
        ["10.0.0.0/16"], node_mask={4: 24}, families=[4, 6], policy=FixedPolicy(67)
    )
    for i in range(3):
        alloc.assign(Node.create(f"n{i}", subnets=[f"2001:db8::{i + 7}/64"]))
    report = CapacityReport.from_allocator(alloc)
    shared = row(report, "2001:db8::/64")
    assert counts(shared) == (8, 3, 4, 1, 4)
    assert [(str(e.row.pool), round(e.share, 6), e.new_nodes) for e in report.exhaustion()] == [
        ("2001:db8::/64", round(2 / 3, 6), 6),
        ("10.0.0.0/16", 1.0, 253),
    ]


def test_exhaustion_ties_keep_pool_order() -> None:
    pools = PrefixAllocator(["10.0.0.0/24", "10.1.0.0/24"])
    pools.allocate(26, pool="10.0.0.0/24")
    pools.allocate(26, pool="10.1.0.0/24")
    order = CapacityReport.from_allocator(pools).exhaustion()
    assert [str(e.row.pool) for e in order] == ["10.0.0.0/24", "10.1.0.0/24"]
    # Two allocations in all, one in each pool: share 1/2, 3 free: 6 more.
    assert order[0] == Exhaustion(order[0].row, 0.5, 6)


# -- selections ------------------------------------------------------------------------------------


def test_select_and_get() -> None:
    report = CapacityReport.from_allocator(example_allocator())
    assert [str(r.pool) for r in report.select(kind="provider", status="critical")] == [
        "2001:db8:0:2::100/121"
    ]
    ipv4 = report.select(family=4)
    assert len(ipv4) == 1
    assert [(t.family, t.kind) for t in ipv4.totals] == [(4, "cluster")]
    assert report.get("2001:db8:0:3::/64") is None
    with pytest.raises(ConfigurationError, match="kind must be 'cluster' or 'provider'"):
        report.select(kind="other")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="family must be 4 or 6"):
        report.select(family=5)
    with pytest.raises(ConfigurationError, match="status must be 'ok', 'warn' or 'critical'"):
        report.select(status="bad")  # type: ignore[arg-type]


def test_repr_says_what_it_holds() -> None:
    report = CapacityReport.from_allocator(example_allocator())
    assert repr(report) == (
        "CapacityReport(4 pools, 2 nodes, first exhausted: 10.0.0.0/12, 0 not fit)"
    )
    assert repr(NotFit("n", "why")) == "NotFit(node='n', reason='why')"


# -- the property: counts agree with a count address by address ----------------------------------


@st.composite
def filled_allocators(draw: st.DrawFn) -> tuple[PrefixAllocator, int]:
    """A small IPv6 allocator (pools /120-/126, some nested), some allocations no longer than
    the pod prefix length drawn, and a few reserved addresses."""
    alloc = draw(allocators(version=6, min_pool_prefixlen=120, max_pool_prefixlen=126))
    longest_pool = max(p.prefixlen for p in alloc.pools)
    pod = draw(st.integers(min_value=longest_pool, max_value=128))
    for _ in range(draw(st.integers(0, 12))):
        pool = draw(st.sampled_from(alloc.pools))
        length = draw(st.integers(pool.prefixlen, pod))
        with contextlib.suppress(Ipv6AllocError):  # a full pool: drawing one is the point
            alloc.allocate(length, pool=pool)
    for _ in range(draw(st.integers(0, 4))):
        pool = draw(st.sampled_from(alloc.pools))
        offset = draw(st.integers(0, pool.num_addresses - 1))
        with contextlib.suppress(Ipv6AllocError):  # taken already: skip it
            alloc.reserve(Prefix(6, pool.value + offset, 128))
    return alloc, pod


@given(filled_allocators())
def test_counts_agree_with_a_count_address_by_address(case: tuple[PrefixAllocator, int]) -> None:
    alloc, pod = case
    report = CapacityReport.from_allocator(alloc, pod_prefixlen=pod)
    for r in report.rows:
        pool = r.pool
        size = 1 << (128 - pod)
        own = [a.prefix for a in alloc.allocations() if alloc.pool_of(a.prefix) == pool]
        taken: set[int] = set()
        allocated: set[int] = set()
        for p in own:
            allocated.update(range(p.value, p.value + p.num_addresses))
        for p in alloc.reserved():
            if p.subnet_of(pool):
                taken.update(range(p.value, p.value + p.num_addresses))
        for inner in alloc.pools:
            if inner != pool and inner.subnet_of(pool):
                taken.update(range(inner.value, inner.value + inner.num_addresses))
        blocks = range(pool.value, pool.value + pool.num_addresses, size)
        free = sum(1 for b in blocks if not ({*range(b, b + size)} & (taken | allocated)))
        used = sum(1 for b in blocks if {*range(b, b + size)} & allocated)
        assert r.prefixes_total == len(blocks)
        assert r.prefixes_free == r.nodes_fit == free
        assert r.prefixes_used == used
        assert r.prefixes_unusable == len(blocks) - used - free
        assert r.utilization == used / len(blocks)
        assert r.allocations == len(own)
        assert (r.status == "critical") == (free == 0 or used / len(blocks) >= 0.9)


# -- the edge stays an edge ---------------------------------------------------------------------


def test_importing_capacity_loads_no_optional_library() -> None:
    code = (
        "import sys; import ipv6alloc.capacity; "
        "print(' '.join(m for m in sys.modules if m.split('.')[0] in "
        "('pandas', 'matplotlib', 'numpy', 'yaml') or m.startswith('ipv6alloc.kubernetes')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []


def test_public_names_are_pinned() -> None:
    from ipv6alloc import capacity

    assert sorted(capacity.__all__) == [
        "CapacityDiff",
        "CapacityReport",
        "DEFAULT_MAX_PODS",
        "Exhaustion",
        "FIELDS",
        "NotFit",
        "PoolCapacity",
        "PoolChange",
        "Thresholds",
        "Totals",
    ]
    classes = [v for v in map(vars(capacity).get, capacity.__all__) if isinstance(v, type)]
    assert CapacityReport in classes
    assert {c.__module__ for c in classes} == {"ipv6alloc.capacity"}
    assert FIELDS == (
        "pool",
        "family",
        "kind",
        "pod_prefixlen",
        "addresses_per_prefix",
        "pods_per_node",
        "prefixes_total",
        "prefixes_used",
        "prefixes_free",
        "prefixes_unusable",
        "nodes_fit",
        "utilization",
        "largest_free_prefixlen",
        "fragmentation",
        "status",
    )
