"""The benchmarks' quick scenarios give correct results (never a speed assertion).

Every contender runs every scenario at a small N in-process; the test checks what it holds at
the end: the right number of blocks, all inside the pools, none overlapping another, reserved
addresses left out, and ipv6alloc's own invariants (``_check()``). The scaling patterns (S7)
are checked in the state they start from and the state they leave; the node layer's two rows
(S9) must do the same allocator work, and so must the planner and S9's assign of the same nodes
(S10). It also checks the peers' interface, the bitmap peer's
16-bit limit, the time limit (for the timed part and for an untimed setup), the targets (against
both netaddr peers, the floor, the same code at 8N), merging one contender into earlier results
and an end-to-end quick run of the runner.
"""

from __future__ import annotations

import csv
import itertools
import tracemalloc
from dataclasses import replace
from time import perf_counter
from typing import TYPE_CHECKING

import pytest
from benchmarks import plot as bench_plot
from benchmarks import run as bench_run
from benchmarks.peers import (
    CONTENDERS,
    CannotStartError,
    Pool,
    PoolFullError,
    load,
)
from benchmarks.scenarios import (
    ENCLOSE_REPEAT,
    IMPORTS,
    NODE_LAYER,
    PATTERNS,
    PLANNING,
    S8_LENGTHS,
    SCENARIOS,
    SUBNET_ANNOTATION,
    Block,
    DidNotFinishError,
    Outcome,
    Scenario,
    measure_memory,
    measure_node_memory,
    migrated_cluster,
    nested_cluster,
    node_list,
    v4_prefixlen,
)
from netaddr import IPNetwork, IPSet

from ipv6alloc import NodeAllocator, Prefix, PrefixAllocator
from ipv6alloc.kubernetes import KubeNode, plan, read_nodes

if TYPE_CHECKING:
    from pathlib import Path

N = 300
DOC = 0x20010DB8 << 96
WIDTH = {4: 32, 6: 128}

#: (contender, scenario) pairs that must refuse to start: the bitmap beyond 16 bits or mixed.
CANNOT_START = {("bitmap", "S1"), ("bitmap", "S3"), ("bitmap", "S5")}
#: The scenarios where contenders race through the same operations, and who runs each (S7, S9
#: and S10 time ipv6alloc by pattern instead: tested apart).
RACES = [
    (contender, name)
    for name in sorted(SCENARIOS)
    if not SCENARIOS[name].variants
    for contender in SCENARIOS[name].contenders(CONTENDERS)
]
#: The churn scenarios: 2N operations, N blocks held at the end.
CHURN = {"S3", "S8"}


def _end(block: Block) -> int:
    version, value, prefixlen = block
    return value + (1 << (WIDTH[version] - prefixlen))


def _net(block: Block) -> IPNetwork:
    version, value, prefixlen = block
    return IPNetwork((value, prefixlen), version=version)


def assert_disjoint_inside(outcome: Outcome) -> None:
    """Every block lies inside a pool and no two blocks share an address."""
    blocks = sorted(outcome.blocks)
    for version, value, prefixlen in blocks:
        assert value >> (WIDTH[version] - prefixlen) << (WIDTH[version] - prefixlen) == value
    for a, b in itertools.pairwise(blocks):
        if a[0] == b[0]:
            assert _end(a) <= b[1], f"{_net(a)} overlaps {_net(b)}"
    # The same with netaddr: the union is as large as the sum, and inside the pools' union.
    union = IPSet(_net(b) for b in blocks)
    assert union.size == sum(_end(b) - b[1] for b in blocks)
    assert union.issubset(IPSet(_net(p) for p in outcome.pools))


def _run(contender: str, scenario: str, n: int = N) -> Outcome:
    s = SCENARIOS[scenario]
    return s.run(contender, s.prepare(n, 7), perf_counter() + 120)


def _held(allocator: PrefixAllocator) -> set[Block]:
    return {(a.prefix.version, a.prefix.value, a.prefix.prefixlen) for a in allocator.allocations()}


