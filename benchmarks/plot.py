"""Draw the results: ``python -m benchmarks.plot [--results DIR] [--scenario S10] [--markdown]``.

Reads ``benchmarks/results/*.csv`` (written by ``python -m benchmarks.run``) and writes one PNG
per scenario next to them: time per operation against N on log-log axes for the swept
scenarios (S1, S3, S4, S5, S8; S7 with one line per pattern, flat where the cost per operation
does not grow with N; S9 with the node layer beside the allocator work it performs; S10 with
the planner beside ``NodeAllocator.assign`` of the same nodes; S11 with the capacity report
beside the state it reads), bars for S2 (one N), S6
(import) and memory. Points that did not finish or could not start are named in the legend
instead of drawn. ``--scenario`` draws only the plots named (``memory`` for the memory plot),
leaving the other PNGs as they are. ``--markdown`` prints the tables of ``docs/performance.md``
instead, S9's memory per node (``node-memory.csv``, not drawn) included; with ``--scenario``,
only those scenarios' tables. matplotlib is imported only here, with the Agg backend (no
display needed).
"""

from __future__ import annotations

import argparse
import csv
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from .peers import CONTENDERS, LABELS
from .run import NODE_MEMORY_CSV, RESULTS
from .scenarios import CAPACITY, NODE_LAYER, PATTERNS, PLANNING

if TYPE_CHECKING:
    from collections.abc import Sequence

COLORS = {
    "ipv6alloc": "#d62728",
    "netaddr": "#1f77b4",
    "netaddr-naive": "#17becf",
    "ipaddress": "#2ca02c",
    "bitmap": "#9467bd",
    "floor": "#7f7f7f",
    "stdlib floor": "#7f7f7f",
    # S7's patterns and S9's rows: every one of them is ipv6alloc.
    "release-waiting": "#d62728",
    "enclosing-pool": "#ff7f0e",
    "remove-nested": "#8c564b",
    "release-nested": "#e377c2",
    "unreserve-nested": "#bcbd22",
    "NodeAllocator.assign": "#d62728",
    "allocator work": "#ff9896",
    "plan": "#1f77b4",
    # S11's rows.
    "CapacityReport": "#9467bd",
    "statistics + nodes": "#c5b0d5",
}
#: The rows of S7, S9 and S10, in the order tables and legends show them, and their labels
#: (S10's planner first, then the node layer's rows, which S9 and S10 share).
VARIANTS = {
    **{name: label for name, (_, label) in PATTERNS.items()},
    **PLANNING,
    **NODE_LAYER,
    **CAPACITY,
}
#: The rows drawn with a thicker line: ipv6alloc among the peers, the layer a scenario is about.
MAIN_ROWS = frozenset({"ipv6alloc", "NodeAllocator.assign", "plan", "CapacityReport"})
TITLES = {
    "S1": "S1 carve: N /80s from one /48",
    "S2": "S2 home ground: the 65,536 /80s of one /64, in order",
    "S3": "S3 churn: N mixed /80-/124 from a /48, release half, N/2 more",
    "S4": "S4 N nodes, own subnets (/64 /96 /112 /121), dual-stack",
    "S5": "S5 restore N nodes' pod prefixes (dual-stack)",
    "S6": "S6 import cost in a fresh interpreter",
    "S7": "S7 scaling: ipv6alloc per operation at N and 8N, by pattern",
    "S8": "S8 random churn: N of /80-/124 (7 lengths) from a /48, release half, N/2 more",
    "S9": "S9 node layer: NodeAllocator.assign vs the allocator work it performs",
    "S10": "S10 planning: plan() of N Kubernetes nodes vs NodeAllocator.assign of them",
    "S11": "S11 capacity report: CapacityReport.from_allocator vs the state it reads",
}
#: The scenarios drawn as log-log sweeps, and those in the Markdown tables, in order.
SWEEPS = ("S1", "S3", "S4", "S5", "S7", "S8", "S9", "S10", "S11")
TABLES = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8", "S9", "S10", "S11")
#: What ``--scenario`` can name: a scenario's plot, or the memory plot.
PLOTS = (*TABLES, "memory")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _footer(rows: Sequence[dict[str, str]]) -> str:
    """Machine, Python and date(s) of the rows (rows merged from several runs keep theirs)."""
    first = rows[0]
    dates = sorted({row["date"] for row in rows if row["date"]})
    return f"{first['machine']}, {first['cpus']} CPUs, {first['python']}, {' and '.join(dates)}"


