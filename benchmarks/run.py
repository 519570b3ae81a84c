"""Run the benchmarks and write ``benchmarks/results/*.csv``.

Usage::

    python -m benchmarks.run                   # everything (about 15-20 minutes on 2 cores)
    python -m benchmarks.run --quick           # N=1000, one repeat: a smoke test for CI
    python -m benchmarks.run --scenario S1 S3 --max-n 100000 --repeat 7
    python -m benchmarks.run --scenario S1 --peer netaddr-naive --merge   # add one contender
    python -m benchmarks.run --scenario S7 --n 1000    # one scenario at N (S7: N and 8N)
    python -m benchmarks.run --scenario S10 --peer ipv6alloc --merge   # S10 alone, kept apart
    python -m benchmarks.run --scenario S11 --peer ipv6alloc --merge   # S11 alone, kept apart

Method (see ``docs/performance.md``): every contender runs the same data in the same process,
alternating within each repeat (the order rotates from one repeat to the next), so that the
ratios compare like with like on a noisy machine. Before a scenario, each contender runs it once
untimed at a small N (warm-up). A run that passes ``--time-limit`` is stopped and recorded as
"did not finish", and the contender is not run at larger N. Repeats of a point stop early once
a contender has spent ``--budget`` seconds on it; the ``repeats`` column says how many runs
each row rests on. Quick runs write to ``benchmarks/results/quick/`` so they never overwrite
the published figures. ``--merge`` adds or refreshes some contenders (``--peer``) in the CSVs
already there, keeping the other contenders' rows and their dates (S6 is always rewritten).

S7 (scaling patterns), S9 (node layer) and S10 (planning) time ipv6alloc several ways: their
rows are named by pattern in the ``peer`` column and run when ipv6alloc is among ``--peer``; S8
runs only ipv6alloc and the floor. S7 runs every N at 8N too. Untimed setup inside a run (S7
builds the state its operations consume) counts against ``--budget`` and ``--time-limit`` like
the timed part, and the ``note`` column gives its median. After S9, ``node-memory.csv`` gets
the bytes a ``NodeAllocator`` holds per node (tracemalloc). S10 times ``plan()`` beside S9's
``NodeAllocator.assign`` of the same nodes; its targets compare the two at N=10^4, and the
planner at 10^4 with itself at 10^3. S11 times a capacity report beside reading the state it
reads (``statistics()`` and ``nodes()``) of the same allocator; its target compares the two at
N=10^4, and its detail gives the report's absolute time there.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import gc
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any, TypeVar

from .peers import CONTENDERS, LABELS, CannotStartError
from .scenarios import (
    CAPACITY,
    IMPORTS,
    NODE_LAYER,
    PATTERNS,
    PLANNING,
    SCALE,
    SCENARIOS,
    STDLIB_FLOOR,
    DidNotFinishError,
    measure_import,
    measure_memory,
    measure_node_memory,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .scenarios import Scenario

T = TypeVar("T")

RESULTS = Path(__file__).resolve().parent / "results"
#: N of the untimed warm-up run of each contender, before each scenario.
WARMUP_N = 100
#: Scenario names accepted by ``--scenario``, in the order they run (S6 is the import cost).
ALL_SCENARIOS = tuple(sorted([*SCENARIOS, "S6"], key=lambda name: int(name[1:])))
#: S9's rows: the node layer, and the allocator work it performs (see NODE_LAYER).
ASSIGN, ALLOCATOR_WORK = NODE_LAYER
#: S10's rows: the planner, and S9's NodeAllocator.assign of the same nodes (see PLANNING).
PLAN, PLAN_ASSIGN = PLANNING
#: S11's rows: the capacity report, and the public state it reads (see CAPACITY).
REPORT, REPORT_READS = CAPACITY
#: Where S9's memory per node goes (one row: NodeAllocator.assign at the largest N of S9).
NODE_MEMORY_CSV = "node-memory.csv"

OK = "ok"
DID_NOT_FINISH = "did not finish"
CANNOT_START = "cannot start"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Machine:
    """Where and when the figures were measured (a column group of every CSV)."""

    machine: str
    cpus: int
    python: str
    date: str

    @classmethod
    def here(cls) -> Machine:
        cpu = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
                for line in info:
                    if line.startswith("model name"):
                        cpu = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        return cls(
            machine=f"{platform.system()} {platform.machine()}, {cpu}",
            cpus=os.cpu_count() or 0,
            python=f"{platform.python_implementation()} {platform.python_version()}",
            date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One point: a contender in a scenario at one N."""

    scenario: str
    peer: str
    n: int
    ops: int
    unit: str
    repeats: int
    min_s_per_op: float | None
    median_s_per_op: float | None
    max_s_per_op: float | None
    median_total_s: float | None
    status: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class MemoryRow:
    """Memory a contender holds per allocation after carving N /80s from a /48."""

    peer: str
    n: int
    bytes_per_allocation: float | None
    peak_bytes_per_allocation: float | None
    status: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class NodeMemoryRow:
    """Memory a ``NodeAllocator`` holds per node after assigning S9's N nodes."""

    peer: str
    n: int
    bytes_per_node: float | None
    peak_bytes_per_node: float | None
    status: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """One target of the issue: the bar, the measured value and whether it is met."""

    target: str
    bar: str
    measured: str
    met: str
    detail: str = ""