@pytest.mark.parametrize(("contender", "scenario"), RACES)
def test_scenario_results_are_correct(contender: str, scenario: str) -> None:
    if (contender, scenario) in CANNOT_START:
        with pytest.raises(CannotStartError):
            _run(contender, scenario)
        return
    outcome = _run(contender, scenario)
    per_node = 2 if scenario in {"S4", "S5"} else 1
    assert len(outcome.blocks) == N * per_node
    assert outcome.ops == (2 * N if scenario in CHURN else N)
    assert outcome.seconds > 0
    assert_disjoint_inside(outcome)
    if scenario in CHURN and contender == "ipv6alloc":
        # The allocator's own invariants hold, and it holds exactly what the run kept.
        assert isinstance(outcome.state, PrefixAllocator)
        outcome.state._check()
        assert _held(outcome.state) == set(outcome.blocks)
    if scenario == "S8":
        assert {prefixlen for _, _, prefixlen in outcome.blocks} <= set(S8_LENGTHS)
    if scenario == "S4":
        # Each node's subnet holds exactly its pod prefix; the IPv4 pool holds one per node.
        v6 = sorted(b for b in outcome.blocks if b[0] == 6)
        subnets = sorted(p for p in outcome.pools if p[0] == 6)
        assert len(subnets) == N
        for block, subnet in zip(v6, subnets, strict=True):
            assert subnet[1] <= block[1]
            assert _end(block) <= _end(subnet)
        assert all(b[2] == 24 for b in outcome.blocks if b[0] == 4)
        if contender != "floor":  # the floor checks nothing, on purpose (see its docstring)
            taken = IPSet(_net(b) for b in outcome.blocks)
            assert len(outcome.reserved) == N
            assert not any(_net(r) in taken for r in outcome.reserved)
    if scenario == "S5":
        work = SCENARIOS["S5"].prepare(N, 7)
        wanted = {str(IPNetwork(t)) for _, v6, v4 in work.nodes for t in (v6, v4)}
        assert {str(_net(b)) for b in outcome.blocks} == wanted


@pytest.mark.parametrize("contender", CONTENDERS)
def test_peer_fills_a_pool_then_reuses_released_space(contender: str) -> None:
    pool = Pool(6, DOC, 72)  # 256 /80s
    peer = load(contender)(pool, 80, 256)
    blocks = [peer.allocate(80) for _ in range(256)]
    assert sorted(v for v, _ in blocks) == [DOC + (i << 48) for i in range(256)]
    with pytest.raises(PoolFullError):
        peer.allocate(80)
    peer.release(*blocks[17])
    if contender == "floor":  # never reuses space: its cursor only moves forward
        with pytest.raises(PoolFullError):
            peer.allocate(80)
    else:
        assert peer.allocate(80) == blocks[17]


@pytest.mark.parametrize("contender", [c for c in CONTENDERS if c not in {"bitmap", "floor"}])
def test_peer_mixed_sizes_respect_occupied_blocks(contender: str) -> None:
    pool = Pool(6, DOC, 120)  # 256 addresses
    peer = load(contender)(pool, None, 16)
    peer.occupy(DOC + 0x40, 122)  # the second /122
    peer.occupy(DOC + 0x03, 128)
    got = [peer.allocate(p) for p in (122, 124, 126, 128, 128)]
    spans = sorted([(DOC + 0x40, 122), (DOC + 0x03, 128), *got])
    for (a, la), (b, _) in itertools.pairwise(spans):
        assert a + (1 << (128 - la)) <= b
    assert all(v >= DOC and v + (1 << (128 - p)) <= DOC + 256 for v, p in spans)
    with pytest.raises(PoolFullError):
        peer.allocate(121)  # both /121s are partly taken


def test_bitmap_refuses_more_than_16_bits_of_slots() -> None:
    bitmap = load("bitmap")
    bitmap(Pool(6, DOC, 64), 80, 0)  # exactly 16 bits: fine
    bitmap(Pool(4, 10 << 24, 8), 24, 0)
    for pool, prefixlen in ((Pool(6, DOC, 63), 80), (Pool(6, DOC, 48), 80), (Pool(4, 0, 8), 25)):
        with pytest.raises(CannotStartError, match="too big"):
            bitmap(pool, prefixlen, 0)
    with pytest.raises(CannotStartError, match="one prefix length"):
        bitmap(Pool(6, DOC, 64), None, 0)
    peer = bitmap(Pool(6, DOC, 64), 80, 0)
    with pytest.raises(CannotStartError):
        peer.allocate(96)


def test_bitmap_occupying_an_address_takes_its_slot() -> None:
    peer = load("bitmap")(Pool(6, DOC, 64), 80, 0)
    peer.occupy(DOC + 0x7952, 128)
    assert peer.allocate(80) == (DOC + (1 << 48), 80)


def test_v4_prefixlen_gives_every_node_a_block() -> None:
    for n in (1, 1000, 65_536, 65_537, 100_000, 10**6):
        length = v4_prefixlen(n)
        assert length >= 24
        assert 1 << (length - 8) >= n


