"""The built-in example cluster: the five nodes of the article this project started from.

Each node has one provider subnet (inferred from the article's output: three /64s and two
/121s). The cluster pools follow the article (``10.0.0.0/12`` with /24 node prefixes), except
that the IPv6 fallback pool holds /80s: the article's ``fd40:10::/96`` cannot hold a /80 at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._node import Assignment, Node
from ._node_allocator import NodeAllocator
from ._policy import SafePolicy, TalosPolicy

if TYPE_CHECKING:
    from ._interface import Policy

__all__ = ["DEMO_CLUSTER", "DemoCluster", "DemoRow", "run_demo"]


@dataclass(frozen=True, slots=True)
class DemoCluster:
    """An example cluster: nodes in join order and the cluster settings."""

    nodes: tuple[tuple[str, str], ...]  # (name, provider subnet in interface form)
    cluster_cidrs: tuple[str, ...]
    node_mask: tuple[tuple[int, int], ...]
    service_cidrs: tuple[str, ...]


DEMO_CLUSTER = DemoCluster(
    nodes=(
        ("cp-1", "2001:a:b:2875::7952/64"),
        ("worker-1", "2a00:a:0:1c4::64/64"),
        ("worker-2", "2a09:a:f:42f6::1/64"),
        ("worker-3", "2a02:a:152:202::100/121"),
        ("worker-4", "2a02:a:153:201::100/121"),
    ),
    cluster_cidrs=("10.0.0.0/12", "fd40:10::/64"),
    node_mask=((4, 24), (6, 80)),
    service_cidrs=("10.100.0.0/22", "fd40:10:100::/112"),
)


@dataclass(frozen=True, slots=True)
class DemoRow:
    """One node's result in a demo run."""

    node: Node
    assignment: Assignment
    #: Node addresses (this node's or another's) that lie inside its IPv6 pod prefix.
    contains: tuple[str, ...]


def run_demo(policy: Policy, cluster: DemoCluster = DEMO_CLUSTER) -> list[DemoRow]:
    """Assign every node of ``cluster`` in join order under ``policy``.

    >>> rows = run_demo(TalosPolicy())
    >>> [str(r.assignment.prefix(6)) for r in rows][3]
    '2a02:a:152:202::100/121'
    >>> rows[3].contains
    ('2a02:a:152:202::100',)
    """
    allocator = NodeAllocator(
        cluster.cluster_cidrs,
        node_mask=dict(cluster.node_mask),
        policy=policy,
        service_cidrs=cluster.service_cidrs,
    )
    nodes = [Node.create(name, subnets=[subnet]) for name, subnet in cluster.nodes]
    addresses = [a for n in nodes for a in n.addresses]
    rows = []
    for node in nodes:
        assignment = allocator.assign(node)
        v6 = assignment.prefix(6)
        inside = tuple(
            str(a.network_address) for a in addresses if v6 is not None and a.subnet_of(v6)
        )
        rows.append(DemoRow(node, assignment, inside))
    return rows


DEFAULT_POLICIES: tuple[Policy, ...] = (SafePolicy(), TalosPolicy())