@dataclass(slots=True)
class _Point:
    """Timings of one contender at one point while its repeats run."""

    times: list[float]
    setup: list[float] = field(default_factory=list)
    ops: int = 0
    spent: float = 0.0
    status: str = OK
    note: str = ""
    done: bool = False


# -- running -----------------------------------------------------------------------------------


def run_scenario(
    scenario: Scenario[Any],
    sizes: Sequence[int],
    contenders: Sequence[str],
    *,
    repeat: int,
    time_limit: float,
    budget: float,
    seed: int,
) -> list[Row]:
    """Run every contender through ``scenario`` at each size; one :class:`Row` per point."""
    rows: list[Row] = []
    stopped: dict[str, str] = {}  # contender -> why it is not run at larger N
    warm = scenario.prepare(min(WARMUP_N, *sizes), seed)
    for contender in contenders:
        try:
            scenario.run(contender, warm, perf_counter() + time_limit)
        except (CannotStartError, DidNotFinishError):
            pass
        except Exception as error:  # recorded as "failed" in the timed runs, per point
            print(f"  warm-up: {contender} failed: {error!r}", file=sys.stderr)
    last: dict[str, tuple[int, float]] = {}  # contender -> (N, median seconds) of its last point
    last_setup: dict[str, tuple[int, float]] = {}  # the same for the untimed setup of a run
    for n in sizes:
        for contender, (n0, t0) in last.items():
            # Every contender does at least constant work per operation, so N takes at least
            # n / n0 times as long as n0 did: past the limit, the run cannot finish in time.
            if contender not in stopped and t0 * n / n0 > time_limit:
                stopped[contender] = (
                    f"not run: N={n0:,} took {t0:.1f} s, so N={n:,} needs over {t0 * n / n0:.0f} s"
                )
        for contender, (n0, t0) in last_setup.items():
            if contender not in stopped and t0 * n / n0 > time_limit:  # the same for the setup
                stopped[contender] = (
                    f"not run: its untimed setup took {t0:.1f} s at N={n0:,}, so N={n:,} "
                    f"needs over {t0 * n / n0:.0f} s"
                )
        work = scenario.prepare(n, seed)
        points = {c: _Point([]) for c in contenders}
        for contender, why in stopped.items():
            points[contender] = _Point([], status=DID_NOT_FINISH, note=why, done=True)
        for r in range(repeat):
            order = [*contenders[r % len(contenders) :], *contenders[: r % len(contenders)]]
            for contender in order:
                point = points[contender]
                if not point.done:
                    _run_once(
                        scenario, contender, work, point, time_limit=time_limit, budget=budget
                    )
                    if point.status == DID_NOT_FINISH:
                        stopped[contender] = f"not run: did not finish at N={n:,}"
                    elif point.status == FAILED:
                        stopped[contender] = f"not run: failed at N={n:,}"
        for contender in contenders:
            row = _row(scenario, contender, n, points[contender])
            rows.append(row)
            if row.median_total_s is not None:
                last[contender] = (n, row.median_total_s)
            if points[contender].setup:
                last_setup[contender] = (n, statistics.median(points[contender].setup))
            print(_describe(row), flush=True)
        del work
    return rows