def test_deadline_stops_a_run() -> None:
    s = SCENARIOS["S1"]
    with pytest.raises(DidNotFinishError):
        s.run("floor", s.prepare(N, 1), perf_counter() - 1)
    with pytest.raises(DidNotFinishError):
        measure_memory("floor", N, perf_counter() - 1)


def test_runner_records_did_not_finish_and_skips_larger_n() -> None:
    rows = bench_run.run_scenario(
        SCENARIOS["S1"], [100, 200], ["floor"], repeat=2, time_limit=0, budget=10, seed=1
    )
    assert [(r.n, r.status) for r in rows] == [
        (100, bench_run.DID_NOT_FINISH),
        (200, bench_run.DID_NOT_FINISH),
    ]
    assert rows[1].note == "not run: did not finish at N=100"


def test_runner_skips_a_size_that_cannot_finish_in_time() -> None:
    # 100 operations take well under 10 ms; 100,000 would need 1000 times as long.
    rows = bench_run.run_scenario(
        SCENARIOS["S1"], [100, 100_000], ["floor"], repeat=1, time_limit=0.01, budget=1, seed=1
    )
    assert [r.status for r in rows] == [bench_run.OK, bench_run.DID_NOT_FINISH]
    assert rows[1].note.startswith("not run: N=100 took")


def test_memory_is_measured() -> None:
    memory = measure_memory("ipv6alloc", N, perf_counter() + 60)
    assert memory.n == N
    assert memory.bytes_held > 0
    assert memory.peak_bytes >= memory.bytes_held


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_quick_run_writes_every_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_run.main(["--quick", "--n", "200", "--out", str(tmp_path)]) == 0
    assert "targets:" in capsys.readouterr().out
    names = {*SCENARIOS, "S6", "memory", "node-memory", "targets"}
    assert {p.stem for p in tmp_path.glob("*.csv")} == names
    for name in ("S1", "S2", "S3", "S4", "S5", "S7", "S8", "S9", "S10", "S11"):
        rows = _read(tmp_path / f"{name}.csv")
        scenario = SCENARIOS[name]
        expected = scenario.variants or scenario.contenders(CONTENDERS)
        assert {r["peer"] for r in rows} == set(expected)
        for r in rows:
            assert r["n"] == ("1600" if name == "S7" and r["n"] != "200" else "200")
            assert r["unit"] == scenario.unit_of(r["peer"])
            assert all(r[column] for column in ("machine", "cpus", "python", "date"))
            cannot = (r["peer"], name) in CANNOT_START
            assert r["status"] == ("cannot start" if cannot else "ok"), r
            if not cannot:
                assert float(r["min_s_per_op"]) <= float(r["median_s_per_op"])
                assert float(r["median_s_per_op"]) <= float(r["max_s_per_op"])
    assert {r["peer"] for r in _read(tmp_path / "S6.csv")} == set(IMPORTS)
    memory = {r["peer"]: r for r in _read(tmp_path / "memory.csv")}
    assert memory["ipv6alloc"]["status"] == "ok"
    assert memory["bitmap"]["status"] == "cannot start"
    assert len(_read(tmp_path / "S7.csv")) == 2 * len(PATTERNS)  # N=200 and 1,600
    (node_memory,) = _read(tmp_path / "node-memory.csv")
    assert (node_memory["n"], node_memory["status"]) == ("200", "ok")
    assert float(node_memory["bytes_per_node"]) > 0
    targets = _read(tmp_path / "targets.csv")
    assert len(targets) == 23
    assert {t["met"] for t in targets} <= {"yes", "no", "not measured"}
    # Measured from this run alone: S7 at N=200 and 1,600, S8, S9 and its memory per node.
    measured = [t for t in targets if t["target"].startswith(("S7", "S8", "S9", "S10", "S11"))]
    assert len(measured) == len(PATTERNS) + 7
    assert [t["met"] != "not measured" for t in measured] == [True] * (len(PATTERNS) + 3) + [
        False,  # the S9 planning-like target needs N=10^3 and 10^4
        False,  # so do both S10 targets: N=10^4 against 10^3, and plan against assign at 10^4
        False,
        False,  # and the S11 target, at N=10^4
    ]
    # The targets can be recomputed from the CSVs alone, to the same result.
    assert bench_run.main(["--targets-only", "--out", str(tmp_path)]) == 0
    assert _read(tmp_path / "targets.csv") == targets


@pytest.mark.parametrize("scenario", ["S1", "S3", "S5"])
def test_both_netaddr_peers_make_the_same_choices(scenario: str) -> None:
    # Both take the lowest free CIDR that can hold the length, from the same free space: one
    # keeps it up to date, the other computes it as pool - allocated on every allocation.
    assert _run("netaddr", scenario).blocks == _run("netaddr-naive", scenario).blocks


