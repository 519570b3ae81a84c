"""Planning: what every node of a cluster should hold, as :class:`Plan` (:func:`plan`).

The plan is what a controller writes to ``spec.podCIDRs``, worked out without touching the
cluster. It follows the API server's rules (``pkg/apis/core/validation/validation.go`` and
``pkg/registry/core/node/strategy.go`` in kubernetes/kubernetes): podCIDRs are write-once, so
what a node holds is a fact to adopt, never to change; a write carries both families at once
(``podCIDR`` = ``podCIDRs[0]``, the conversion in ``pkg/apis/core/v1/conversion.go`` lets the
singular field win), in the cluster's family order, in canonical text, one prefix per family,
with the node's ``resourceVersion`` as a precondition.

The order is fixed, so the same nodes and allocator always give the same plan:

1. every listed node is registered before any assignment (its subnets become pools and its
   addresses are reserved), so no node's nested subnet or address ends up inside another node's
   pod prefix, whatever the order;
2. every node that holds podCIDRs is restored, oldest first (creation time, then name);
3. every node gets one action, oldest first: ``keep``, ``adopt``, ``assign``, ``conflict``,
   ``wait`` or ``error`` (:data:`ACTIONS`);
4. nodes the allocator holds that the list no longer has are released (``release``); a node
   that merely carries a ``deletionTimestamp`` still exists and keeps its prefixes
   (kubernetes/kubernetes#127792).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from .._errors import Ipv6AllocError, quote
from .._node_restore import _pod_cidr
from ._load import read_nodes
from ._read import KubeNode
from ._sources import AnnotationSource, _as_source, _lookup

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from .._interface import Interface
    from .._node import Assignment, FamilyAssignment, Node, RestoreResult
    from .._node_allocator import NodeAllocator
    from .._prefix import Prefix
    from ._sources import LookupStatus, SubnetFunction, SubnetSource

__all__ = ["ACTIONS", "Action", "NodePlan", "Plan", "plan"]

#: What the plan does with one node.
Action = Literal["keep", "adopt", "assign", "conflict", "wait", "error", "release"]
#: Every action, in the order the summary lists them.
ACTIONS: Final[tuple[Action, ...]] = (
    "keep",
    "adopt",
    "assign",
    "conflict",
    "wait",
    "error",
    "release",
)


def _ipv4_mapped(value: int, prefixlen: int) -> bool:
    """Whether an IPv6 prefix lies in ``::ffff:0:0/96``, which the API server refuses."""
    return prefixlen >= 96 and value >> 32 == 0xFFFF


@dataclass(frozen=True, slots=True)
class NodePlan:
    """What the plan does with one node, and why.

    Attributes:
        name: The node's name.
        action: ``keep`` (it holds prefixes the allocator already knew), ``adopt`` (it holds
            prefixes the allocator restored now), ``assign`` (write :attr:`pod_cidrs` to it),
            ``conflict`` (its podCIDRs overlap an older node's, or are invalid: reported, not
            touched), ``wait`` (retry later: not initialized, no addresses yet, a subnet
            source failed, being deleted), ``error`` (someone must act: no usable subnet and
            no fallback, a full pool, malformed data, podCIDRs that can never be completed) or
            ``release`` (the Node is gone: its prefixes are free again).
        reason: One line saying why.
        pod_cidrs: The node's podCIDRs after the plan, as text: held (``keep``), as stored
            (``adopt``: a lax value is kept as it is, never rewritten) or to be written
            (``assign``); empty for the other actions.
        subnet: The provider subnet (interface form) the IPv6 prefix lies in, if any.
        warnings: Things the node should know (a reservation that waits, a subnet skipped).
        resource_version: The ``metadata.resourceVersion`` the node was read at.
        cause: For an ``error`` the allocator raised, the error's class name
            (``"PoolExhaustedError"``: no free prefix, upstream's ``CIDRNotAvailable``).
    """

    name: str
    action: Action
    reason: str
    pod_cidrs: tuple[str, ...] = ()
    subnet: str | None = None
    warnings: tuple[str, ...] = ()
    resource_version: str | None = None
    cause: str | None = None

    @property
    def merge_patch(self) -> dict[str, Any] | None:
        """The JSON merge-patch body that writes an ``assign`` (None for other actions).

        Both fields, ``podCIDR`` = ``podCIDRs[0]``, and the ``resourceVersion`` read as a
        precondition (the API server answers 409 if the node changed since).

        >>> NodePlan("w1", "assign", "...", ("10.0.0.0/24", "2001:db8::/80"), None, (), "42")\
.merge_patch
        {'metadata': {'resourceVersion': '42'}, 'spec': {'podCIDR': '10.0.0.0/24', \
'podCIDRs': ['10.0.0.0/24', '2001:db8::/80']}}
        """
        if self.action != "assign" or not self.pod_cidrs:
            return None
        body: dict[str, Any] = {}
        if self.resource_version is not None:
            body["metadata"] = {"resourceVersion": self.resource_version}
        body["spec"] = {"podCIDR": self.pod_cidrs[0], "podCIDRs": list(self.pod_cidrs)}
        return body

    @property
    def json_patch(self) -> list[dict[str, Any]] | None:
        """The same write as a JSON patch (None for other actions).

        A ``test`` op on the ``resourceVersion`` guards it (a failed test gets 422).

        >>> NodePlan("w1", "assign", "...", ("10.0.0.0/24",), None, (), "42").json_patch
        [{'op': 'test', 'path': '/metadata/resourceVersion', 'value': '42'}, \
{'op': 'add', 'path': '/spec/podCIDR', 'value': '10.0.0.0/24'}, \
{'op': 'add', 'path': '/spec/podCIDRs', 'value': ['10.0.0.0/24']}]
        """
        if self.action != "assign" or not self.pod_cidrs:
            return None
        ops: list[dict[str, Any]] = []
        if self.resource_version is not None:
            ops.append(
                {"op": "test", "path": "/metadata/resourceVersion", "value": self.resource_version}
            )
        ops.append({"op": "add", "path": "/spec/podCIDR", "value": self.pod_cidrs[0]})
        ops.append({"op": "add", "path": "/spec/podCIDRs", "value": list(self.pod_cidrs)})
        return ops

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``name``, ``action``, ``podCIDRs``, ``reason``, ``subnet``, ``warnings``."""
        return {
            "name": self.name,
            "action": self.action,
            "podCIDRs": list(self.pod_cidrs),
            "reason": self.reason,
            "subnet": self.subnet,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """What every node should hold: one :class:`NodePlan` per node, in the order decided.

    Nodes come oldest first (creation time, then name), then the releases by name.

    Attributes:
        nodes: The node plans.
        allocator: The node allocator the plan was made with (it holds what the plan says);
            :func:`~ipv6alloc.kubernetes.apply` updates it as the writes land. Not compared.
    """

    nodes: tuple[NodePlan, ...]
    allocator: NodeAllocator | None = field(default=None, compare=False, repr=False)

    def __iter__(self) -> Iterator[NodePlan]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, name: str) -> NodePlan | None:
        """The plan of the node of this name (the first, if listed twice), or None."""
        return next((n for n in self.nodes if n.name == name), None)

    @property
    def writes(self) -> tuple[NodePlan, ...]:
        """The ``assign`` plans: what a controller must write."""
        return tuple(n for n in self.nodes if n.action == "assign")

    @property
    def ok(self) -> bool:
        """Whether no node is in ``conflict`` or ``error`` (``wait`` is not a failure)."""
        return not any(n.action in ("conflict", "error") for n in self.nodes)

    def summary(self) -> dict[str, int]:
        """How many nodes get each action, every action listed (:data:`ACTIONS` order)."""
        counts: dict[str, int] = dict.fromkeys(ACTIONS, 0)
        for n in self.nodes:
            counts[n.action] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: ``{"nodes": [...], "summary": {...}}`` (see :meth:`NodePlan.to_dict`)."""
        return {"nodes": [n.to_dict() for n in self.nodes], "summary": self.summary()}

    def __str__(self) -> str:
        """An aligned table, one row per node."""
        rows = [["NODE", "ACTION", "PODCIDRS", "SUBNET", "REASON"]]
        rows += [
            [n.name, n.action, ",".join(n.pod_cidrs) or "-", n.subnet or "-", n.reason]
            for n in self.nodes
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )


# -- planning ------------------------------------------------------------------------------------


#: The subnet sources :func:`plan` asks when none are given.
DEFAULT_SOURCES: Final[tuple[AnnotationSource]] = (AnnotationSource(),)


def plan(
    nodes: Iterable[KubeNode] | object,
    allocator: NodeAllocator,
    *,
    sources: Sequence[SubnetSource | SubnetFunction] = DEFAULT_SOURCES,
    release_missing: bool = True,
) -> Plan:
    """Plan every node's podCIDRs; deterministic, and never raises for what a cluster holds.

    The allocator is updated to hold what the plan says (pass ``allocator.copy()`` for a dry
    run): ``assign`` prefixes are held as planned (planning again before they are written gives
    the same ones), restored ones are adopted, released ones are free. Runtime complexity:
    O(n log n) for n nodes, plus the sources' own cost.

    >>> from ipv6alloc import NodeAllocator
    >>> from ipv6alloc.kubernetes import parse_nodes
    >>> nodes = parse_nodes('''{"kind": "List", "items": [{"kind": "Node", "metadata": {
    ...     "name": "w1", "resourceVersion": "7",
    ...     "annotations": {"ipv6alloc.io/node-subnets": "2001:db8:0:1::7/64"}}}]}''')
    >>> alloc = NodeAllocator(["10.0.0.0/16", "fd00::/48"], node_mask={4: 24, 6: 80})
    >>> p = plan(nodes, alloc)
    >>> [(n.name, n.action, n.pod_cidrs) for n in p]
    [('w1', 'assign', ('10.0.0.0/24', '2001:db8:0:1:1::/80'))]
    >>> p.nodes[0].merge_patch["spec"]["podCIDR"]
    '10.0.0.0/24'

    Args:
        nodes: :class:`KubeNode` values, or anything :func:`read_nodes` reads (a NodeList, a
            ``kind: List``, mappings, client objects).
        allocator: The node allocator: its cluster CIDRs, node masks and policy decide.
        sources: Where each node's provider subnets come from, tried in order (by default
            the ``ipv6alloc.io/node-subnets`` annotation).
        release_missing: Whether ``nodes`` is the whole cluster, so that nodes the allocator
            knows and the list lacks are gone (released). A controller planning the nodes of
            one watch event passes False and releases a node on its ``DELETED`` event.

    Returns:
        The plan.

    Raises:
        NodeReadError: ``nodes`` is not a list of Nodes (see :func:`read_nodes`).
        TypeError: a source is neither a subnet source nor callable.
    """
    listed = _kube_nodes(nodes)
    return _Planner(allocator, sources).run(listed, release_missing=release_missing)


def _kube_nodes(nodes: object) -> list[KubeNode]:
    if isinstance(nodes, list | tuple) and all(isinstance(n, KubeNode) for n in nodes):
        return list(nodes)
    return read_nodes(nodes)


@dataclass(slots=True)
class _Facts:
    """What the planner learned of one node before deciding.

    The subnet lookup's fields, not a :class:`SubnetLookup`: a plan keeps every node's facts
    until it returns, and each object kept is one more for every full garbage collection to
    trace; nor the text saying which source gave the subnets, which a plan does not show.
    """

    kube: KubeNode
    subnets: tuple[Interface, ...]  # the lookup's (the node's, which are the same, if any)
    status: LookupStatus  # the lookup's
    reason: str | None  # the lookup's, when it did not find subnets
    node: Node | None  # None: the node's data cannot make a core Node
    problem: str | None  # why not
    decided: NodePlan | None = None


class _Planner:
    """One run of :func:`plan` (internal)."""

    def __init__(
        self, allocator: NodeAllocator, sources: Sequence[SubnetSource | SubnetFunction]
    ) -> None:
        self.allocator = allocator
        self.sources = tuple(_as_source(source) for source in sources)  # TypeError up front

    def run(self, listed: list[KubeNode], *, release_missing: bool) -> Plan:
        ordered = sorted(listed, key=lambda n: n.sort_key)
        facts: list[_Facts] = []
        duplicates: list[NodePlan] = []
        seen: set[str] = set()
        for kube in ordered:
            if kube.name in seen:
                duplicates.append(
                    NodePlan(
                        kube.name,
                        "error",
                        f"node {quote(kube.name)} is listed more than once; planned the oldest",
                        resource_version=kube.resource_version,
                    )
                )
                continue
            seen.add(kube.name)
            facts.append(self._learn(kube))
        for fact in facts:  # 1. register every node before any assignment
            if fact.node is not None:
                self.allocator.register(fact.node)
        for fact in facts:  # 2. restore what nodes hold, oldest first
            if fact.kube.pod_cidrs:
                fact.decided = self._restore(fact)
        # 3. one action each, oldest first
        decided = [fact.decided or self._decide(fact) for fact in facts]
        released = self._release_gone(seen) if release_missing else []  # 4. the gone
        return Plan((*decided, *duplicates, *released), self.allocator)

    # -- what each node is -------------------------------------------------------------------

    def _learn(self, kube: KubeNode) -> _Facts:
        found, _, _, status, reason = _lookup(kube, self.sources)
        subnets = found if status == "ok" else ()  # never IPv4-mapped: Interface
        try:
            node = kube.to_node(subnets)
        except (Ipv6AllocError, ValueError) as exc:
            problem = f"node {quote(kube.name)} cannot be read: {exc}"
            return _Facts(kube, found, status, reason, None, problem)
        return _Facts(kube, node.subnets, status, reason, node, None)  # equal to found, kept once

    # -- nodes that hold podCIDRs ------------------------------------------------------------

    def _restore(self, fact: _Facts) -> NodePlan:
        kube, alloc = fact.kube, self.allocator
        name = kube.name
        before = alloc.get(name)
        stored = stored_prefixes(kube.pod_cidrs)
        warnings: list[str] = []
        if before is not None and stored is not None and set(before.pod_cidrs) == set(stored):
            return self._holding("keep", fact, before, "holds its podCIDRs, as planned")
        if before is not None:
            # The node holds other podCIDRs than the allocator planned (someone else wrote
            # them, or the write raced): what the node holds is the fact.
            warnings.append(
                f"the allocator had planned {', '.join(map(str, before.pod_cidrs))}; the node "
                f"holds {', '.join(kube.pod_cidrs)}: adopted those"
            )
            alloc.release(name)
            if fact.node is not None:
                alloc.register(fact.node)
        result = alloc.restore(fact.node if fact.node is not None else name, kube.pod_cidrs)
        held = alloc.get(name)
        bad = [item for item in result.items if item[1] in ("conflict", "invalid")]
        if bad:
            what = "; ".join(f"{text}: {status}, {detail}" for text, status, detail in bad)
            return NodePlan(
                name,
                "conflict",
                f"its podCIDRs cannot be adopted ({what}); not touched",
                warnings=(*warnings, *_warnings(held)),
                resource_version=kube.resource_version,
            )
        if held is None:  # pragma: no cover - every podCIDR was adopted, conflicting or invalid
            return NodePlan(name, "conflict", _restore_text(result), warnings=tuple(warnings))
        missing = [v for v in alloc.families if held.prefix(v) is None]
        if missing:
            families = " and ".join(f"IPv{v}" for v in missing)
            return NodePlan(
                name,
                "error",
                f"it holds {', '.join(kube.pod_cidrs)} but no {families} prefix, and podCIDRs "
                "are write-once: the node must be re-created to get every family",
                warnings=(*warnings, *held.warnings),
                resource_version=kube.resource_version,
            )
        return self._holding(
            "adopt", fact, held, _restore_text(result), (*warnings, *held.warnings)
        )

    def _holding(
        self,
        action: Action,
        fact: _Facts,
        held: Assignment,
        reason: str,
        warnings: Sequence[str] | None = None,
    ) -> NodePlan:
        kube = fact.kube
        return NodePlan(
            kube.name,
            action,
            reason,
            kube.pod_cidrs,
            _subnet_of(fact.subnets, held),
            tuple(held.warnings if warnings is None else warnings),
            kube.resource_version,
        )

    # -- the others --------------------------------------------------------------------------

    def _decide(self, fact: _Facts) -> NodePlan:
        kube = fact.kube
        name, version = kube.name, kube.resource_version
        if fact.node is None:
            return NodePlan(name, "error", fact.problem or "", resource_version=version)
        if kube.deleting:
            return NodePlan(
                name, "wait", "it is being deleted: no new prefixes", resource_version=version
            )
        if kube.uninitialized:
            return NodePlan(
                name,
                "wait",
                "it is tainted node.cloudprovider.kubernetes.io/uninitialized: its cloud "
                "controller manager has not initialized it yet",
                resource_version=version,
            )
        if fact.status == "wait":
            return NodePlan(name, "wait", fact.reason or "", resource_version=version)
        if fact.status == "error":
            return NodePlan(name, "error", fact.reason or "", resource_version=version)
        if not fact.subnets and not kube.addresses:
            return NodePlan(name, "wait", "it has no addresses yet", resource_version=version)
        if not fact.subnets and kube.problems:
            # Falling back to the cluster pool would be permanent (podCIDRs are write-once):
            # do not, on data that could not be read whole.
            return NodePlan(
                name,
                "wait",
                f"no subnet found, and its data could not be read whole ({kube.problems[0]}): "
                "not falling back to the cluster pool",
                resource_version=version,
            )
        try:
            assignment = self.allocator.assign(fact.node)
        except Ipv6AllocError as exc:
            return NodePlan(
                name, "error", str(exc), resource_version=version, cause=type(exc).__name__
            )
        prefixes = assignment.pod_cidrs
        mapped = [p for p in prefixes if p.version == 6 and _ipv4_mapped(p.value, p.prefixlen)]
        if mapped:  # the API server refuses them: never plan one
            self.allocator.release(name)
            return NodePlan(
                name,
                "error",
                f"its IPv6 prefix {mapped[0]} would be IPv4-mapped, which the API server refuses",
                resource_version=version,
            )
        return NodePlan(
            name,
            "assign",
            _assign_text(assignment),
            tuple([str(p) for p in prefixes]),
            _subnet_of(fact.subnets, assignment),
            assignment.warnings,
            version,
        )

    def _release_gone(self, listed: set[str]) -> list[NodePlan]:
        released = []
        for name in self.allocator.holding():
            if name in listed:
                continue
            held = self.allocator.release(name)
            released.append(
                NodePlan(
                    name,
                    "release",
                    f"the Node is gone: {', '.join(map(str, held.pod_cidrs))} released",
                )
            )
        for name in self.allocator.registered():
            if name not in listed:
                self.allocator.unregister(name)
        return released


def stored_prefixes(texts: Sequence[str]) -> list[Prefix] | None:
    """The networks of stored podCIDR texts, read as restore reads them, or None if one is bad.

    >>> stored_prefixes(["10.0.3.7/24", "2001:db8::/80"])
    [Prefix('10.0.3.0/24'), Prefix('2001:db8::/80')]
    >>> stored_prefixes(["10.0.3.0/24", "banana"]) is None
    True
    """
    found = [_pod_cidr(text) for text in texts]
    return None if None in found else found  # type: ignore[return-value]  # no None left


def _warnings(held: Assignment | None) -> tuple[str, ...]:
    return () if held is None else held.warnings


def _restore_text(result: RestoreResult) -> str:
    """``adopted the podCIDRs it holds: A, B``, and what lay outside every pool."""
    adopted = [text for text, status, _ in result.items if status in ("adopted", "outside")]
    outside = [detail for _, status, detail in result.items if status == "outside"]
    return "; ".join([f"adopted the podCIDRs it holds: {', '.join(adopted)}", *outside])


def _assign_text(assignment: Assignment) -> str:
    """The IPv6 family's reason (the other families' come from the cluster pools)."""
    family = _ipv6_family(assignment)
    return (assignment.families[0] if family is None else family).reason


def _ipv6_family(held: Assignment) -> FamilyAssignment | None:
    """The assignment's IPv6 family, or None."""
    for family in held.families:
        if family.prefix.version == 6:
            return family
    return None


def _subnet_of(subnets: tuple[Interface, ...], held: Assignment) -> str | None:
    """The provider subnet the node's IPv6 prefix came from (or lies in), in interface form."""
    family = _ipv6_family(held)
    if family is None:
        return None
    if family.decision is not None:
        return str(family.decision.interface)
    for interface in subnets:
        if family.prefix.subnet_of(interface.subnet):
            return str(interface)
    return None