def _run_once(
    scenario: Scenario[Any],
    contender: str,
    work: object,
    point: _Point,
    *,
    time_limit: float,
    budget: float,
) -> None:
    gc.collect()
    try:
        outcome = scenario.run(contender, work, perf_counter() + time_limit)
    except CannotStartError as error:
        point.status, point.note, point.done = CANNOT_START, str(error), True
    except DidNotFinishError as error:
        point.done = True
        where = f" ({error})" if str(error) else ""
        if not point.times:
            point.status, point.note = DID_NOT_FINISH, f"a run took over {time_limit:g} s{where}"
        else:
            point.note = f"a later run took over {time_limit:g} s{where}"
    except Exception as error:  # a contender's bug must not stop the others
        point.status, point.note, point.done = FAILED, f"{type(error).__name__}: {error}", True
    else:
        point.times.append(outcome.seconds)
        if outcome.setup_seconds:
            point.setup.append(outcome.setup_seconds)
        point.ops = outcome.ops
        point.spent += outcome.seconds + outcome.setup_seconds
        if point.spent >= budget:
            point.done = True


def _row(scenario: Scenario[Any], contender: str, n: int, point: _Point) -> Row:
    unit = scenario.unit_of(contender)
    if point.status != OK or not point.times:
        return Row(
            scenario.name,
            contender,
            n,
            0,
            unit,
            0,
            None,
            None,
            None,
            None,
            point.status,
            point.note,
        )
    per_op = [t / point.ops for t in point.times]
    notes = [point.note] if point.note else []
    if point.setup:
        notes.append(f"untimed setup {statistics.median(point.setup):.3g} s per run")
    return Row(
        scenario.name,
        contender,
        n,
        point.ops,
        unit,
        len(per_op),
        min(per_op),
        statistics.median(per_op),
        max(per_op),
        statistics.median(point.times),
        OK,
        "; ".join(notes),
    )


def _describe(row: Row) -> str:
    head = f"{row.scenario} N={row.n:>9,} {row.peer:<20}"
    if row.status != OK or row.median_s_per_op is None:
        return f"{head} {row.status}: {row.note}"
    return (
        f"{head} {row.median_s_per_op * 1e6:10.2f} us/{row.unit} "
        f"(total {row.median_total_s or 0:.3f} s, {row.repeats} runs)"
    )


def run_memory(
    contenders: Iterable[str], sizes: dict[str, int], time_limit: float
) -> list[MemoryRow]:
    """Memory per allocation of each contender at its N (``sizes``)."""
    rows = []
    for contender in contenders:
        n = sizes[contender]
        gc.collect()
        try:
            memory = measure_memory(contender, n, perf_counter() + time_limit)
        except CannotStartError as error:
            row = MemoryRow(contender, n, None, None, CANNOT_START, str(error))
        except DidNotFinishError:
            row = MemoryRow(contender, n, None, None, DID_NOT_FINISH, f"over {time_limit:g} s")
        else:
            row = MemoryRow(
                contender,
                n,
                memory.per_allocation,
                memory.peak_bytes / n,
                OK,
                "tracemalloc; the caller keeps no result",
            )
        rows.append(row)
        if row.bytes_per_allocation is None:
            print(f"memory N={n:>9,} {contender:<13} {row.status}: {row.note}", flush=True)
        else:
            print(
                f"memory N={n:>9,} {contender:<13} {row.bytes_per_allocation:8.1f} bytes "
                "per allocation",
                flush=True,
            )
    return rows


def run_node_memory(n: int, time_limit: float) -> list[NodeMemoryRow]:
    """S9's memory: bytes a ``NodeAllocator`` holds per node after assigning ``n`` nodes."""
    gc.collect()
    try:
        memory = measure_node_memory(n, perf_counter() + time_limit)
    except DidNotFinishError:
        row = NodeMemoryRow(ASSIGN, n, None, None, DID_NOT_FINISH, f"over {time_limit:g} s")
        print(f"node memory N={n:>9,} {row.status}: {row.note}", flush=True)
    else:
        row = NodeMemoryRow(
            ASSIGN,
            n,
            memory.per_allocation,
            memory.peak_bytes / n,
            OK,
            "tracemalloc; Node objects built before it started; no assignment kept",
        )
        print(f"node memory N={n:>9,} {memory.per_allocation:8.1f} bytes per node", flush=True)
    return [row]


def run_import(repeat: int) -> list[Row]:
    """S6: one row per statement of :data:`~benchmarks.scenarios.IMPORTS`."""
    times = measure_import(repeat)
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        row = Row(
            "S6",
            name,
            1,
            1,
            "import",
            len(values),
            min(values),
            median,
            max(values),
            median,
            OK,
            IMPORTS[name],
        )
        rows.append(row)
        print(_describe(row), flush=True)
    return rows


# -- targets -----------------------------------------------------------------------------------

Rows = dict[tuple[str, str, int], Row]


def _ok(rows: Rows, scenario: str, peer: str, n: int) -> Row | None:
    row = rows.get((scenario, peer, n))
    return row if row is not None and row.status == OK else None