def test_netaddr_naive_occupy_refuses_a_taken_block_and_release_frees_it() -> None:
    peer = load("netaddr-naive")(Pool(6, DOC, 120), None, 4)
    peer.occupy(DOC + 0x40, 122)
    for value, prefixlen in ((DOC + 0x40, 122), (DOC + 0x44, 126), (DOC + 0x200, 128)):
        with pytest.raises(ValueError, match=r"taken|not in pool"):
            peer.occupy(value, prefixlen)
    assert peer.allocate(121) == (DOC + 0x80, 121)
    peer.release(DOC + 0x40, 122)
    assert peer.allocate(122) == (DOC, 122)
    assert peer.allocate(122) == (DOC + 0x40, 122)


def _row(scenario: str, peer: str, n: int, per_op: float | None) -> bench_run.Row:
    unit = "node" if scenario == "S5" else "op"
    if per_op is None:
        note = "a run took over 60 s"
        return bench_run.Row(
            scenario, peer, n, 0, unit, 0, None, None, None, None, bench_run.DID_NOT_FINISH, note
        )
    return bench_run.Row(
        scenario, peer, n, n, unit, 5, per_op, per_op, per_op, per_op * n, bench_run.OK
    )


def test_netaddr_targets_use_the_guide_peer_and_report_the_other() -> None:
    rows = [
        _row("S1", "ipv6alloc", 10**4, 1e-6),
        _row("S1", "netaddr-naive", 10**4, 3e-4),
        _row("S1", "netaddr", 10**4, 1e-4),
        _row("S5", "ipv6alloc", 10**5, 1e-5),
        _row("S5", "netaddr-naive", 10**3, 1e-3),
        _row("S5", "netaddr-naive", 10**4, None),
        _row("S5", "netaddr-naive", 10**5, None),
        _row("S5", "netaddr", 10**3, 2e-2),
        _row("S5", "netaddr", 10**5, None),
    ]
    targets = {t.target: t for t in bench_run.compute_targets(rows, [], time_limit=60)}
    s1 = [t for name, t in targets.items() if name.startswith("S1")]
    s5 = [t for name, t in targets.items() if name.startswith("S5")]
    # The target first, against the guide's definition; then the other peer, labelled.
    assert "per the guide" in s1[0].target
    assert "informational" in s1[1].target
    assert "incremental" in s1[1].target
    assert (s1[0].measured, s1[0].met) == ("300.00", "yes")
    assert (s1[1].measured, s1[1].met) == ("100.00", "no")
    # Did not finish: a lower bound from the largest N finished, per-op time times 10^5,
    # against ipv6alloc's 1 s, and never below the time limit.
    assert "per the guide" in s5[0].target
    assert (s5[0].measured, s5[0].met) == ("> 100", "yes")
    assert s5[0].detail.startswith("lower bound")
    assert (s5[1].measured, s5[1].met) == ("> 2000", "yes")
    assert "informational" in s5[1].target
    quick = [
        _row("S5", "ipv6alloc", 10**5, 1e-5),
        _row("S5", "netaddr-naive", 10**3, 1e-4),
        _row("S5", "netaddr-naive", 10**5, None),
    ]
    bound = bench_run.compute_targets(quick, [], time_limit=30)
    s5 = [t for t in bound if t.target.startswith("S5")]
    # 10^5 x 0.1 ms = 10 s is below the 30 s limit it did not finish within: 30 s is the bound.
    assert (s5[0].measured, s5[0].met) == ("> 30", "not measured")
    assert s5[1].met == "not measured"  # no row for the incremental peer


def test_merge_replaces_only_the_contenders_run(tmp_path: Path) -> None:
    common = ["--n", "200", "--repeat", "1", "--scenario", "S1", "--out", str(tmp_path)]
    assert bench_run.main([*common, "--peer", "ipv6alloc", "floor"]) == 0
    before = {r["peer"]: r for r in _read(tmp_path / "S1.csv")}
    assert bench_run.main([*common, "--peer", "netaddr-naive", "floor", "--merge"]) == 0
    rows = _read(tmp_path / "S1.csv")
    assert [r["peer"] for r in rows] == ["ipv6alloc", "netaddr-naive", "floor"]
    assert rows[0] == before["ipv6alloc"]  # kept as it was, with its own date
    assert [r["peer"] for r in _read(tmp_path / "memory.csv")] == [
        "ipv6alloc",
        "netaddr-naive",
        "floor",
    ]


# -- S7: scaling patterns ----------------------------------------------------------------------

