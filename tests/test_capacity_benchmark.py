"""Benchmark S11 (``benchmarks/``): the capacity report of N nodes, beside the state it reads.

Its runs must report exactly (one row per pool, the IPv4 pool counting every node), read
without changing the allocator, and its target must compare the two rows at N=10^4 and give
the report's absolute time.
"""

from __future__ import annotations

from time import perf_counter

import pytest
from benchmarks import run as bench_run
from benchmarks.scenarios import CAPACITY, SCENARIOS, Capacity, DidNotFinishError

N = 50


def test_s11_rows_read_the_same_allocator_without_changing_it() -> None:
    s = SCENARIOS["S11"]
    assert s.contenders(["ipv6alloc"]) == list(CAPACITY)
    assert s.contenders(["floor"]) == []
    work = s.prepare(N, 1)
    assert isinstance(work, Capacity)
    alloc = work.allocator
    before = alloc.snapshot()
    report = s.run("CapacityReport", work, perf_counter() + 60)
    reads = s.run("statistics + nodes", work, perf_counter() + 60)
    assert (report.ops, reads.ops) == (N, N)
    assert report.state is alloc
    assert reads.state is alloc
    assert alloc.snapshot() == before
    # S9's cluster: every node holds a /24 and a /80 of its own /64, whose anycast address and
    # the node's own are reserved.
    assert len(report.blocks) == 2 * N
    assert len(report.pools) == N + 2
    assert len(report.reserved) == 2 * N


def test_s11_refuses_unknown_rows_and_late_runs() -> None:
    s = SCENARIOS["S11"]
    work = s.prepare(3, 1)
    with pytest.raises(KeyError, match="unknown S11 row"):
        s.run("plan", work, perf_counter() + 60)
    with pytest.raises(DidNotFinishError, match="one call"):
        s.run("CapacityReport", work, perf_counter() - 1)


def _row(peer: str, n: int, seconds_per_node: float) -> bench_run.Row:
    return bench_run.Row(
        "S11",
        peer,
        n,
        n,
        "node",
        5,
        seconds_per_node,
        seconds_per_node,
        seconds_per_node,
        seconds_per_node * n,
        bench_run.OK,
    )


def test_s11_target_compares_the_report_with_what_it_reads() -> None:
    report, reads = CAPACITY
    rows = [
        _row(report, 10**3, 2e-5),
        _row(reads, 10**3, 1e-5),
        _row(report, 10**4, 3e-5),
        _row(reads, 10**4, 2e-5),
    ]
    target = bench_run.compute_targets(rows, [], 60)[-1]
    assert target.target == (
        "S11 capacity report over N=10^4 nodes / statistics() + nodes() it reads"
    )
    # 30 / 20 us per node; 10^4 nodes x 30 us = 0.3 s.
    assert (target.bar, target.measured, target.met) == ("<= 2", "1.50", "yes")
    assert target.detail.endswith("the report over 10^4 nodes took 0.300 s (under 1 s)")
    slow = bench_run.compute_targets([_row(report, 10**4, 1.5e-4), rows[3]], [], 60)[-1]
    assert (slow.measured, slow.met) == ("7.50", "no")
    assert slow.detail.endswith("took 1.500 s (not under 1 s)")
    assert bench_run.compute_targets(rows[:2], [], 60)[-1].met == "not measured"