def _per_op(row: Row) -> float:
    assert row.median_s_per_op is not None
    return row.median_s_per_op


def _us(row: Row) -> str:
    return f"{_per_op(row) * 1e6:.2f}"


def _ratio(
    target: str,
    bar: str,
    ours: Row | None,
    theirs: Row | None,
    *,
    least: float | None = None,
    most: float | None = None,
    inverse: bool = False,
    missing: str,
) -> Target:
    """Target on the ratio of two rows' median time per op: ``theirs / ours`` (or inverse)."""
    if ours is None or theirs is None:
        return Target(target, bar, "", "not measured", missing)
    value = _per_op(ours) / _per_op(theirs) if inverse else _per_op(theirs) / _per_op(ours)
    met = (least is None or value >= least) and (most is None or value <= most)
    unit = "ms" if ours.scenario == "S6" else f"us per {ours.unit}"
    if ours.scenario == "S6":
        figures = f"{_per_op(ours) * 1e3:.1f} vs {_per_op(theirs) * 1e3:.1f} ms"
    else:
        figures = (
            f"{ours.peer} at N={ours.n:,}: {_us(ours)} vs "
            f"{theirs.peer} at N={theirs.n:,}: {_us(theirs)} {unit}"
        )
    return Target(target, bar, f"{value:.2f}", "yes" if met else "no", figures)


def _at_largest_common_n(
    rows: Rows, scenario: str, ours: str, theirs: str, *, target: str, bar: str, most: float
) -> Target:
    """Target on ``ours`` / ``theirs`` median time per op at the largest N both ran."""
    common = [
        n
        for (s, p, n) in rows
        if s == scenario and p == ours and _ok(rows, s, p, n) and _ok(rows, s, theirs, n)
    ]
    if not common:
        missing = f"{scenario} missing for {ours} or {theirs}"
        return Target(target, bar, "", "not measured", missing)
    n = max(common)
    return _ratio(
        target,
        bar,
        rows[scenario, ours, n],
        rows[scenario, theirs, n],
        most=most,
        inverse=True,
        missing="",
    )


def _target_scaling(rows: Rows, pattern: str, time_limit: float) -> Target:
    """S7: a pattern's time per operation at 8N over that at N, N=10^3 (or the least N run).

    When the 8N point did not finish, the ratio is a lower bound: 8N needs more than the limit,
    so its time per operation is over ``time_limit / (8 ops(N))``. The same ratio at
    N=10^4 (to 8x10^4), when the run has it, is added to the detail.
    """
    label = PATTERNS[pattern][1]
    bar = "<= 2"
    pairs = {
        n: rows.get(("S7", pattern, n * SCALE))
        for (s, p, n) in rows
        if s == "S7" and p == pattern and _ok(rows, s, p, n) and ("S7", p, n * SCALE) in rows
    }
    base = 10**3 if 10**3 in pairs else min(pairs, default=None)
    unit = "op"
    for (s, p, _), row in rows.items():
        if s == "S7" and p == pattern:
            unit = row.unit
    target = f"S7 scaling, {label}: per {unit} at {SCALE}N / at N, N=10^3"
    if base is None:
        return Target(target, bar, "", "not measured", f"S7 {pattern} missing at N and {SCALE}N")
    small, large = rows["S7", pattern, base], pairs[base]
    assert large is not None
    result = _scaling_ratio(target, bar, small, large, time_limit)
    more = _ok(rows, "S7", pattern, 10**4)
    if base != 10**4 and more is not None and ("S7", pattern, 10**4 * SCALE) in rows:
        further = _scaling_ratio(target, bar, more, rows["S7", pattern, 10**4 * SCALE], time_limit)
        value = (
            f"{further.measured}x"
            if further.measured
            else f"{further.met} ({rows['S7', pattern, 10**4 * SCALE].note})"
        )
        detail = f"{result.detail}; informational, N=10^4 to {SCALE}x10^4: {value}"
        result = replace(result, detail=detail)
    return result


def _scaling_ratio(target: str, bar: str, small: Row, large: Row, time_limit: float) -> Target:
    if large.status == OK:
        return _ratio(target, bar, large, small, most=2, inverse=True, missing="")
    # A point stopped (or not started) for its untimed setup says nothing of the timed part.
    if large.status == DID_NOT_FINISH and small.median_total_s and "setup" not in large.note:
        bound = time_limit / (SCALE * small.median_total_s)
        detail = (
            f"lower bound; N={large.n:,}: {large.note}; N={small.n:,} took "
            f"{small.median_total_s:.3f} s ({_us(small)} us per {small.unit})"
        )
        return Target(target, bar, f"> {bound:.1f}", "no" if bound > 2 else "not measured", detail)
    return Target(target, bar, "", "not measured", f"N={large.n:,}: {large.status} {large.note}")