#: N of the S7 checks: small, every pattern's state is checked whole.
S7_N = 64
PARENT = Prefix(6, DOC, 64)


def _children(n: int) -> set[Block]:
    return {(6, DOC | i << 8, 120) for i in range(n)}


def test_release_waiting_starts_with_every_node_address_waiting() -> None:
    work = SCENARIOS["S7"].prepare(S7_N, 7)
    alloc = migrated_cluster(work, perf_counter() + 60)
    alloc._check()
    assert len(alloc) == S7_N
    reserved = set(alloc.allocator.reserved())
    for node, (v4, v6) in work.migrated:
        assignment = alloc.get(node.name)
        assert assignment is not None
        assert [str(p) for p in assignment.pod_cidrs] == [v4, v6]  # adopted as they were
        assert v6.endswith("::100/121")
        # The node's own address lies in its own pod prefix: not reserved, waiting (warned).
        (address,) = node.addresses
        assert address not in reserved
        assert alloc.allocator.owner_of(address) == node.name
        assert assignment.warnings


def test_release_nested_starts_with_n_pools_nested_in_the_cluster_64() -> None:
    work = SCENARIOS["S7"].prepare(S7_N, 7)
    alloc = nested_cluster(work, perf_counter() + 60)
    alloc._check()
    roles = {p.pool: p.role for p in alloc.statistics().pools}
    assert roles.pop(PARENT) == "cluster"
    assert {(p.version, p.value, p.prefixlen) for p in roles} == _children(S7_N)
    assert set(roles.values()) == {"provider"}
    # SafePolicy: the anycast and node addresses (::X00, ::X01) reserved, pods in ::X80/121.
    assert len(alloc.allocator.reserved()) == 2 * S7_N
    assert {str(a.pod_cidr) for a in alloc.nodes()} == {
        str(IPNetwork((DOC | i << 8 | 0x80, 121), version=6)) for i in range(S7_N)
    }


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_scaling_pattern_ends_in_the_expected_state(pattern: str) -> None:
    s = SCENARIOS["S7"]
    outcome = s.run(pattern, s.prepare(S7_N, 7), perf_counter() + 120)
    assert outcome.seconds > 0
    assert outcome.setup_seconds > 0
    assert outcome.ops == (ENCLOSE_REPEAT * S7_N if pattern == "enclosing-pool" else S7_N)
    state = outcome.state
    assert state is not None
    state._check()
    allocator = state.allocator if isinstance(state, NodeAllocator) else state
    if isinstance(state, NodeAllocator):
        assert len(state) == 0
        assert state.registered() == ()
    # Nothing allocated or reserved is left; the pools are what the pattern leaves.
    assert outcome.blocks == ()
    assert outcome.reserved == ()
    parent = (6, DOC, 64)
    pools = {
        "release-waiting": {(4, 10 << 24, 8)},
        "enclosing-pool": _children(S7_N),
        "remove-nested": {parent},
        "release-nested": {parent},
        "unreserve-nested": {parent, *_children(S7_N)},
    }[pattern]
    assert sorted(outcome.pools) == sorted(pools)
    # Every pool's space is free again, but for the pools nested in it.
    for version, value, prefixlen in pools:
        pool = Prefix(version, value, prefixlen)
        free = IPSet([_net((version, value, prefixlen))]) - IPSet(
            _net(c) for c in pools if c[2] > prefixlen and c[0] == version
        )
        assert [str(p) for p in allocator.free_blocks(pool)] == [str(c) for c in free.iter_cidrs()]


def test_scaling_runs_every_n_at_8n_and_only_with_ipv6alloc(tmp_path: Path) -> None:
    s7 = SCENARIOS["S7"]
    assert s7.expand([200]) == [200, 1600]
    assert s7.expand([10**3, 10**4]) == [10**3, 8 * 10**3, 10**4, 8 * 10**4]
    assert s7.contenders(["floor"]) == []
    assert s7.contenders(["ipv6alloc", "floor"]) == list(PATTERNS)
    assert SCENARIOS["S8"].contenders(CONTENDERS) == ["ipv6alloc", "floor"]
    assert SCENARIOS["S8"].contenders(["netaddr", "floor"]) == ["floor"]
    assert SCENARIOS["S9"].contenders(["ipv6alloc"]) == list(NODE_LAYER)
    assert SCENARIOS["S10"].contenders(["ipv6alloc", "floor"]) == ["plan", "NodeAllocator.assign"]
    # Without ipv6alloc among the contenders, S7, S9 and S10 are skipped: no CSV, no failure.
    common = ["--n", "50", "--repeat", "1", "--no-memory", "--out", str(tmp_path)]
    assert bench_run.main([*common, "--scenario", "S7", "S9", "S10", "--peer", "floor"]) == 0
    assert list(tmp_path.glob("*.csv")) == []


