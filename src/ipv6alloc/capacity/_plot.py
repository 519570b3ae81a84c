"""Plots of a capacity report (matplotlib, imported only here, only when a plot is asked for).

Horizontal bars, one per pool, coloured by status: utilization with the warn and critical
thresholds drawn as vertical lines, or fragmentation. The figure is built with
:class:`matplotlib.figure.Figure`, not pyplot: it is returned to the caller to show, save or
change, never shown behind their back, and it works under any backend (Agg included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from .._errors import ConfigurationError, quote
from ._render import STATUS_COLOURS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ._records import PoolCapacity
    from ._report import CapacityReport

__all__ = ["KINDS", "plot"]

#: What :func:`plot` draws: the row's value, and the x axis label.
KINDS: Final = {
    "utilization": "utilization: used / total pod prefixes",
    "fragmentation": "fragmentation: 1 - largest free block / free addresses",
}


def _value(row: PoolCapacity, kind: str) -> float:
    return row.utilization if kind == "utilization" else row.fragmentation


def _percent(value: float) -> str:
    """A bar's value: ``97.7%``, or ``<0.1%`` for a sliver that is not nothing."""
    if 0 < value < 0.001:
        return "<0.1%"
    return f"{value:.1%}"


def _label(row: PoolCapacity) -> str:
    return f"{row.pool} ({row.kind}, /{row.pod_prefixlen})"


def plot(report: CapacityReport, kind: str, ax: Axes | None, max_pools: int) -> Figure:
    """Draw ``kind`` for the report's pools (the ``max_pools`` highest bars) and return the figure.

    Raises:
        ImportError: matplotlib is not installed.
        ConfigurationError: an unknown ``kind``, or ``max_pools`` below 1.
    """
    if kind not in KINDS:
        raise ConfigurationError(
            f"plot kind must be 'utilization' or 'fragmentation', not {quote(kind)}"
        )
    if type(max_pools) is not int or max_pools < 1:
        raise ConfigurationError(f"max_pools must be an integer from 1, not {quote(max_pools)}")
    try:
        from matplotlib.figure import Figure, SubFigure  # noqa: PLC0415  # optional
        from matplotlib.lines import Line2D  # noqa: PLC0415
        from matplotlib.patches import Patch  # noqa: PLC0415
        from matplotlib.ticker import PercentFormatter  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(
            "CapacityReport.plot() needs matplotlib: pip install 'ipv6alloc[plot]'"
        ) from exc

    rows = report.rows
    ranked = sorted(range(len(rows)), key=lambda i: (-_value(rows[i], kind), i))[:max_pools]
    shown = [rows[i] for i in ranked]
    if ax is None:
        figure = Figure(figsize=(9, 1.6 + 0.32 * max(len(shown), 1)), layout="constrained")
        ax = figure.subplots()
    parent = ax.figure
    while isinstance(parent, SubFigure):
        parent = parent.figure
    if not isinstance(parent, Figure):  # pragma: no cover - every Axes lies in a figure
        raise TypeError("the axes belong to no figure")
    figure = parent

    labels = [_label(row) for row in shown]
    values = [_value(row, kind) for row in shown]
    colours = [STATUS_COLOURS[row.status][0] for row in shown]
    positions = list(range(len(shown)))
    bars = ax.barh(positions, values, color=colours, height=0.7)
    ax.bar_label(bars, [_percent(value) for value in values], padding=3, fontsize=7)
    ax.set_yticks(positions, labels, fontsize=8, fontfamily="monospace")
    ax.invert_yaxis()  # the highest bar on top
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(KINDS[kind])
    handles: list[Patch | Line2D] = [
        Patch(color=STATUS_COLOURS[status][0], label=status) for status in STATUS_COLOURS
    ]
    if kind == "utilization":
        limits = report.thresholds
        lines: tuple[tuple[str, float, Literal["--", ":"]], ...] = (
            ("warn", limits.warn, "--"),
            ("critical", limits.critical, ":"),
        )
        for name, value, style in lines:
            ax.axvline(value, color=STATUS_COLOURS[name][0], linestyle=style, linewidth=1.2)
            handles.append(
                Line2D(
                    [],
                    [],
                    color=STATUS_COLOURS[name][0],
                    linestyle=style,
                    label=f"{name} from {value:.0%}",
                )
            )
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    pools = len(rows)
    title = f"{kind} per pool"
    if len(shown) < pools:
        title += f": the {len(shown)} highest of {pools:,} pools"
    if not shown:
        ax.text(0.5, 0.5, "no pools", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title)
    return figure