def _target_node_memory(node_memory: Sequence[NodeMemoryRow]) -> Target:
    target = (
        "S9 memory held per node by a NodeAllocator (tracemalloc), at the largest N measured "
        "(2x10^4 in the full run)"
    )
    bar = "<= 1500 bytes"
    measured = [m for m in node_memory if m.bytes_per_node is not None]
    if not measured:
        return Target(target, bar, "", "not measured", "S9 node memory missing")
    m = max(measured, key=lambda m: m.n)
    assert m.bytes_per_node is not None
    value = m.bytes_per_node
    return Target(
        target,
        bar,
        f"{value:.0f}",
        "yes" if value <= 1500 else "no",
        f"bytes held per node after assigning N={m.n:,} nodes, each on its own /64, dual-stack",
    )


def _versus_netaddr(
    rows: Rows,
    scenario: str,
    n: int,
    peer: str,
    *,
    least: float,
    time_limit: float,
    target: str,
    bar: str,
) -> Target:
    """Target on a netaddr peer's time / ipv6alloc's time in ``scenario`` at ``n``.

    When the peer did not finish ``n`` (or a smaller N) within the time limit, the value is a
    lower bound, labelled as such: the peer needs more than the limit, and at least ``n`` times
    its time per operation at the largest N it finished (its time per operation does not fall
    as N grows in these scenarios: every operation scans the CIDRs of an ``IPSet`` whose number
    does not shrink); the larger of the two is quoted.
    """
    ours, theirs = _ok(rows, scenario, "ipv6alloc", n), rows.get((scenario, peer, n))
    if ours is None or ours.median_total_s is None or theirs is None:
        missing = f"{scenario} at N={n:,} missing for ipv6alloc or {peer}"
        return Target(target, bar, "", "not measured", missing)
    if theirs.status == OK:
        return _ratio(target, bar, ours, theirs, least=least, missing="")
    if theirs.status != DID_NOT_FINISH:
        return Target(target, bar, "", "not measured", f"{peer}: {theirs.status}")
    ours_total = ours.median_total_s
    finished = [
        r for (s, p, _), r in rows.items() if s == scenario and p == peer and r.status == OK
    ]
    detail = f"lower bound; {peer}: {theirs.note}; ipv6alloc took {ours_total:.2f} s"
    needed = time_limit
    if finished:
        largest = max(finished, key=lambda r: r.n)
        needed = max(needed, _per_op(largest) * ours.ops)
        detail += (
            f"; {peer} took {_per_op(largest) * 1e3:.2f} ms per {largest.unit} at "
            f"N={largest.n:,}, so N={n:,} needs over {needed:.0f} s"
        )
    bound = needed / ours_total
    return Target(
        target, bar, f"> {bound:.0f}", "yes" if bound >= least else "not measured", detail
    )


#: The netaddr peer the S1 and S5 targets are set against: the benchmark guide's definition,
#: ``free = IPSet(pool) - IPSet(allocated)``; the incremental peer is reported beside it.
TARGET_NETADDR = "netaddr-naive"
INFORMATIONAL_NETADDR = "netaddr"


def _targets_netaddr(
    rows: Rows, scenario: str, n: int, *, what: str, bar: str, least: float, time_limit: float
) -> list[Target]:
    """The target against the guide's netaddr peer, then the same ratio against the other."""
    return [
        _versus_netaddr(
            rows,
            scenario,
            n,
            peer,
            least=least,
            time_limit=time_limit,
            target=f"{what}{label}: {LABELS[peer]} time / ipv6alloc time",
            bar=bar,
        )
        for peer, label in (
            (TARGET_NETADDR, ""),
            (INFORMATIONAL_NETADDR, " (informational, not the target)"),
        )
    ]


def _target_memory(memory: Sequence[MemoryRow]) -> Target:
    target, bar = "memory at 10^6 allocations (tracemalloc), ipv6alloc", "<= 250 bytes"
    for m in memory:
        if m.peer == "ipv6alloc" and m.n == 10**6 and m.bytes_per_allocation is not None:
            value = m.bytes_per_allocation
            return Target(
                target,
                bar,
                f"{value:.0f}",
                "yes" if value <= 250 else "no",
                "bytes held per allocation after carving 10^6 /80s",
            )
    return Target(target, bar, "", "not measured", "memory at N=10^6 missing for ipv6alloc")


