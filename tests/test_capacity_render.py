"""ipv6alloc.capacity renderings: text, HTML, CSV, JSON records, pandas and plots.

The reports rendered here hold numbers worked out by hand (see ``tests/test_capacity.py``): a
/22 with /24 node prefixes holds 4, a /48 holds 2**72 /120s, a /64 2**16 /80s.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import TYPE_CHECKING

import numpy
import pytest
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.patches import Rectangle

from ipv6alloc import ConfigurationError, PrefixAllocator
from ipv6alloc.capacity import FIELDS, CapacityReport, NotFit, Thresholds
from ipv6alloc.capacity._render import count_text

if TYPE_CHECKING:
    from pathlib import Path

    from matplotlib.axes import Axes


def mixed() -> CapacityReport:
    """A /22 with one /24 of 4 taken (25 %), a /48 of /120s, a full /24 (critical)."""
    pools = PrefixAllocator(["10.0.0.0/22", "2001:db8::/48", "192.0.2.0/24"], placement="lowest")
    pools.allocate(24, pool="10.0.0.0/22")
    pools.allocate(24, pool="192.0.2.0/24")
    return CapacityReport.from_allocator(pools, pod_prefixlen={4: 24, 6: 120})


def vertical_lines(ax: Axes) -> list[float]:
    """Where the lines drawn on ``ax`` stand (the thresholds)."""
    return [float(numpy.asarray(line.get_xdata()).flat[0]) for line in ax.get_lines()]


def lines_of(text: str) -> list[str]:
    return text.splitlines()


# -- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (65_536, "65,536"),
        (999_999_999_999, "999,999,999,999"),
        (2**40, "2^40"),
        (2**72, "2^72"),
        (2**64 - 3, "~2^64"),
        (3 * 2**60, "~2^61.6"),  # log2(3) = 1.585
    ],
)
def test_count_text(value: int, text: str) -> None:
    assert count_text(value) == text


def test_text_table_columns_and_values() -> None:
    text = str(mixed())
    lines = lines_of(text)
    assert lines[0].split() == [
        "POOL",
        "KIND",
        "POD",
        "PREFIX",
        "PODS/NODE",
        "TOTAL",
        "USED",
        "NODES",
        "FIT",
        "UNUSABLE",
        "USED",
        "%",
        "LARGEST",
        "FREE",
        "FRAG",
        "%",
        "STATUS",
    ]
    v4 = lines[1].split()
    # /22: 4 /24s, 1 used (25.0 %), 3 fit; free 768 addresses, the largest free block a /23.
    assert v4 == [
        "10.0.0.0/22",
        "cluster",
        "/24",
        "110",
        "4",
        "1",
        "3",
        "0",
        "25.0",
        "/23",
        f"{(1 - 512 / 768) * 100:.1f}",
        "ok",
    ]
    v6 = lines[2].split()
    assert v6[:8] == ["2001:db8::/48", "cluster", "/120", "110", "2^72", "0", "2^72", "0"]
    assert v6[-1] == "ok"
    full = lines[3].split()
    assert full[4:8] == ["1", "1", "0", "0"]
    assert full[-3:] == ["-", "0.0", "critical"]  # nothing free: no largest block
    # Columns line up: every value of a right-aligned column ends where its heading ends.
    end = lines[0].index("NODES FIT") + len("NODES FIT")
    assert [line[end - 1] for line in lines[1:4]] == ["3", "2", "0"]


def test_text_totals_and_summary() -> None:
    text = str(mixed())
    assert "IPv4 cluster      2" in text  # two IPv4 pools
    assert "1 ok, 0 warn, 1 critical" in text
    assert "first to run out: 192.0.2.0/24 (cluster), after 0 more nodes" in text


def test_text_cut_to_max_rows() -> None:
    pools = PrefixAllocator([f"10.{i}.0.0/24" for i in range(9)])
    report = CapacityReport.from_allocator(pools, pod_prefixlen=26)
    lines = lines_of(report.to_text(max_rows=4))
    assert [line.split()[0] for line in lines[1:6]] == [
        "10.0.0.0/24",
        "10.1.0.0/24",
        "...",
        "10.7.0.0/24",
        "10.8.0.0/24",
    ]
    assert lines[3] == "... 5 more pools ..."
    assert len(lines_of(report.to_text())) == len(lines) + 4


def test_not_fit_listed_in_text() -> None:
    report = mixed()._with(not_fit=[NotFit(f"n{i}", "no room") for i in range(12)])
    assert "12 node(s) would not fit:\n  n0: no room\n" in str(report)
    assert "  n11: no room" in str(report)  # all of them without max_rows
    cut = report.to_text(max_rows=10)
    assert "  n9: no room\n  ... and 2 more (see not_fit)" in cut
    assert "n10:" not in cut


# -- HTML ------------------------------------------------------------------------------------------


def test_html_is_a_table_with_coloured_statuses() -> None:
    html = mixed()._repr_html_()
    assert html.startswith('<div class="ipv6alloc-capacity">')
    assert html.count("<table") == 2  # the rows, the totals
    assert html.count("<tr>") == 1 + 3 + 1 + 2  # heading, rows, totals heading, totals
    assert ">10.0.0.0/22</td>" in html
    assert ">2^72</td>" in html
    ok = 'color:#0b6e2e;background:#e3f4e8;font-weight:bold">ok</td>'
    critical = 'color:#a4161a;background:#fbe1e1;font-weight:bold">critical</td>'
    assert html.count(ok) == 2
    assert html.count(critical) == 1
    assert "<script" not in html


def test_html_escapes_every_text() -> None:
    report = mixed()._with(not_fit=[NotFit("<b>x</b>", 'pool "a" & <script>alert(1)</script>')])
    html = report.to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<code>&lt;b&gt;x&lt;/b&gt;</code>" in html
    assert "pool &quot;a&quot; &amp; " in html


def test_html_cuts_long_reports_and_long_not_fit_lists() -> None:
    pools = PrefixAllocator([f"10.{i}.0.0/24" for i in range(100)])
    report = CapacityReport.from_allocator(pools, pod_prefixlen=26)
    html = report._repr_html_()  # 60 rows by default
    assert html.count("<tr>") == 1 + 60 + 1 + 1 + 1  # heading, rows, the gap, totals
    assert "&hellip; 40 more pools &hellip;" in html
    assert ">10.29.0.0/24<" in html
    assert ">10.30.0.0/24<" not in html
    assert ">10.70.0.0/24<" in html
    assert report.to_html(max_rows=None).count("<tr>") == 1 + 100 + 2
    crowded = report._with(not_fit=[NotFit(f"n{i}", "full") for i in range(15)])
    html = crowded._repr_html_()
    assert html.count("<li>") == 10
    assert "... and 5 more (see not_fit)" in html


# -- records, JSON, CSV ----------------------------------------------------------------------------


def test_records_have_exactly_the_keys() -> None:
    records = mixed().to_records()
    assert [list(r) for r in records] == [list(FIELDS)] * 3
    assert records[0] == {
        "pool": "10.0.0.0/22",
        "family": 4,
        "kind": "cluster",
        "pod_prefixlen": 24,
        "addresses_per_prefix": 256,
        "pods_per_node": 110,
        "prefixes_total": 4,
        "prefixes_used": 1,
        "prefixes_free": 3,
        "prefixes_unusable": 0,
        "nodes_fit": 3,
        "utilization": 0.25,
        "largest_free_prefixlen": 23,
        "fragmentation": (768 - 512) / 768,
        "status": "ok",
    }
    assert json.loads(json.dumps(records)) == records


def test_to_dict_is_what_the_json_output_holds() -> None:
    report = mixed()._with(not_fit=[NotFit("n1", "full")])
    data = json.loads(json.dumps(report.to_dict()))
    assert list(data) == ["pools", "totals", "not_fit", "first_exhausted"]
    assert data["pools"][1]["prefixes_total"] == str(2**72)
    assert data["not_fit"] == [{"node": "n1", "reason": "full"}]
    # Two allocations, one in the full /24: it has no free block left, at share 1/2.
    assert data["first_exhausted"] == {"pool": "192.0.2.0/24", "share": 0.5, "new_nodes": 0}
    assert [(t["family"], t["pools"]) for t in data["totals"]] == [(4, 2), (6, 1)]


def test_csv_one_line_per_row_counts_exact() -> None:
    text = mixed().to_csv()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == ",".join(FIELDS)
    assert [r["pool"] for r in rows] == ["10.0.0.0/22", "2001:db8::/48", "192.0.2.0/24"]
    assert rows[1]["prefixes_total"] == str(2**72)
    assert rows[2]["largest_free_prefixlen"] == ""  # None
    assert rows[0]["utilization"] == "0.25"


# -- pandas ----------------------------------------------------------------------------------------


def test_to_pandas() -> None:
    frame = mixed().to_pandas()
    assert list(frame.columns) == list(FIELDS)
    assert len(frame) == 3
    assert frame["prefixes_total"].tolist() == [4, 2**72, 1]  # exact, however large
    assert frame.loc[0, "status"] == "ok"


def test_to_pandas_without_pandas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"needs pandas: pip install 'ipv6alloc\[pandas\]'"):
        mixed().to_pandas()


# -- plots -----------------------------------------------------------------------------------------


def test_utilization_plot_draws_bars_and_thresholds() -> None:
    report = mixed()
    figure = report.plot()
    assert isinstance(figure, Figure)
    [ax] = figure.axes
    widths = [bar.get_width() for bar in ax.patches if isinstance(bar, Rectangle)]
    assert widths == [1.0, 0.25, 0.0]  # the highest first
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "192.0.2.0/24 (cluster, /24)"
    assert vertical_lines(ax) == [0.75, 0.9]
    assert ax.get_xlim() == (0.0, 1.0)


def test_plot_thresholds_follow_the_report() -> None:
    pools = PrefixAllocator(["10.0.0.0/22"])
    report = CapacityReport.from_allocator(
        pools, pod_prefixlen=24, thresholds=Thresholds(warn=0.5, critical=0.6)
    )
    [ax] = report.plot().axes
    assert vertical_lines(ax) == [0.5, 0.6]


def test_fragmentation_plot_and_max_pools(tmp_path: Path) -> None:
    report = mixed()
    figure = report.plot("fragmentation", max_pools=2)
    [ax] = figure.axes
    widths = [bar.get_width() for bar in ax.patches if isinstance(bar, Rectangle)]
    assert widths == [pytest.approx(1 - 512 / 768), 0.0]
    assert len(ax.get_lines()) == 0  # no thresholds
    assert ax.get_title() == "fragmentation per pool: the 2 highest of 3 pools"
    figure.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_on_given_axes() -> None:
    figure = Figure()
    left, right = figure.subplots(1, 2)
    assert mixed().plot(ax=right) is figure
    assert len(right.patches) == 3
    assert len(left.patches) == 0
    sub = Figure().add_subfigure(GridSpec(1, 2)[0])
    assert mixed().plot(ax=sub.subplots()) is sub.figure


def test_plot_refuses_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="plot kind must be 'utilization' or 'frag"):
        mixed().plot("pie")
    with pytest.raises(ConfigurationError, match="max_pools must be an integer from 1"):
        mixed().plot(max_pools=0)


def test_plot_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"needs matplotlib: pip install 'ipv6alloc\[plot\]'"):
        mixed().plot()


def test_an_empty_report_plots_and_renders() -> None:
    empty = CapacityReport([])
    assert empty.plot().axes[0].texts[-1].get_text() == "no pools"
    assert "first to run out: none" in str(empty)
    assert empty.to_records() == []
    assert empty.to_csv() == ",".join(FIELDS) + "\n"