def plot_sweep(name: str, rows: Sequence[dict[str, str]], out: Path) -> None:
    """Log-log median time per operation against N, min-max as error bars."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, ax = plt.subplots(figsize=(7.5, 4.8), layout="constrained")
    by_peer: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_peer[row["peer"]].append(row)
    units = sorted({row["unit"] for row in rows})
    unit = units[0] if len(units) == 1 else "op"
    peer_of: dict[str, str] = {}  # legend label -> contender
    for peer in sorted(by_peer, key=_order):
        done = [r for r in by_peer[peer] if r["status"] == "ok"]
        missing = [r for r in by_peer[peer] if r["status"] != "ok"]
        label = _label(peer)
        if missing and not done and len({r["status"] for r in missing}) == 1:
            label += f" ({missing[0]['status']})"
        elif missing:
            first = min(missing, key=lambda r: int(r["n"]))
            label += f" ({first['status']} at N={int(first['n']):,})"
        peer_of[label] = peer
        if not done:
            ax.plot([], [], color=COLORS.get(peer, "black"), marker="x", ls="none", label=label)
            continue
        n = [int(r["n"]) for r in done]
        median = [float(r["median_s_per_op"]) * 1e6 for r in done]
        low = [m - float(r["min_s_per_op"]) * 1e6 for m, r in zip(median, done, strict=True)]
        high = [float(r["max_s_per_op"]) * 1e6 - m for m, r in zip(median, done, strict=True)]
        ax.errorbar(
            n,
            median,
            yerr=[low, high],
            marker="o",
            capsize=3,
            label=label,
            color=COLORS.get(peer, "black"),
            lw=2.5 if peer in MAIN_ROWS else 1.5,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("N" + (" (nodes)" if unit == "node" else ""))
    ax.set_ylabel(
        f"median time per {unit} (µs)"
        + ("" if len(units) == 1 else f", or per {' / '.join(u for u in units if u != 'op')}")
    )
    ax.set_title(TITLES.get(name, name), fontsize=11)
    ax.grid(True, which="both", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    ranked = sorted(zip(labels, handles, strict=True), key=lambda h: _order(peer_of[h[0]]))
    ax.legend([h for _, h in ranked], [label for label, _ in ranked], fontsize=8)
    fig.supxlabel(_footer(rows), x=0.01, ha="left", fontsize=6, color="gray")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_bars(
    out: Path,
    title: str,
    *,
    peers: Sequence[str],
    labels: Sequence[str],
    values: Sequence[float],
    xlabel: str,
    footer: str,
    log: bool = True,
) -> None:
    """Horizontal bars, one per contender (missing values are named, not drawn)."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 0.5 * len(labels) + 1.6), layout="constrained")
    positions = range(len(labels))
    colors = [COLORS.get(peer.split(":")[0], "black") for peer in peers]
    ax.barh(positions, values, color=colors)
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
    ax.margins(x=0.12)  # room for the value written after each bar
    for y, value in zip(positions, values, strict=True):
        if value > 0:
            ax.text(value, y, f" {value:.3g}", va="center", fontsize=8)
    ax.set_xlabel(xlabel)
    fig.suptitle(title, fontsize=11)  # over the figure: the labels can be long
    ax.grid(True, axis="x", which="both", alpha=0.3)
    fig.supxlabel(footer, x=0.01, ha="left", fontsize=6, color="gray")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _order(peer: str) -> int:
    if peer in CONTENDERS:
        return CONTENDERS.index(peer)
    if peer in VARIANTS:
        return len(CONTENDERS) + list(VARIANTS).index(peer)
    return len(CONTENDERS) + len(VARIANTS)


def _label(peer: str) -> str:
    """How tables and plots name a row (the netaddr peers by how they work, S7's patterns)."""
    return LABELS.get(peer) or VARIANTS.get(peer, peer)


def _bar_data(
    rows: Sequence[dict[str, str]], column: str, scale: float
) -> tuple[list[str], list[str], list[float]]:
    """Contenders, their labels and values, in contender order (0 where there is none)."""
    peers, labels, values = [], [], []
    for row in sorted(rows, key=lambda r: _order(r["peer"])):
        peers.append(row["peer"])
        if row["status"] == "ok" and row[column]:
            labels.append(_label(row["peer"]))
            values.append(float(row[column]) * scale)
        else:
            labels.append(f"{_label(row['peer'])} ({row['status']})")
            values.append(0.0)
    return peers, labels, values


def _cell(row: dict[str, str], scale: float) -> str:
    if row["status"] == "ok":
        value = float(row["median_s_per_op"]) * scale
        return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return {"did not finish": "did not finish", "cannot start": "cannot start"}.get(
        row["status"], row["status"]
    )


