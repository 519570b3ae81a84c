"""The :class:`CapacityReport`: one row per pool, totals, what runs out first, what-ifs.

Built from a live allocator (:meth:`CapacityReport.from_allocator`) or from Nodes alone
(:meth:`CapacityReport.from_nodes`, which plans them on a fresh allocator first). The arithmetic
lives in :mod:`._count`, the renderings in :mod:`._render` and :mod:`._plot`, the simulations in
:mod:`._whatif`, and comparisons in :mod:`._diff`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._allocator import PrefixAllocator
from .._errors import quote
from .._node import Node
from .._node_allocator import NodeAllocator
from .._prefix import Prefix
from . import _count, _render
from ._diff import CapacityDiff
from ._nodes import assign_nodes, plan_nodes
from ._records import Thresholds, check_max_pods, check_thresholds

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    import pandas
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .._allocator import Placement
    from .._interface import Policy
    from .._prefix import PrefixLike
    from ..kubernetes import SubnetSource
    from ._records import Exhaustion, Kind, NotFit, PoolCapacity, Status, Totals

__all__ = ["DEFAULT_MAX_PODS", "CapacityReport"]

#: The kubelet's default ``maxPods``: ``pods_per_node`` is capped by it unless told otherwise.
DEFAULT_MAX_PODS = 110


class CapacityReport:
    """How many more nodes fit in each pool, and what runs out first.

    Build one with :meth:`from_allocator` or :meth:`from_nodes`; the constructor takes the rows
    as they are. A report is a snapshot: it holds numbers, and the allocator it was read from
    only to run :meth:`what_if` on a copy.

    >>> from ipv6alloc import Node, NodeAllocator
    >>> alloc = NodeAllocator(["10.0.0.0/22", "fd00::/64"], node_mask={4: 24, 6: 80})
    >>> _ = alloc.assign(Node.create("w1", subnets=["2001:db8:0:1::7/64"]))
    >>> report = CapacityReport.from_allocator(alloc)
    >>> for r in report.rows:
    ...     print(r.pool, r.kind, r.pod_prefixlen, r.prefixes_total, r.prefixes_used, r.nodes_fit)
    10.0.0.0/22 cluster 24 4 1 3
    fd00::/64 cluster 80 65536 0 65536
    2001:db8:0:1::/64 provider 80 65536 1 65534
    >>> str(report.first_exhausted.pool)
    '10.0.0.0/22'

    Args:
        rows: One :class:`PoolCapacity` per pool.
        nodes: How many nodes hold prefixes (for the rates of :meth:`exhaustion`).
        not_fit: Nodes that would not get prefixes, each with the reason.
        max_pods: The cap of ``pods_per_node`` the rows were counted with.
        thresholds: The thresholds the rows' statuses were set with.
        allocator: The allocator the rows were read from, if any (for :meth:`what_if`).
    """

    __slots__ = (
        "_allocator",
        "_exhaustion",
        "_max_pods",
        "_nodes",
        "_not_fit",
        "_rows",
        "_selection",
        "_thresholds",
        "_totals",
    )

    def __init__(
        self,
        rows: Iterable[PoolCapacity],
        *,
        nodes: int = 0,
        not_fit: Iterable[NotFit] = (),
        max_pods: int = DEFAULT_MAX_PODS,
        thresholds: Thresholds | None = None,
        allocator: NodeAllocator | PrefixAllocator | None = None,
    ) -> None:
        self._rows = tuple(rows)
        self._nodes = nodes
        self._not_fit = tuple(not_fit)
        self._max_pods = max_pods
        self._thresholds = thresholds if thresholds is not None else Thresholds()
        self._allocator = allocator
        self._selection: tuple[Kind | None, int | None, Status | None] = (None, None, None)
        self._totals = _count.totals(self._rows)
        self._exhaustion = _count.exhaustion(self._rows, nodes)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def from_allocator(
        cls,
        allocator: NodeAllocator | PrefixAllocator,
        *,
        max_pods: int = DEFAULT_MAX_PODS,
        thresholds: Thresholds | None = None,
        pod_prefixlen: int | Mapping[int, int] | None = None,
    ) -> CapacityReport:
        """Report on a node allocator's or a prefix allocator's pools, through public API only.

        A node allocator's cluster pools are counted in its node masks, each provider subnet in
        the prefix length its policy decided for it. A bare prefix allocator's pools are all
        cluster pools, counted in ``pod_prefixlen``. The allocator is read, never changed.
        Runtime complexity: O(n + p) for n nodes and p pools.

        >>> from ipv6alloc import PrefixAllocator
        >>> pools = PrefixAllocator(["10.0.0.0/22", "2001:db8::/64"])
        >>> report = CapacityReport.from_allocator(pools, pod_prefixlen={4: 24, 6: 80})
        >>> [r.nodes_fit for r in report.rows]
        [4, 65536]

        Args:
            allocator: The allocator to read.
            max_pods: Cap of ``pods_per_node`` (the kubelet's ``maxPods``, 110 by default).
            thresholds: When a pool turns ``"warn"`` and ``"critical"`` (75 % and 90 %).
            pod_prefixlen: For a :class:`~ipv6alloc.PrefixAllocator` only: one pod prefix
                length for every pool, one per IP version, or None for each pool's most
                common allocation length.

        Raises:
            ConfigurationError: ``max_pods`` is not a positive integer, or a pod prefix length
                is missing or out of range (see ``pod_prefixlen``).
            TypeError: ``allocator`` is neither allocator, ``thresholds`` is not
                :class:`Thresholds`, or ``pod_prefixlen`` is given for a node allocator.
        """
        max_pods = check_max_pods(max_pods)
        limits = check_thresholds(thresholds)
        if isinstance(allocator, NodeAllocator):
            if pod_prefixlen is not None:
                raise TypeError(
                    "pod_prefixlen is for a PrefixAllocator: a NodeAllocator's pod prefix "
                    "lengths come from its node masks and its policy"
                )
            plan = _count.node_allocator_plan(allocator)
        elif isinstance(allocator, PrefixAllocator):
            plan = _count.prefix_allocator_plan(allocator, pod_prefixlen)
        else:
            raise TypeError(
                "from_allocator() takes a NodeAllocator or a PrefixAllocator, not "
                f"{type(allocator).__name__} {quote(allocator, use_repr=True)}"
            )
        rows = [_count.pool_row(s, kind, length, max_pods, limits) for s, kind, length in plan]
        return cls(
            rows, nodes=len(allocator), max_pods=max_pods, thresholds=limits, allocator=allocator
        )

    @classmethod
    def from_nodes(
        cls,
        nodes: object,
        cluster_cidrs: Sequence[PrefixLike] | PrefixLike = (),
        *,
        node_mask: Mapping[int, int] | None = None,
        policy: Policy | None = None,
        service_cidrs: Iterable[PrefixLike] | PrefixLike = (),
        reserved: Iterable[PrefixLike] | PrefixLike = (),
        placement: Placement = "next-fit",
        families: Sequence[int] | None = None,
        fallback: bool = True,
        sources: Sequence[SubnetSource] | None = None,
        max_pods: int = DEFAULT_MAX_PODS,
        thresholds: Thresholds | None = None,
    ) -> CapacityReport:
        """Report on a cluster known only by its Nodes: plan them on a fresh allocator first.

        Kubernetes Nodes in any shape :func:`ipv6alloc.kubernetes.read_nodes` reads (a
        NodeList, a ``kind: List``, mappings, client objects, :class:`KubeNode` values) are
        planned with :func:`ipv6alloc.kubernetes.plan`, as ``ipv6alloc plan`` would: nodes that
        hold podCIDRs keep them, the others are assigned, oldest first. A list of core
        :class:`~ipv6alloc.Node` values is registered, then assigned in the order given. The
        nodes the plan leaves without prefixes (``error`` or ``conflict``) are the report's
        :attr:`not_fit`. The keywords up to ``fallback`` configure the
        :class:`~ipv6alloc.NodeAllocator` as its own keywords do. Runtime complexity: that
        of planning, then O(n + p).

        >>> nodes = {"kind": "List", "items": [{"kind": "Node", "metadata": {"name": "w1",
        ...     "annotations": {"ipv6alloc.io/node-subnets": "2001:db8:0:1::7/64"}}}]}
        >>> report = CapacityReport.from_nodes(
        ...     nodes, ["10.0.0.0/16", "fd00::/64"], node_mask={4: 24, 6: 80}
        ... )
        >>> report.nodes, [str(r.pool) for r in report.rows], report.not_fit
        (1, ['10.0.0.0/16', 'fd00::/64', '2001:db8:0:1::/64'], ())

        Args:
            nodes: The nodes.
            cluster_cidrs: The cluster pod CIDRs, at most one per family.
            node_mask: Node prefix length per family for the cluster CIDRs.
            policy: The mask policy for provider subnets (:class:`~ipv6alloc.SafePolicy`).
            service_cidrs: Service CIDRs, kept out of every pod prefix.
            reserved: Further prefixes or addresses to keep out.
            placement: ``"next-fit"`` or ``"lowest"``.
            families: The IP versions to assign, in podCIDRs order.
            fallback: Whether a node without a usable subnet gets IPv6 from the cluster pool.
            sources: Where Kubernetes Nodes' subnets come from (by default the
                ``ipv6alloc.io/node-subnets`` annotation); not for core Nodes, which carry
                their subnets.
            max_pods: Cap of ``pods_per_node``.
            thresholds: When a pool turns ``"warn"`` and ``"critical"``.

        Raises:
            ConfigurationError: settings the node allocator refuses, or a bad ``max_pods``.
            InvalidPrefixError: a CIDR that is not a valid prefix.
            NodeReadError: ``nodes`` is not a list of Nodes (see ``read_nodes``).
            TypeError: ``sources`` given with core Nodes, or a bad ``thresholds``.
        """
        max_pods = check_max_pods(max_pods)
        limits = check_thresholds(thresholds)
        allocator = NodeAllocator(
            cluster_cidrs,
            node_mask=node_mask,
            policy=policy,
            service_cidrs=service_cidrs,
            reserved=reserved,
            placement=placement,
            families=families,
            fallback=fallback,
        )
        if isinstance(nodes, list | tuple) and nodes and all(isinstance(n, Node) for n in nodes):
            if sources is not None:
                raise TypeError("sources are for Kubernetes Nodes: core Nodes carry their subnets")
            not_fit = assign_nodes(allocator, nodes)
        else:
            not_fit = plan_nodes(nodes, allocator, sources)
        report = cls.from_allocator(allocator, max_pods=max_pods, thresholds=limits)
        return report._with(not_fit=not_fit)

    def _with(self, *, not_fit: Iterable[NotFit]) -> CapacityReport:
        """This report with other nodes that do not fit."""
        return self._derive(self._rows, not_fit, self._selection)

    def _derive(
        self,
        rows: Iterable[PoolCapacity],
        not_fit: Iterable[NotFit],
        selection: tuple[Kind | None, int | None, Status | None],
    ) -> CapacityReport:
        """A report on the same allocator and settings, with these rows, nodes and selection."""
        derived = CapacityReport(
            rows,
            nodes=self._nodes,
            not_fit=not_fit,
            max_pods=self._max_pods,
            thresholds=self._thresholds,
            allocator=self._allocator,
        )
        derived._selection = selection
        return derived

    # -- what it holds ----------------------------------------------------------------------

    @property
    def rows(self) -> tuple[PoolCapacity, ...]:
        """One row per pool, in the allocator's pool order."""
        return self._rows

    @property
    def totals(self) -> tuple[Totals, ...]:
        """The sums per family and kind: IPv4 before IPv6, cluster before provider."""
        return self._totals

    @property
    def not_fit(self) -> tuple[NotFit, ...]:
        """The nodes that would not get prefixes, each with the reason."""
        return self._not_fit

    @property
    def nodes(self) -> int:
        """How many nodes hold prefixes (allocations, for a bare prefix allocator)."""
        return self._nodes

    @property
    def max_pods(self) -> int:
        """The cap of ``pods_per_node``."""
        return self._max_pods

    @property
    def thresholds(self) -> Thresholds:
        """The thresholds of the rows' statuses."""
        return self._thresholds

    @property
    def allocator(self) -> NodeAllocator | PrefixAllocator | None:
        """The allocator the report was read from (for :meth:`from_nodes`, the planned one)."""
        return self._allocator

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[PoolCapacity]:
        return iter(self._rows)

    def get(self, pool: PrefixLike) -> PoolCapacity | None:
        """The row of this pool, or None. Runtime complexity: O(p).

        Raises:
            InvalidPrefixError: ``pool`` is not a valid prefix.
        """
        wanted = Prefix.coerce(pool)
        return next((row for row in self._rows if row.pool == wanted), None)

    def exhaustion(self) -> tuple[Exhaustion, ...]:
        """The pools new nodes reach, soonest full first, at the current rate per pool.

        A pool's rate is its share of the nodes so far: for a cluster pool, the nodes holding a
        prefix from it; for a provider subnet, the nodes that joined it after its first (whose
        node brought it; new nodes bring their own subnets). A pool with ``f`` free blocks and
        share ``s`` is full after ``f / s`` more nodes. Pools no new node reaches are left out.
        """
        return self._exhaustion

    @property
    def first_exhausted(self) -> PoolCapacity | None:
        """The pool that runs out first at the current rates (see :meth:`exhaustion`).

        None when no pool has a rate: no node holds prefixes yet, or every node sits alone in
        its own provider subnet and no cluster pool serves any.
        """
        return self._exhaustion[0].row if self._exhaustion else None

    def select(
        self, *, kind: Kind | None = None, family: int | None = None, status: Status | None = None
    ) -> CapacityReport:
        """The rows of one kind, family and/or status, with their totals; what-ifs keep the cut.

        >>> from ipv6alloc import PrefixAllocator
        >>> pools = PrefixAllocator(["10.0.0.0/22", "2001:db8::/64"])
        >>> report = CapacityReport.from_allocator(pools, pod_prefixlen={4: 24, 6: 80})
        >>> [str(r.pool) for r in report.select(family=6)]
        ['2001:db8::/64']

        Raises:
            ConfigurationError: an unknown kind, family or status.
        """
        selection = _count.narrow(self._selection, (kind, family, status))
        return self._derive(_count.select(self._rows, selection), self._not_fit, selection)

    # -- renderings -------------------------------------------------------------------------

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-safe dict per row, with exactly the keys of :data:`FIELDS`.

        The pool is text; counts above 2**53 are decimal text (exact in any JSON reader); the
        rows themselves keep exact ints.
        """
        return [row.to_record() for row in self._rows]

    def to_dict(self) -> dict[str, Any]:
        """The whole report, JSON-safe: what ``ipv6alloc capacity -o json`` prints.

        ``{"pools": [records], "totals": [...], "not_fit": [{"node", "reason"}, ...],
        "first_exhausted": {"pool", "share", "new_nodes"} or None}``.
        """
        return _render.json_dict(self)

    def to_csv(self) -> str:
        """CSV text: a header with the keys of :data:`FIELDS`, then one line per row (exact)."""
        return _render.csv_text(self._rows)

    def to_text(self, *, max_rows: int | None = None) -> str:
        """An aligned table of the rows, then the totals, what runs out first, what does not fit.

        With ``max_rows``, only the first and last rows, and how many are left out between.
        """
        return _render.text(self, max_rows)

    def to_html(self, *, max_rows: int | None = 60) -> str:
        """An HTML table (no pandas needed), statuses coloured, every text escaped."""
        return _render.html(self, max_rows)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        first = self.first_exhausted
        pools = len(self._rows)
        return (
            f"CapacityReport({pools} pool{'' if pools == 1 else 's'}, "
            f"{self._nodes} node{'' if self._nodes == 1 else 's'}, "
            f"first exhausted: {first.pool if first is not None else None}, "
            f"{len(self._not_fit)} not fit)"
        )

    def to_pandas(self) -> pandas.DataFrame:
        """A DataFrame with one row per pool and the columns of :data:`FIELDS` (exact ints).

        Raises:
            ImportError: pandas is not installed (``pip install 'ipv6alloc[pandas]'``).
        """
        return _render.data_frame(self._rows)

    def plot(
        self, kind: str = "utilization", *, ax: Axes | None = None, max_pools: int = 30
    ) -> Figure:
        """Draw horizontal bars per pool and return the figure (never shown behind your back).

        ``"utilization"`` draws the thresholds as vertical lines; ``"fragmentation"`` draws
        ``1 - largest free block / free addresses``. Bars are coloured by status.

        Args:
            kind: ``"utilization"`` or ``"fragmentation"``.
            ax: The axes to draw on; by default a new figure's.
            max_pools: Draw at most this many pools: the highest bars.

        Raises:
            ImportError: matplotlib is not installed (``pip install 'ipv6alloc[plot]'``).
            ConfigurationError: an unknown ``kind``, or ``max_pools`` below 1.
        """
        from ._plot import plot  # noqa: PLC0415  # matplotlib only when plotting

        return plot(self, kind, ax, max_pools)

    # -- what-ifs and comparisons -----------------------------------------------------------

    def what_if(
        self,
        add_nodes: int | Iterable[Node] = 0,
        *,
        policy: Policy | None = None,
        node_mask: Mapping[int, int] | None = None,
        at: PrefixLike | None = None,
        subnet_prefixlen: int | None = None,
        reassign: bool = False,
    ) -> CapacityReport:
        """Simulate on a copy of the allocator: add nodes, switch policy or node masks.

        The live allocator is never touched. With a new ``policy`` or ``node_mask`` the copy
        is rebuilt with them from :meth:`~ipv6alloc.NodeAllocator.snapshot`: every node keeps
        the podCIDRs it holds (write-once in Kubernetes), unless ``reassign`` assigns them all
        afresh, as in a new cluster. Then the new nodes are assigned in turn. ``add_nodes=N``
        makes N synthetic nodes, ``what-if-1`` ...: without ``at`` on no provider subnet;
        with ``at`` all on that subnet, each at its own address; with ``at`` and a longer
        ``subnet_prefixlen`` each on its own subnet inside ``at`` (see
        :mod:`ipv6alloc.capacity._whatif`). Runtime complexity: O(n) for the copy, plus the
        assignments.

        Args:
            add_nodes: How many synthetic nodes to add, or the :class:`~ipv6alloc.Node`
                values to add.
            policy: The mask policy to switch to.
            node_mask: Node masks to switch to (merged into the current ones).
            at: The IPv6 provider prefix synthetic nodes' subnets come from.
            subnet_prefixlen: The length of each synthetic node's own subnet inside ``at``.
            reassign: Assign every node afresh under the new settings.

        Returns:
            A report on the copy, its :attr:`not_fit` the nodes that would not get prefixes.

        Raises:
            TypeError: the report was not read from a node allocator, or an argument has the
                wrong type.
            ConfigurationError: a negative count, bad node masks, or an ``at`` or
                ``subnet_prefixlen`` that cannot be used.
        """
        from ._whatif import simulate  # noqa: PLC0415  # loaded only for what-ifs

        if not isinstance(self._allocator, NodeAllocator):
            raise TypeError(
                "what_if() needs a report read from a NodeAllocator (from_allocator or "
                "from_nodes), not from a PrefixAllocator"
            )
        simulated, not_fit = simulate(
            self._allocator,
            add_nodes,
            policy=policy,
            node_mask=node_mask,
            at=at,
            subnet_prefixlen=subnet_prefixlen,
            reassign=reassign,
        )
        report = CapacityReport.from_allocator(
            simulated, max_pods=self._max_pods, thresholds=self._thresholds
        )._with(not_fit=not_fit)
        kind, family, status = self._selection
        if self._selection == (None, None, None):
            return report
        return report.select(kind=kind, family=family, status=status)

    def diff(self, other: CapacityReport) -> CapacityDiff:
        """What changed per pool from this report to ``other`` (a what-if, a later report).

        Raises:
            TypeError: ``other`` is not a :class:`CapacityReport`.
        """
        if not isinstance(other, CapacityReport):
            raise TypeError(f"diff() takes a CapacityReport, not {quote(other, use_repr=True)}")
        return CapacityDiff.between(self, other)
