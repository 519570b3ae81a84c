"""The ``ipv6alloc`` command line (stdlib ``argparse``).

``demo`` lives here; ``plan``, ``apply`` and ``run`` live in the Kubernetes edge
(:mod:`ipv6alloc.kubernetes._cli`, :mod:`ipv6alloc.kubernetes._cli_cluster`) and ``capacity`` in
the capacity edge (:mod:`ipv6alloc.capacity._cli`), each loaded only when its command is chosen:
its arguments are added to its parser then (see :class:`_CommandParser` and :func:`_edge`), so
``ipv6alloc demo`` and ``import ipv6alloc._cli`` load neither edge nor PyYAML.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._demo import DEFAULT_POLICIES, DEMO_CLUSTER, DemoRow, run_demo

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ._interface import Policy

__all__ = ["main"]


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _demo_rows(policy: Policy, rows: list[DemoRow]) -> str:
    table = [["NODE", "ADDRESS", "PROVIDER SUBNET", "IPv4 POD CIDR", "IPv6 POD CIDR"]]
    notes = []
    for i, row in enumerate(rows, 1):
        a = row.assignment
        v4, v6 = a.prefix(4), a.prefix(6)
        mark = " *" if row.contains else ""
        subnet = row.node.subnets[0]
        table.append(
            [
                row.node.name,
                str(subnet.address_prefix.network_address),
                str(subnet.subnet),
                str(v4),
                f"{v6}{mark}",
            ]
        )
        family = next(f for f in a.families if f.prefix.version == 6)
        notes.append(f"  [{i}] {row.node.name}: {family.reason}")
    out = [f"policy {policy!r}, placement next-fit", _table(table), "reasons:", *notes]
    if any(row.contains for row in rows):
        out.append(
            "  * the pod prefix contains a node address: "
            + ", ".join(
                f"{row.node.name} holds {', '.join(row.contains)}" for row in rows if row.contains
            )
        )
    return "\n".join(out)


def _demo_json(policy: Policy, rows: list[DemoRow]) -> dict[str, Any]:
    return {
        "policy": policy.name,
        "placement": "next-fit",
        "nodes": [
            {
                "name": row.node.name,
                "address": str(row.node.subnets[0].address_prefix.network_address),
                "subnet": str(row.node.subnets[0].subnet),
                "podCIDRs": [str(p) for p in row.assignment.pod_cidrs],
                "reason": next(f.reason for f in row.assignment.families if f.prefix.version == 6),
                "containsNodeAddress": list(row.contains),
            }
            for row in rows
        ],
    }


def _cmd_demo(args: argparse.Namespace) -> int:
    runs = [(policy, run_demo(policy)) for policy in DEFAULT_POLICIES]
    if args.output == "json":
        cluster = {
            "clusterCIDRs": list(DEMO_CLUSTER.cluster_cidrs),
            "nodeMask": {f"ipv{v}": m for v, m in DEMO_CLUSTER.node_mask},
            "serviceCIDRs": list(DEMO_CLUSTER.service_cidrs),
        }
        doc = {"cluster": cluster, "runs": [_demo_json(p, rows) for p, rows in runs]}
        print(json.dumps(doc, indent=2))
        return 0
    masks = ", ".join(f"IPv{v} /{m}" for v, m in DEMO_CLUSTER.node_mask)
    print(
        f"Example cluster: {len(DEMO_CLUSTER.nodes)} nodes; cluster CIDRs "
        f"{', '.join(DEMO_CLUSTER.cluster_cidrs)} (node masks {masks}); "
        f"service CIDRs {', '.join(DEMO_CLUSTER.service_cidrs)} reserved.\n"
    )
    print("\n\n".join(_demo_rows(policy, rows) for policy, rows in runs))
    return 0


class _CommandParser(argparse.ArgumentParser):
    """A command's parser whose arguments may be added only once the command is chosen.

    ``populate(parser)`` runs the first time the parser parses (``ipv6alloc plan ...``,
    ``ipv6alloc plan --help``): a command whose arguments come from an edge module loads it
    then, not when the program starts.
    """

    def __init__(
        self,
        *args: Any,
        populate: Callable[[argparse.ArgumentParser], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._populate = populate

    def parse_known_args(  # type: ignore[override]  # the overloads differ only in namespace's type
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        """Add the command's arguments if not done yet, then parse as argparse does."""
        populate, self._populate = self._populate, None
        if populate is not None:
            populate(self)
        return super().parse_known_args(args, namespace)