def markdown(results: Path, names: Sequence[str] | None = None) -> str:
    """The results as Markdown tables (median time per operation), for the docs.

    With ``names``, only those scenarios' tables (no memory or targets table).
    """
    out = []
    for name in TABLES:
        if names is not None and name not in names:
            continue
        path = results / f"{name}.csv"
        if not path.exists() or not (rows := _read(path)):
            continue
        scale, unit = (1e3, "ms") if name == "S6" else (1e6, "µs")
        sizes = sorted({int(r["n"]) for r in rows})
        head = [f"N={n:,}" for n in sizes] if name != "S6" else ["import"]
        per = " or ".join(sorted({r["unit"] for r in rows}, key=lambda u: u != "op"))
        out.append(f"**{TITLES[name]}**: median {unit} per {per}\n")
        column = "pattern (ipv6alloc)" if name == "S7" else "contender"
        out.append(f"| {column} | " + " | ".join(head) + " |")
        out.append("|---" * (len(head) + 1) + "|")
        cells: dict[str, dict[int, str]] = defaultdict(dict)
        for r in rows:
            cells[r["peer"]][int(r["n"])] = _cell(r, scale)
        for peer in sorted(cells, key=_order):
            line = " | ".join(cells[peer].get(n, "") for n in sizes)
            out.append(f"| {_label(peer)} | {line} |")
        out.append("")
    path = results / "memory.csv"
    if names is None and path.exists() and (rows := _read(path)):
        out.append("**Memory held per allocation** (tracemalloc, N /80s carved from a /48)\n")
        out.append("| contender | N | bytes per allocation |\n|---|---|---|")
        for r in sorted(rows, key=lambda r: _order(r["peer"])):
            value = f"{float(r['bytes_per_allocation']):.0f}" if r["status"] == "ok" else ""
            out.append(f"| {_label(r['peer'])} | {int(r['n']):,} | {value or r['status']} |")
        out.append("")
    path = results / NODE_MEMORY_CSV
    if names is None and path.exists() and (rows := _read(path)):
        out.append(
            "**Memory held per node** (tracemalloc, NodeAllocator after assigning N nodes)\n"
        )
        out.append("| N | bytes per node |\n|---|---|")
        for r in rows:
            value = f"{float(r['bytes_per_node']):.0f}" if r["status"] == "ok" else r["status"]
            out.append(f"| {int(r['n']):,} | {value} |")
        out.append("")
    path = results / "targets.csv"
    if names is None and path.exists() and (rows := _read(path)):
        out.append("| target | bar | measured | met |\n|---|---|---|---|")
        out.extend(f"| {r['target']} | {r['bar']} | {r['measured']} | {r['met']} |" for r in rows)
        out.append("")
    if out:
        # The machine of the first table shown (rows merged from other runs keep their own).
        shown = (results / f"{n}.csv" for n in TABLES if names is None or n in names)
        first = next((rows for p in shown if p.exists() and (rows := _read(p))), [])
        if first:
            out.append(f"Measured on {_footer(first)}.")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plot", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS, help="directory of the CSVs")
    parser.add_argument(
        "--markdown", action="store_true", help="print the tables for docs/performance.md"
    )
    parser.add_argument(
        "--scenario",
        nargs="+",
        choices=PLOTS,
        default=None,
        help="draw (or print the tables of) only these; the other PNGs are left as they are",
    )
    args = parser.parse_args(argv)
    results: Path = args.results
    chosen: Sequence[str] = args.scenario or PLOTS
    if args.markdown:
        print(markdown(results, args.scenario))
        return 0
    written = []
    for name in SWEEPS:
        if name not in chosen:
            continue
        path = results / f"{name}.csv"
        if path.exists() and (rows := _read(path)):
            plot_sweep(name, rows, results / f"{name}.png")
            written.append(f"{name}.png")
    for name, unit, scale, xlabel in (
        ("S2", "median_s_per_op", 1e6, "median time per allocation (µs)"),
        ("S6", "median_s_per_op", 1e3, "median time of the import (ms)"),
    ):
        if name not in chosen:
            continue
        path = results / f"{name}.csv"
        if path.exists() and (rows := _read(path)):
            peers, labels, values = _bar_data(rows, unit, scale)
            plot_bars(
                results / f"{name}.png",
                TITLES[name],
                peers=peers,
                labels=labels,
                values=values,
                xlabel=xlabel,
                footer=_footer(rows),
                log=name == "S2",
            )
            written.append(f"{name}.png")
    path = results / "memory.csv"
    if "memory" in chosen and path.exists() and (rows := _read(path)):
        peers, labels, values = _bar_data(rows, "bytes_per_allocation", 1.0)
        labels = [
            f"{label} (N={int(row['n']):,})" if row["status"] == "ok" else label
            for label, row in zip(
                labels, sorted(rows, key=lambda r: _order(r["peer"])), strict=True
            )
        ]
        plot_bars(
            results / "memory.png",
            "Memory held per allocation (tracemalloc), N /80s carved from a /48",
            peers=peers,
            labels=labels,
            values=values,
            xlabel="bytes per allocation",
            footer=_footer(rows),
            log=False,
        )
        written.append("memory.png")
    print(f"wrote {', '.join(written) or 'nothing (no CSV found)'} in {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
