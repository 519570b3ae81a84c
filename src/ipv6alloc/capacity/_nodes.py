"""Putting nodes on a fresh node allocator for :meth:`CapacityReport.from_nodes`.

Kubernetes Nodes are planned with :func:`ipv6alloc.kubernetes.plan` (the Kubernetes edge is
imported only then); core :class:`~ipv6alloc.Node` values are registered, then assigned. Either
way the nodes left without prefixes come back with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import Ipv6AllocError, quote
from ._records import NotFit

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .._node import Node
    from .._node_allocator import NodeAllocator
    from ..kubernetes import SubnetSource

__all__ = ["assign_nodes", "plan_nodes"]


def assign_nodes(allocator: NodeAllocator, nodes: Sequence[Node]) -> list[NotFit]:
    """Register every node, then assign each in the order given; what does not fit, and why."""
    not_fit = []
    seen: set[str] = set()
    unique = []
    for node in nodes:
        if node.name in seen:
            not_fit.append(NotFit(node.name, f"node {quote(node.name)} is listed more than once"))
            continue
        seen.add(node.name)
        unique.append(node)
    for node in unique:
        allocator.register(node)
    for node in unique:
        try:
            allocator.assign(node)
        except Ipv6AllocError as exc:
            not_fit.append(NotFit(node.name, str(exc)))
    return not_fit


def plan_nodes(
    nodes: object, allocator: NodeAllocator, sources: Sequence[SubnetSource] | None
) -> list[NotFit]:
    """Plan Kubernetes Nodes on ``allocator``; the nodes left without prefixes, and why."""
    from ..kubernetes import DEFAULT_SOURCES, plan  # noqa: PLC0415  # the edge, when needed

    planned = plan(nodes, allocator, sources=DEFAULT_SOURCES if sources is None else sources)
    return [NotFit(n.name, n.reason) for n in planned if n.action in ("error", "conflict")]