def compute_targets(
    all_rows: Sequence[Row],
    memory: Sequence[MemoryRow],
    time_limit: float,
    node_memory: Sequence[NodeMemoryRow] = (),
) -> list[Target]:
    """The issue's targets, from the rows of one run."""
    rows = {(r.scenario, r.peer, r.n): r for r in all_rows}
    return [
        *_targets_netaddr(
            rows,
            "S1",
            10**4,
            what="S1 carve at N=10^4",
            bar=">= 200",
            least=200,
            time_limit=time_limit,
        ),
        _ratio(
            "S3 churn per op: ipv6alloc at N=10^6 / at N=10^3",
            "<= 3",
            _ok(rows, "S3", "ipv6alloc", 10**6),
            _ok(rows, "S3", "ipv6alloc", 10**3),
            most=3,
            inverse=True,
            missing="S3 at N=10^6 or 10^3 missing for ipv6alloc",
        ),
        _at_largest_common_n(
            rows,
            "S3",
            "ipv6alloc",
            "floor",
            target="S3 churn per op: ipv6alloc / floor, at the largest N both ran",
            bar="<= 10",
            most=10,
        ),
        _ratio(
            "S2 home ground (65,536 /80s of a /64): ipv6alloc time / bitmap time",
            "<= 1",
            _ok(rows, "S2", "ipv6alloc", 65_536),
            _ok(rows, "S2", "bitmap", 65_536),
            most=1,
            inverse=True,
            missing="S2 at N=65,536 missing for ipv6alloc or bitmap",
        ),
        _ratio(
            "S4 10^5 nodes, heterogeneous, dual-stack, per node: ipv6alloc time / floor time",
            "<= 1.5",
            _ok(rows, "S4", "ipv6alloc", 10**5),
            _ok(rows, "S4", "floor", 10**5),
            most=1.5,
            inverse=True,
            missing="S4 at N=10^5 missing for ipv6alloc or the floor",
        ),
        *_targets_netaddr(
            rows,
            "S5",
            10**5,
            what="S5 restore 10^5 nodes",
            bar=">= 50",
            least=50,
            time_limit=time_limit,
        ),
        _target_memory(memory),
        _ratio(
            f"S6 import cost: ipv6alloc / {STDLIB_FLOOR}",
            "<= 1.5",
            _ok(rows, "S6", "ipv6alloc", 1),
            _ok(rows, "S6", "stdlib floor", 1),
            most=1.5,
            inverse=True,
            missing="S6 not run",
        ),
        _ratio(
            f"S6 import and first use of PrefixAllocator / {STDLIB_FLOOR}",
            "<= 1.5",
            _ok(rows, "S6", "ipv6alloc: PrefixAllocator", 1),
            _ok(rows, "S6", "stdlib floor", 1),
            most=1.5,
            inverse=True,
            missing="S6 not run",
        ),
        *(_target_scaling(rows, pattern, time_limit) for pattern in PATTERNS),
        _at_largest_common_n(
            rows,
            "S8",
            "ipv6alloc",
            "floor",
            target="S8 random churn per op: ipv6alloc / floor, at the largest N both ran",
            bar="<= 10",
            most=10,
        ),
        _at_largest_common_n(
            rows,
            "S9",
            ASSIGN,
            ALLOCATOR_WORK,
            target=(
                "S9 NodeAllocator.assign per node / the allocator work it performs, at the "
                "largest N both ran (2x10^4 in the full run)"
            ),
            bar="<= 2",
            most=2,
        ),
        _target_node_memory(node_memory),
        _ratio(
            "S9 planning-like cost per node (assign of N nodes): N=10^4 / N=10^3",
            "<= 1.5",
            _ok(rows, "S9", ASSIGN, 10**4),
            _ok(rows, "S9", ASSIGN, 10**3),
            most=1.5,
            inverse=True,
            missing="S9 at N=10^4 or 10^3 missing for NodeAllocator.assign",
        ),
        _ratio(
            "S10 planning cost per node: N=10^4 / N=10^3",
            "<= 1.5",
            _ok(rows, "S10", PLAN, 10**4),
            _ok(rows, "S10", PLAN, 10**3),
            most=1.5,
            inverse=True,
            missing="S10 at N=10^4 or 10^3 missing for plan",
        ),
        _ratio(
            "S10 plan per node / NodeAllocator.assign per node, at N=10^4",
            "<= 2",
            _ok(rows, "S10", PLAN, 10**4),
            _ok(rows, "S10", PLAN_ASSIGN, 10**4),
            most=2,
            inverse=True,
            missing="S10 at N=10^4 missing for plan or NodeAllocator.assign",
        ),
        _target_capacity(rows),
    ]


