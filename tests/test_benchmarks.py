"""The benchmarks' quick scenarios give correct results (never a speed assertion).

Every contender runs every scenario at a small N in-process; the test checks what it holds at
the end: the right number of blocks, all inside the pools, none overlapping another, reserved
addresses left out. It also checks the peers' interface, the bitmap peer's 16-bit limit, the
time limit, the targets against both netaddr peers, merging one contender into earlier results
and an end-to-end quick run of the runner.
"""

from __future__ import annotations

import csv
import itertools
from time import perf_counter
from typing import TYPE_CHECKING

import pytest
from benchmarks import run as bench_run
from benchmarks.peers import (
    CONTENDERS,
    CannotStartError,
    Pool,
    PoolFullError,
    load,
)
from benchmarks.scenarios import (
    IMPORTS,
    SCENARIOS,
    Block,
    DidNotFinishError,
    Outcome,
    measure_memory,
    v4_prefixlen,
)
from netaddr import IPNetwork, IPSet

if TYPE_CHECKING:
    from pathlib import Path

N = 300
DOC = 0x20010DB8 << 96
WIDTH = {4: 32, 6: 128}

#: (contender, scenario) pairs that must refuse to start: the bitmap beyond 16 bits or mixed.
CANNOT_START = {("bitmap", "S1"), ("bitmap", "S3"), ("bitmap", "S5")}


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


@pytest.mark.parametrize("contender", CONTENDERS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario_results_are_correct(contender: str, scenario: str) -> None:
    if (contender, scenario) in CANNOT_START:
        with pytest.raises(CannotStartError):
            _run(contender, scenario)
        return
    outcome = _run(contender, scenario)
    per_node = 2 if scenario in {"S4", "S5"} else 1
    assert len(outcome.blocks) == N * per_node
    assert outcome.ops == (2 * N if scenario == "S3" else N)
    assert outcome.seconds > 0
    assert_disjoint_inside(outcome)
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
    names = {"S1", "S2", "S3", "S4", "S5", "S6", "memory", "targets"}
    assert {p.stem for p in tmp_path.glob("*.csv")} == names
    for name in ("S1", "S2", "S3", "S4", "S5"):
        rows = _read(tmp_path / f"{name}.csv")
        assert {r["peer"] for r in rows} == set(CONTENDERS)
        for r in rows:
            assert r["n"] == "200"
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
    targets = _read(tmp_path / "targets.csv")
    assert len(targets) == 11
    assert {t["met"] for t in targets} <= {"yes", "no", "not measured"}
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
