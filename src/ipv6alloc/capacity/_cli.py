"""``ipv6alloc capacity``: the capacity report of a cluster's Nodes, or of the example cluster.

:mod:`ipv6alloc._cli` registers the command and loads this module only when it runs. The
cluster's settings are ``plan``'s flags (:func:`ipv6alloc.kubernetes._cli.add_cluster_flags`);
the nodes are planned as ``plan`` plans them, on a fresh allocator, then reported on. With
``--add-nodes N`` the report is that of a what-if: N more nodes (on ``--at`` if given), with the
nodes that would not fit listed.

Exit status: 0 when the report is printed (nodes that do not fit are part of the report, not a
failure), 2 for bad input or configuration, with one line on standard error.
"""

from __future__ import annotations

import argparse
import json

from .._errors import Ipv6AllocError
from ..kubernetes._cli import EXIT_OK, _fail, _nodes, add_cluster_flags, build_allocator
from ._nodes import plan_nodes
from ._records import Thresholds
from ._report import DEFAULT_MAX_PODS, CapacityReport

__all__ = ["add_capacity_arguments", "run_capacity"]

_COMMAND = "ipv6alloc capacity"


def _positive(text: str) -> int:
    """A whole number from 1 (``--max-pods``)."""
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return value


def _count(text: str) -> int:
    """A whole number from 0 (``--add-nodes``).

    >>> _count("500")
    500

    Raises:
        argparse.ArgumentTypeError: not a whole number from 0.
    """
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 0")
    return value


def _ratio(text: str) -> float:
    """A share from 0 to 1 (``--warn``, ``--critical``)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1")
    return value


def add_capacity_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``ipv6alloc capacity``: ``plan``'s, and the report's own.

    >>> parser = argparse.ArgumentParser(prog="ipv6alloc capacity")
    >>> add_capacity_arguments(parser)
    >>> args = parser.parse_args(["--add-nodes", "500", "-o", "csv", "--max-pods", "250"])
    >>> args.add_nodes, args.output, args.max_pods, args.file
    (500, 'csv', 250, None)

    Args:
        parser: the command's parser.
    """
    parser.add_argument(
        "-f",
        "--filename",
        dest="file",
        metavar="FILE",
        help="nodes to report on, JSON or YAML (kubectl get nodes -o json|yaml); - reads "
        "standard input. Without it, the built-in example cluster",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=("table", "json", "csv"),
        default="table",
        help="table (default): one row per pool, then totals; json: {pools, totals, not_fit, "
        "first_exhausted}; csv: one line per pool",
    )
    report = parser.add_argument_group("report settings")
    report.add_argument(
        "--max-pods",
        type=_positive,
        default=DEFAULT_MAX_PODS,
        metavar="N",
        help=f"cap of pods per node, the kubelet's maxPods (default {DEFAULT_MAX_PODS})",
    )
    report.add_argument(
        "--warn",
        type=_ratio,
        default=Thresholds().warn,
        metavar="SHARE",
        help="utilization from which a pool is warn (default 0.75)",
    )
    report.add_argument(
        "--critical",
        type=_ratio,
        default=Thresholds().critical,
        metavar="SHARE",
        help="utilization from which a pool is critical (default 0.9)",
    )
    report.add_argument(
        "--add-nodes",
        type=_count,
        default=0,
        metavar="N",
        help="report what N more nodes would leave, and which would not fit: synthetic nodes "
        "without a provider subnet, or on --at",
    )
    report.add_argument(
        "--at",
        metavar="PREFIX",
        help="the IPv6 provider prefix the added nodes sit on: all on it, or each on its own "
        "--subnet-prefixlen subnet inside it",
    )
    report.add_argument(
        "--subnet-prefixlen",
        type=int,
        metavar="N",
        help="the length of each added node's own subnet inside --at",
    )
    report.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also write a plot of utilization per pool (needs matplotlib: "
        "pip install 'ipv6alloc[plot]')",
    )
    report.add_argument(
        "--plot-kind",
        choices=("utilization", "fragmentation"),
        default="utilization",
        help="what --plot draws (default utilization)",
    )
    add_cluster_flags(parser)


def _build(args: argparse.Namespace) -> CapacityReport:
    """The report the arguments ask for (a what-if's with ``--add-nodes``).

    Raises:
        Ipv6AllocError: bad settings, nodes or what-if arguments.
        OSError: a file cannot be read.
    """
    allocator, sources = build_allocator(args, example=args.file is None)
    not_fit = plan_nodes(_nodes(args.file), allocator, sources)
    thresholds = Thresholds(args.warn, args.critical)
    report = CapacityReport.from_allocator(allocator, max_pods=args.max_pods, thresholds=thresholds)
    if args.add_nodes or args.at is not None or args.subnet_prefixlen is not None:
        added = report.what_if(args.add_nodes, at=args.at, subnet_prefixlen=args.subnet_prefixlen)
        return added._with(not_fit=[*not_fit, *added.not_fit])
    return report._with(not_fit=not_fit)


def run_capacity(args: argparse.Namespace) -> int:
    """Run ``ipv6alloc capacity``: report and print; returns the exit status.

    Only the report goes to standard output; a problem with the input, the settings or the
    plot file is one line on standard error, ``ipv6alloc capacity: error: ...``.

    Args:
        args: the arguments :func:`add_capacity_arguments` parsed.

    Returns:
        0, or 2 for bad input or configuration.
    """
    try:
        report = _build(args)
        if args.plot is not None:
            figure = report.plot(args.plot_kind)
            figure.savefig(args.plot, dpi=120)  # ValueError: a file type it cannot write
    except (Ipv6AllocError, OSError, UnicodeError, ImportError, ValueError) as exc:
        return _fail(_COMMAND, exc)
    if args.output == "json":
        print(json.dumps(report.to_dict(), indent=2))
    elif args.output == "csv":
        print(report.to_csv(), end="")
    else:
        print(report.to_text())
    return EXIT_OK