def _fake_setup_run(contender: str, work: int, deadline: float) -> Outcome:
    del contender, deadline
    return Outcome(1e-3, work, (), (), setup_seconds=work * 1e-3)


def test_runner_skips_a_size_whose_setup_cannot_finish_in_time() -> None:
    # An untimed setup of 0.1 s at N=100 needs at least 1 s at N=1,000: over the 0.5 s limit.
    fake = Scenario("S7", "fake", "op", (100,), (100,), lambda n, _: n, _fake_setup_run)
    rows = bench_run.run_scenario(
        fake, [100, 1000], ["fake"], repeat=2, time_limit=0.5, budget=10, seed=1
    )
    assert [r.status for r in rows] == [bench_run.OK, bench_run.DID_NOT_FINISH]
    assert rows[0].note == "untimed setup 0.1 s per run"
    assert rows[1].note == (
        "not run: its untimed setup took 0.1 s at N=100, so N=1,000 needs over 1 s"
    )
    # The setup counts against the budget: 0.1 s of setup per run, a budget of 0.15 s.
    rows = bench_run.run_scenario(
        fake, [100], ["fake"], repeat=5, time_limit=0.5, budget=0.15, seed=1
    )
    assert rows[0].repeats == 2


# -- S9: the node layer ------------------------------------------------------------------------


def test_node_layer_rows_do_the_same_allocator_work() -> None:
    s = SCENARIOS["S9"]
    work = s.prepare(N, 7)
    assign, direct = (s.run(row, work, perf_counter() + 120) for row in NODE_LAYER)
    assert isinstance(assign.state, NodeAllocator)
    assert isinstance(direct.state, PrefixAllocator)
    assign.state._check()
    direct.state._check()
    assert len(assign.state) == N
    # The same pools, allocations (with owners) and reservations, from the same calls.
    assert (assign.pools, assign.blocks, assign.reserved) == (
        direct.pools,
        direct.blocks,
        direct.reserved,
    )
    assert assign.state.allocator.allocations() == direct.state.allocations()
    assert len(assign.pools) == N + 2
    assert len(assign.blocks) == 2 * N
    assert len(assign.reserved) == 2 * N
    assert (assign.ops, direct.ops) == (N, N)
    assert_disjoint_inside(assign)
    for name, subnet, anycast, address in work.work:
        got = assign.state.get(name)
        assert got is not None
        v6 = got.prefix(6)
        assert v6 is not None
        assert v6.prefixlen == 80
        assert v6.subnet_of(subnet)
        assert not anycast.subnet_of(v6)
        assert not address.subnet_of(v6)


def test_node_memory_is_measured() -> None:
    memory = measure_node_memory(N, perf_counter() + 60)
    assert memory.n == N
    assert memory.bytes_held > 0
    assert memory.peak_bytes >= memory.bytes_held
    assert not tracemalloc.is_tracing()  # stopped right after the measurement


# -- S10: planning -----------------------------------------------------------------------------


def test_planning_nodes_are_s9s_nodes_as_kubectl_prints_them() -> None:
    listing = node_list(3)
    assert (listing["kind"], listing["apiVersion"]) == ("List", "v1")
    assert {item["kind"] for item in listing["items"]} == {"Node"}
    kube = read_nodes(listing)
    layer = SCENARIOS["S9"].prepare(3, 7)
    assert [k.name for k in sorted(kube, key=lambda k: k.sort_key)] == [k.name for k in kube]
    assert len({k.creation_timestamp for k in kube}) == 3  # one second apart, oldest first
    assert len({k.uid for k in kube}) == 3
    assert all(k.resource_version for k in kube)
    for k, node in zip(kube, layer.nodes, strict=True):
        assert (k.pod_cidrs, k.problems, k.uninitialized, k.deleting) == ((), (), False, False)
        subnet = k.annotations[SUBNET_ANNOTATION]
        assert subnet.endswith("::100/64")
        assert k.addresses == (subnet.removesuffix("/64"),)  # the InternalIP
        core = k.to_node([subnet])
        assert (core.name, core.addresses, core.subnets) == (
            node.name,
            node.addresses,
            node.subnets,
        )