def _target_capacity(rows: Rows) -> Target:
    """S11: the report / the state it reads at N=10^4; the detail adds the report's seconds."""
    report = _ok(rows, "S11", REPORT, 10**4)
    target = _ratio(
        "S11 capacity report over N=10^4 nodes / statistics() + nodes() it reads",
        "<= 2",
        report,
        _ok(rows, "S11", REPORT_READS, 10**4),
        most=2,
        inverse=True,
        missing="S11 at N=10^4 missing for the report or what it reads",
    )
    if report is None or report.median_total_s is None:
        return target
    seconds = report.median_total_s
    under = "under" if seconds < 1 else "not under"
    detail = f"{target.detail}; the report over 10^4 nodes took {seconds:.3f} s ({under} 1 s)"
    return replace(target, detail=detail)


# -- output ------------------------------------------------------------------------------------


def write_csv(path: Path, records: Sequence[Any], machine: Machine) -> None:
    """Write dataclass records plus the machine columns to ``path``."""
    if not records:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f.name for f in fields(records[0])] + [f.name for f in fields(machine)]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        for record in records:
            values = {**asdict(record), **asdict(machine)}
            writer.writerow({k: _cell(v) for k, v in values.items()})


def merge_csv(path: Path, records: Sequence[Any], machine: Machine) -> None:
    """Write ``records`` into ``path``, keeping the rows of the other contenders already there.

    The rows of every contender named in ``records`` are replaced; the others keep their own
    machine and date columns, so each row still says when it was measured. Rows are ordered by
    N (scenarios; memory rows by contender alone), then contender.
    """
    if not records or not path.exists():
        write_csv(path, records, machine)
        return
    replaced = {record.peer for record in records}
    with path.open(encoding="utf-8") as f:
        kept = [row for row in csv.DictReader(f) if row["peer"] not in replaced]
    names = [f.name for f in fields(records[0])] + [f.name for f in fields(machine)]
    new = [
        {k: _cell(v) for k, v in {**asdict(record), **asdict(machine)}.items()}
        for record in records
    ]
    order = {peer: i for i, peer in enumerate(CONTENDERS)}
    merged = sorted(
        [*kept, *new],
        key=lambda row: (
            int(str(row["n"])) if "scenario" in row else 0,
            order.get(str(row["peer"]), len(order)),
        ),
    )
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(merged)


