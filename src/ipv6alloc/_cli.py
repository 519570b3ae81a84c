"""The ``ipv6alloc`` command line (stdlib ``argparse``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ._demo import DEFAULT_POLICIES, DEMO_CLUSTER, DemoRow, run_demo

if TYPE_CHECKING:
    from collections.abc import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ipv6alloc`` command."""
    parser = argparse.ArgumentParser(
        prog="ipv6alloc",
        description="Per-node pod prefixes carved from each node's own provider IPv6 subnet.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="assign pod prefixes to the built-in example cluster",
        description="Assign pod prefixes to the built-in five-node example cluster, first "
        "under the default SafePolicy, then under TalosPolicy (the reference tool's table), "
        "marking prefixes that contain a node address.",
    )
    demo.add_argument("-o", "--output", choices=("table", "json"), default="table")
    demo.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