def test_planning_rows_do_the_same_allocator_work() -> None:
    s = SCENARIOS["S10"]
    work = s.prepare(N, 7)
    assert len(work.nodes) == N
    planned, assigned = (s.run(row, work, perf_counter() + 120) for row in PLANNING)
    assert isinstance(planned.state, NodeAllocator)
    assert isinstance(assigned.state, NodeAllocator)
    planned.state._check()
    assigned.state._check()
    assert len(planned.state) == len(assigned.state) == N
    # The same pools, allocations (with owners) and reservations: the planner registers every
    # node first, then assigns them oldest first, which is S9's order.
    assert (planned.pools, planned.blocks, planned.reserved) == (
        assigned.pools,
        assigned.blocks,
        assigned.reserved,
    )
    assert planned.state.allocator.allocations() == assigned.state.allocator.allocations()
    assert (planned.ops, assigned.ops) == (N, N)
    assert_disjoint_inside(planned)
    # What the planner decides: every node an assign, with the prefixes it holds.
    alloc = NodeAllocator(["10.0.0.0/8", "fd00::/48"], node_mask=work.layer.node_mask)
    result = plan(work.nodes, alloc)
    assert result.summary()["assign"] == N
    for node_plan in result:
        held = assigned.state.get(node_plan.name)
        assert held is not None
        assert node_plan.pod_cidrs == tuple(str(p) for p in held.pod_cidrs)
        assert node_plan.subnet is not None
        assert node_plan.subnet.endswith("::100/64")


def test_planning_run_refuses_a_plan_that_does_not_assign_every_node() -> None:
    s = SCENARIOS["S10"]
    work = s.prepare(N, 7)
    # A node without a subnet or an address waits: the run must not time a partial plan.
    waiting = replace(work, nodes=[*work.nodes[:-1], KubeNode("node-without-addresses")])
    with pytest.raises(RuntimeError, match=f"assigns {N - 1} of {N} nodes"):
        s.run("plan", waiting, perf_counter() + 120)
    # One call: the deadline is checked after it.
    with pytest.raises(DidNotFinishError, match="one call"):
        s.run("plan", work, perf_counter() - 1)
    with pytest.raises(KeyError, match="unknown S10 row"):
        s.run("allocator work", work, perf_counter() + 120)