def read_csv(path: Path, cls: type[T]) -> list[T]:
    """Read records of dataclass ``cls`` back from a CSV written by :func:`write_csv`."""
    kinds = {f.name: str(f.type) for f in fields(cls)}  # type: ignore[arg-type]
    records = []
    with path.open(encoding="utf-8") as f:
        for line in csv.DictReader(f):
            values: dict[str, object] = {}
            for name, kind in kinds.items():
                text = line[name]
                if text == "" and "None" in kind:
                    values[name] = None
                elif kind.startswith("int"):
                    values[name] = int(text)
                elif kind.startswith("float"):
                    values[name] = float(text)
                else:
                    values[name] = text
            records.append(cls(**values))
    return records


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description="Benchmark ipv6alloc against its peers."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="N=1000 (S7 8000 too, S9 and S10 10^4 too), one repeat (CI)",
    )
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per point (5)")
    parser.add_argument(
        "--scenario", nargs="+", choices=ALL_SCENARIOS, default=None, help="default: all"
    )
    parser.add_argument(
        "--max-n", type=int, default=10**6, help="largest N swept (10^6; S7 runs 8N too)"
    )
    parser.add_argument(
        "--n", type=int, nargs="+", default=None, help="exact N values (S7 runs 8N too)"
    )
    parser.add_argument(
        "--peer", nargs="+", choices=CONTENDERS, default=list(CONTENDERS), help="default: all"
    )
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per run (60)")
    parser.add_argument(
        "--budget", type=float, default=30.0, help="seconds of repeats per point, per peer (30)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the tracemalloc steps (after S1 and S9)"
    )
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="replace only the rows of the contenders run in the CSVs of --out, keep the others",
    )
    parser.add_argument(
        "--targets-only",
        action="store_true",
        help="recompute targets.csv from the CSVs of the last run in --out; run nothing",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 5)
    out: Path = args.out or (RESULTS / "quick" if args.quick else RESULTS)
    names = args.scenario or list(ALL_SCENARIOS)
    contenders: list[str] = args.peer
    if args.targets_only:
        return _targets_only(out, args.time_limit)
    machine = Machine.here()
    print(f"{machine.machine}, {machine.cpus} CPUs, {machine.python}, {machine.date}")
    start = perf_counter()
    all_rows: list[Row] = []
    for name in names:
        if name == "S6":
            rows = run_import(max(2 * repeat + 1, 11) if not args.quick else 3)
        else:
            scenario = SCENARIOS[name]
            chosen = scenario.contenders(contenders)
            if not chosen:
                runs = ", ".join(scenario.peers) if scenario.peers else "ipv6alloc"
                print(f"{name}: skipped (it runs {runs}; none of them is among --peer)")
                continue
            sizes = args.n or (scenario.quick_sizes if args.quick else scenario.sizes)
            sizes = [n for n in sizes if n <= args.max_n] or [min(sizes)]
            sizes = scenario.expand(sizes)
            print(f"{name}: {scenario.title}")
            rows = run_scenario(
                scenario,
                sizes,
                chosen,
                repeat=repeat,
                time_limit=args.time_limit,
                budget=args.budget,
                seed=args.seed,
            )
        if args.merge and name != "S6":
            merge_csv(out / f"{name}.csv", rows, machine)
        else:
            write_csv(out / f"{name}.csv", rows, machine)
        all_rows.extend(rows)
    memory: list[MemoryRow] = []
    if "S1" in names and not args.no_memory:
        largest = {
            c: max(
                (r.n for r in all_rows if r.scenario == "S1" and r.peer == c and r.status == OK),
                default=min(SCENARIOS["S1"].sizes),
            )
            for c in contenders
        }
        print("memory: bytes held per allocation after carving N /80s from a /48")
        memory = run_memory(contenders, largest, 3 * args.time_limit)
        (merge_csv if args.merge else write_csv)(out / "memory.csv", memory, machine)
    node_memory: list[NodeMemoryRow] = []
    assigned = [r.n for r in all_rows if r.scenario == "S9" and r.peer == ASSIGN and r.status == OK]
    if assigned and not args.no_memory:
        print("node memory: bytes a NodeAllocator holds per node after assigning N nodes")
        node_memory = run_node_memory(max(assigned), 3 * args.time_limit)
        (merge_csv if args.merge else write_csv)(out / NODE_MEMORY_CSV, node_memory, machine)
    # The targets of what the CSVs hold (with --merge, the other contenders' rows too): the
    # numbers as written, so that --targets-only recomputes exactly these.
    all_rows, memory, node_memory = _read_results(out)
    targets = compute_targets(all_rows, memory, args.time_limit, node_memory)
    if args.scenario is None:
        write_csv(out / "targets.csv", targets, machine)
    _print_targets(targets)
    print(f"done in {perf_counter() - start:.0f} s; results in {out}")
    return 0


def _print_targets(targets: Iterable[Target]) -> None:
    print("targets:")
    for target in targets:
        print(
            f"  [{target.met:^12}] {target.target}: {target.measured or '-'} "
            f"(bar {target.bar}) {target.detail}"
        )


def _read_results(out: Path) -> tuple[list[Row], list[MemoryRow], list[NodeMemoryRow]]:
    """The rows, memory rows and node memory rows of the CSVs in ``out``."""
    rows: list[Row] = []
    for name in ALL_SCENARIOS:
        if (out / f"{name}.csv").exists():
            rows.extend(read_csv(out / f"{name}.csv", Row))
    memory = read_csv(out / "memory.csv", MemoryRow) if (out / "memory.csv").exists() else []
    path = out / NODE_MEMORY_CSV
    node_memory = read_csv(path, NodeMemoryRow) if path.exists() else []
    return rows, memory, node_memory


def _targets_only(out: Path, time_limit: float) -> int:
    """Recompute the targets from the CSVs of one earlier run (same machine, same date)."""
    rows, memory, node_memory = _read_results(out)
    if not rows:
        print(f"no results in {out}", file=sys.stderr)
        return 1
    source = next(out / f"{n}.csv" for n in ALL_SCENARIOS if (out / f"{n}.csv").exists())
    with source.open(encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    machine = Machine(first["machine"], int(first["cpus"]), first["python"], first["date"])
    targets = compute_targets(rows, memory, time_limit, node_memory)
    write_csv(out / "targets.csv", targets, machine)
    _print_targets(targets)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
