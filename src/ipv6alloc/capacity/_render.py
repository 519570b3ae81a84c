"""Renderings of a capacity report: an aligned text table, HTML for Jupyter, CSV, a DataFrame.

The text table writes counts with thousands separators, and counts of 10**12 or more as powers
of two (``2^64``, ``~2^63.6``): exact values are in the rows, :meth:`to_records` and the CSV.
The HTML needs no pandas: a table with inline styles (status cells coloured), every text
escaped. pandas is imported only by :func:`data_frame`.
"""

from __future__ import annotations

import csv
import io
import math
from html import escape
from typing import TYPE_CHECKING, Any, Final

from ._records import FIELDS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import pandas

    from ._records import NotFit, PoolCapacity, Totals
    from ._report import CapacityReport

__all__ = [
    "STATUS_COLOURS",
    "count_text",
    "csv_text",
    "data_frame",
    "html",
    "html_row",
    "json_dict",
    "not_fit_html",
    "not_fit_lines",
    "table_lines",
    "text",
]

#: Counts from here on are written as powers of two in the text and HTML tables.
_HUGE: Final = 10**12
#: Per status: (text colour, background colour) of its HTML cell; the plot's bar colours.
STATUS_COLOURS: Final = {
    "ok": ("#0b6e2e", "#e3f4e8"),
    "warn": ("#8a5300", "#fdf0d5"),
    "critical": ("#a4161a", "#fbe1e1"),
}
#: The text table's columns: heading, and how to write the row's value.
_HEADINGS: Final = (
    "POOL",
    "KIND",
    "POD PREFIX",
    "PODS/NODE",
    "TOTAL",
    "USED",
    "NODES FIT",
    "UNUSABLE",
    "USED %",
    "LARGEST FREE",
    "FRAG %",
    "STATUS",
)
#: The columns written flush right (numbers).
_RIGHT: Final = frozenset(range(2, 11))
#: The totals' columns written flush right (the counts and the share, not the statuses).
_TOTALS_RIGHT: Final = frozenset(range(1, 7))
#: The nodes that do not fit listed in HTML (and in text with ``max_rows``); the rest counted.
_NOT_FIT_SHOWN: Final = 10


def count_text(value: int) -> str:
    """A count for a person: thousands separators, or a power of two from 10**12 on.

    >>> count_text(65536), count_text(2**64), count_text(2**64 - 3), count_text(3 * 2**60)
    ('65,536', '2^64', '~2^64', '~2^61.6')
    """
    if value < _HUGE:
        return f"{value:,}"
    exponent = value.bit_length() - 1
    if value == 1 << exponent:
        return f"2^{exponent}"
    approximate = f"{math.log2(value):.1f}".removesuffix(".0")
    return f"~2^{approximate}"


def _percent(value: float) -> str:
    return f"{value * 100:.1f}"


def _cells(row: PoolCapacity) -> list[str]:
    largest = row.largest_free_prefixlen
    return [
        str(row.pool),
        row.kind,
        f"/{row.pod_prefixlen}",
        count_text(row.pods_per_node),
        count_text(row.prefixes_total),
        count_text(row.prefixes_used),
        count_text(row.nodes_fit),
        count_text(row.prefixes_unusable),
        _percent(row.utilization),
        "-" if largest is None else f"/{largest}",
        _percent(row.fragmentation),
        row.status,
    ]


def _shown(rows: Sequence[PoolCapacity], max_rows: int | None) -> tuple[list[PoolCapacity], int]:
    """The rows to show (the first and last halves of ``max_rows``) and how many are left out."""
    if max_rows is None or len(rows) <= max_rows:
        return list(rows), 0
    head = (max_rows + 1) // 2
    tail = max_rows - head
    return [*rows[:head], *rows[len(rows) - tail :]], len(rows) - max_rows