def test_plot_draws_and_tabulates_only_the_scenarios_named(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    common = ["--n", "100", "--repeat", "1", "--no-memory", "--out", str(tmp_path)]
    assert bench_run.main([*common, "--scenario", "S9", "S10", "--peer", "ipv6alloc"]) == 0
    assert bench_plot.main(["--results", str(tmp_path), "--scenario", "S10"]) == 0
    assert [p.name for p in tmp_path.glob("*.png")] == ["S10.png"]
    text = bench_plot.markdown(tmp_path, ["S10"])
    assert text.startswith(f"**{bench_plot.TITLES['S10']}**: median µs per node")
    assert "| plan() of N Kubernetes nodes" in text
    assert "S9 node layer" not in text
    # The planner's row first, then the node layer's, in S10; S9 keeps its own order.
    rows = [line for line in text.splitlines() if line.startswith("| ") and "N=" not in line]
    assert [line.split(" | ")[0] for line in rows] == [
        f"| {PLANNING['plan']}",
        f"| {PLANNING['NodeAllocator.assign']}",
    ]
    assert "Measured on" in text


# -- the new targets ---------------------------------------------------------------------------


def _target(targets: list[bench_run.Target], start: str) -> bench_run.Target:
    (found,) = [t for t in targets if t.target.startswith(start)]
    return found


def test_scaling_targets_compare_8n_with_n() -> None:
    rows = [
        _row("S7", "remove-nested", 10**3, 4e-6),
        _row("S7", "remove-nested", 8 * 10**3, 6e-6),
        _row("S7", "remove-nested", 10**4, 4e-6),
        _row("S7", "remove-nested", 8 * 10**4, 1.2e-5),
        _row("S7", "enclosing-pool", 10**3, 2e-6),
        _row("S7", "enclosing-pool", 8 * 10**3, 2e-5),
        _row("S7", "release-nested", 10**3, 2e-5),
        _row("S7", "release-nested", 8 * 10**3, None),
        _row("S7", "unreserve-nested", 200, 1e-6),
        _row("S7", "unreserve-nested", 1600, 1e-6),
        _row("S7", "release-waiting", 10**3, 1e-5),
        _row("S7", "release-waiting", 8 * 10**3, 1.2e-5),
        _row("S7", "release-waiting", 10**4, 1.2e-5),
        replace(
            _row("S7", "release-waiting", 8 * 10**4, None),
            note="not run: its untimed setup took 22.0 s at N=10,000, so N=80,000 needs over 176 s",
        ),
    ]
    targets = bench_run.compute_targets(rows, [], time_limit=60)
    s7 = [t for t in targets if t.target.startswith("S7")]
    assert len(s7) == len(PATTERNS)
    assert all(t.bar == "<= 2" for t in s7)
    waiting, enclosing, remove, release, unreserve = s7
    # 8x10^4 not run for its setup: no bound on the timed part, the target at 10^3 stands.
    assert (waiting.measured, waiting.met) == ("1.20", "yes")
    assert "N=10^4 to 8x10^4: not measured (not run: its untimed setup took" in waiting.detail
    assert (enclosing.measured, enclosing.met) == ("10.00", "no")
    assert (remove.measured, remove.met) == ("1.50", "yes")
    assert "N=10^4 to 8x10^4: 3.00x" in remove.detail
    # 8N did not finish within 60 s, where N took 0.02 s: over 60 / (8 x 0.02) = 375 times.
    assert (release.measured, release.met) == ("> 375.0", "no")
    assert release.detail.startswith("lower bound")
    # Without N=10^3, the least N run with its 8N.
    assert (unreserve.measured, unreserve.met) == ("1.00", "yes")
    assert "N=200" in unreserve.detail


def test_floor_node_layer_and_memory_targets() -> None:
    assign, work = NODE_LAYER
    rows = [
        _row("S4", "ipv6alloc", 10**5, 2.0e-5),
        _row("S4", "floor", 10**5, 1.6e-5),
        _row("S8", "ipv6alloc", 10**3, 3e-6),
        _row("S8", "floor", 10**3, 1e-6),
        _row("S8", "ipv6alloc", 2 * 10**5, 8e-6),
        _row("S8", "floor", 2 * 10**5, 1e-6),
        _row("S9", assign, 10**3, 3e-5),
        _row("S9", assign, 10**4, 4.8e-5),
        _row("S9", work, 10**4, 1.5e-5),
        _row("S9", assign, 2 * 10**4, 3.2e-5),
        _row("S9", work, 2 * 10**4, 2e-5),
    ]
    node_memory = [
        bench_run.NodeMemoryRow(assign, 10**3, 900.0, 950.0, bench_run.OK),
        bench_run.NodeMemoryRow(assign, 2 * 10**4, 1600.0, 1700.0, bench_run.OK),
    ]
    targets = bench_run.compute_targets(rows, [], 60, node_memory)
    assert len(targets) == 23
    s4 = _target(targets, "S4")
    assert (s4.measured, s4.met, s4.bar) == ("1.25", "yes", "<= 1.5")
    s8 = _target(targets, "S8")
    assert (s8.measured, s8.met) == ("8.00", "yes")  # at the largest N both ran
    ratio = _target(targets, "S9 NodeAllocator.assign")
    assert (ratio.measured, ratio.met) == ("1.60", "yes")
    assert "N=20,000" in ratio.detail
    memory = _target(targets, "S9 memory")
    assert (memory.measured, memory.met) == ("1600", "no")  # the largest N measured
    planning = _target(targets, "S9 planning")
    assert (planning.measured, planning.met) == ("1.60", "no")
    assert bench_run.compute_targets([], [], 60)[-1].met == "not measured"


def test_planning_targets_compare_n_10_4_with_10_3_and_plan_with_assign() -> None:
    planner, assign = PLANNING
    rows = [
        _row("S10", planner, 10**3, 8e-5),
        _row("S10", assign, 10**3, 4e-5),
        _row("S10", planner, 10**4, 1e-4),
        _row("S10", assign, 10**4, 4e-5),
        _row("S10", planner, 2 * 10**4, 3e-4),  # not a target's N
    ]
    targets = bench_run.compute_targets(rows, [], 60)
    assert [t.target for t in targets[-3:-1]] == [
        "S10 planning cost per node: N=10^4 / N=10^3",
        "S10 plan per node / NodeAllocator.assign per node, at N=10^4",
    ]
    scaling, ratio = targets[-3:-1]
    assert (scaling.measured, scaling.met, scaling.bar) == ("1.25", "yes", "<= 1.5")
    assert scaling.detail.startswith("plan at N=10,000: 100.00 vs plan at N=1,000: 80.00")
    assert (ratio.measured, ratio.met, ratio.bar) == ("2.50", "no", "<= 2")
    assert "vs NodeAllocator.assign at N=10,000: 40.00" in ratio.detail
    # S10 at N=10^3 only: neither target is measured.
    missing = bench_run.compute_targets(rows[:2], [], 60)[-3:-1]
    assert [t.met for t in missing] == ["not measured", "not measured"]