def _edge(module: str, name: str) -> Callable[..., Any]:
    """``ipv6alloc.<module>.<name>``, imported when first called: an edge loads only then."""

    def call(*args: Any) -> Any:
        return getattr(import_module(f"ipv6alloc.{module}"), name)(*args)

    call.__qualname__ = call.__name__ = name
    return call


#: The commands of the edges: name, module, the function that adds the command's arguments and
#: the one that runs it (both loaded on first use, see :func:`_edge`), help and description.
_EDGE_COMMANDS = (
    (
        "plan",
        "kubernetes._cli",
        "add_plan_arguments",
        "run_plan",
        "plan every node's podCIDRs (kubectl get nodes -o json|yaml, or the example cluster)",
        (
            "Plan the podCIDRs of every node, without touching the cluster: keep or adopt what a "
            "node holds (podCIDRs are write-once), assign the others from their own provider "
            "subnets. Exit status: 0 when no node is in conflict or error (wait is not a failure), "
            "1 when some is, 2 for bad input or configuration."
        ),
    ),
    (
        "apply",
        "kubernetes._cli_cluster",
        "add_apply_arguments",
        "run_apply",
        "list the cluster's nodes, plan, and write every node's podCIDRs",
        (
            "List the Nodes (kubeconfig as kubectl finds it, or the pod's service account), plan "
            "them as `plan` does, and write each assignment with the node's resourceVersion as a "
            "precondition, retrying and re-reading on conflicts. Exit status as `plan`'s, and 1 "
            "when a write failed."
        ),
    ),
    (
        "run",
        "kubernetes._cli_cluster",
        "add_run_arguments",
        "run_run",
        "the controller: keep every node's podCIDRs right as Nodes come and go",
        (
            "List, plan and write every node, then watch Nodes and reconcile each event; with "
            "leader election (default) only the replica holding the Lease writes. Runs until "
            "SIGINT or SIGTERM."
        ),
    ),
    (
        "capacity",
        "capacity._cli",
        "add_capacity_arguments",
        "run_capacity",
        "how many more nodes fit in each pool, and which runs out first",
        (
            "Plan the nodes as `plan` does (without touching the cluster), then report per pool: "
            "pod prefixes in it, used, free, how many more nodes fit, utilization, fragmentation "
            "and status; the totals per family and kind, and the pool that runs out first. "
            "--add-nodes N reports what N more nodes would leave. Exit status: 0, or 2 for bad "
            "input or configuration."
        ),
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ipv6alloc`` command."""
    parser = argparse.ArgumentParser(
        prog="ipv6alloc",
        description="Per-node pod prefixes carved from each node's own provider IPv6 subnet.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser
    )
    demo = commands.add_parser(
        "demo",
        help="assign pod prefixes to the built-in example cluster",
        description="Assign pod prefixes to the built-in five-node example cluster, first "
        "under the default SafePolicy, then under TalosPolicy (the reference tool's table), "
        "marking prefixes that contain a node address.",
    )
    demo.add_argument("-o", "--output", choices=("table", "json"), default="table")
    demo.set_defaults(func=_cmd_demo)
    for name, module, populate, run, summary, description in _EDGE_COMMANDS:
        command = commands.add_parser(
            name, help=summary, description=description, populate=_edge(module, populate)
        )
        command.set_defaults(func=_edge(module, run))
    return parser


#: The exit status when the reader of standard output went away: 128 + SIGPIPE, what a shell
#: reports for a program the signal stopped.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``ipv6alloc plan -o patch | head -1``): stop quietly. Python
        # flushes standard output again at exit; point it at the null device so that flush
        # does not fail as well.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