def table_lines(rows: list[list[str]], right: frozenset[int] = frozenset()) -> list[str]:
    """``rows`` (the first the headings) as aligned lines; the columns in ``right`` flush right."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(w) if i in right and n else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for n, row in enumerate(rows)
    ]


def _totals_cells(t: Totals) -> list[str]:
    return [
        f"IPv{t.family} {t.kind}",
        count_text(t.pools),
        count_text(t.prefixes_total),
        count_text(t.prefixes_used),
        count_text(t.nodes_fit),
        count_text(t.prefixes_unusable),
        _percent(t.utilization),
        f"{t.ok} ok, {t.warn} warn, {t.critical} critical",
    ]


def _first_to_run_out(report: CapacityReport) -> str:
    """The line saying which pool runs out first, and after how many more nodes."""
    order = report.exhaustion()
    if not order:
        return "first to run out: none (no pool has taken new nodes yet)"
    first = order[0]
    return (
        f"first to run out: {first.row.pool} ({first.row.kind}), after "
        f"{count_text(first.new_nodes)} more node{'' if first.new_nodes == 1 else 's'} "
        f"at the current rates ({_percent(first.share)} % of new nodes take a prefix there)"
    )


def _more(not_fit: Sequence[NotFit], limit: int | None) -> tuple[Sequence[NotFit], str]:
    """The nodes to list (at most ``limit``), and the line counting the rest ("" if none)."""
    shown = not_fit if limit is None else not_fit[:limit]
    left = len(not_fit) - len(shown)
    return shown, f"... and {left:,} more (see not_fit)" if left else ""


def not_fit_lines(not_fit: Sequence[NotFit], limit: int | None) -> list[str]:
    """The nodes that do not fit as text lines (at most ``limit`` listed); none: no line."""
    if not not_fit:
        return []
    shown, more = _more(not_fit, limit)
    lines = [f"{len(not_fit):,} node(s) would not fit:"]
    lines.extend(f"  {n.node}: {n.reason}" for n in shown)
    if more:
        lines.append(f"  {more}")
    return lines


def not_fit_html(not_fit: Sequence[NotFit], limit: int | None) -> str:
    """The nodes that do not fit as HTML, every text escaped (at most ``limit`` listed)."""
    if not not_fit:
        return ""
    shown, more = _more(not_fit, limit)
    items = "".join(f"<li><code>{escape(n.node)}</code>: {escape(n.reason)}</li>" for n in shown)
    rest = f"<p>{escape(more)}</p>" if more else ""
    return f"<p>{len(not_fit):,} node(s) would not fit:</p><ul>{items}</ul>{rest}"


def text(report: CapacityReport, max_rows: int | None) -> str:
    """The report as aligned text: rows, totals, what runs out first, what does not fit."""
    rows, hidden = _shown(report.rows, max_rows)
    table = [list(_HEADINGS), *(_cells(row) for row in rows)]
    lines = table_lines(table, _RIGHT)
    if hidden:
        head = (len(rows) + 1) // 2 + 1
        lines.insert(head, f"... {hidden:,} more pool{'' if hidden == 1 else 's'} ...")
    if report.totals:
        totals = [["TOTALS", "POOLS", "TOTAL", "USED", "NODES FIT", "UNUSABLE", "USED %", ""]]
        totals += [_totals_cells(t) for t in report.totals]
        lines += ["", *table_lines(totals, _TOTALS_RIGHT)]
    limit = None if max_rows is None else _NOT_FIT_SHOWN
    lines += ["", _first_to_run_out(report), *not_fit_lines(report.not_fit, limit)]
    return "\n".join(lines)


_CELL: Final = "padding:2px 8px;border-bottom:1px solid #ddd"


def html_row(
    cells: Iterable[str],
    right: frozenset[int] = _RIGHT,
    status: str | None = None,
    heading: bool = False,
) -> str:
    """One HTML table row, texts escaped: ``right`` columns flush right, ``status`` coloured."""
    tag = "th" if heading else "td"
    out = []
    for i, cell in enumerate(cells):
        align = "right" if i in right else "left"
        style = f"{_CELL};text-align:{align}"
        if status is not None and i == len(_HEADINGS) - 1:
            colour, background = STATUS_COLOURS[status]
            style += f";color:{colour};background:{background};font-weight:bold"
        out.append(f'<{tag} style="{style}">{escape(cell)}</{tag}>')
    return f"<tr>{''.join(out)}</tr>"


def html(report: CapacityReport, max_rows: int | None) -> str:
    """The report as HTML: a caption, a table (statuses coloured), totals, what does not fit."""
    rows, hidden = _shown(report.rows, max_rows)
    body = [html_row(_cells(row), status=row.status) for row in rows]
    if hidden:
        gap = (
            f'<tr><td colspan="{len(_HEADINGS)}" style="{_CELL};text-align:center">'
            f"&hellip; {hidden:,} more pool{'' if hidden == 1 else 's'} &hellip;</td></tr>"
        )
        body.insert((len(rows) + 1) // 2, gap)
    pools = len(report.rows)
    caption = (
        f"Capacity: {pools:,} pool{'' if pools == 1 else 's'}, "
        f"{report.nodes:,} node{'' if report.nodes == 1 else 's'} holding prefixes, "
        f"pods per node capped at {report.max_pods}"
    )
    parts = [
        '<div class="ipv6alloc-capacity">',
        '<table style="border-collapse:collapse;font-family:monospace">',
        f'<caption style="text-align:left;font-weight:bold">{escape(caption)}</caption>',
        f"<thead>{html_row(_HEADINGS, heading=True)}</thead>",
        f"<tbody>{''.join(body)}</tbody></table>",
    ]
    if report.totals:
        head = ["totals", "pools", "total", "used", "nodes fit", "unusable", "used %", "statuses"]
        cells = "".join(f'<th style="{_CELL}">{escape(h)}</th>' for h in head)
        totals = "".join(html_row(_totals_cells(t), _TOTALS_RIGHT) for t in report.totals)
        parts.append(
            '<table style="border-collapse:collapse;font-family:monospace;margin-top:6px">'
            f"<thead><tr>{cells}</tr></thead><tbody>{totals}</tbody></table>"
        )
    parts.append(f"<p>{escape(_first_to_run_out(report))}</p>")
    parts.append(not_fit_html(report.not_fit, _NOT_FIT_SHOWN))
    parts.append("</div>")
    return "".join(parts)


def json_dict(report: CapacityReport) -> dict[str, Any]:
    """The report, JSON-safe: pools, totals, not_fit, first_exhausted (or None)."""
    order = report.exhaustion()
    first = order[0] if order else None
    return {
        "pools": report.to_records(),
        "totals": [t.to_record() for t in report.totals],
        "not_fit": [n.to_record() for n in report.not_fit],
        "first_exhausted": None
        if first is None
        else {"pool": str(first.row.pool), "share": first.share, "new_nodes": first.new_nodes},
    }


def csv_text(rows: Iterable[PoolCapacity]) -> str:
    """CSV: the header (:data:`FIELDS`), then one line per row, counts exact."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row.to_record(exact=True).values()])
    return out.getvalue()


def data_frame(rows: Iterable[PoolCapacity]) -> pandas.DataFrame:
    """The rows as a pandas DataFrame (exact ints: huge counts make ``object`` columns).

    Raises:
        ImportError: pandas is not installed.
    """
    try:
        import pandas  # noqa: PLC0415  # optional: only for to_pandas()
    except ImportError as exc:
        raise ImportError(
            "CapacityReport.to_pandas() needs pandas: pip install 'ipv6alloc[pandas]'"
        ) from exc
    return pandas.DataFrame([row.to_record(exact=True) for row in rows], columns=list(FIELDS))
