"""The arithmetic of a capacity report: pod prefix lengths per pool, then one row per pool.

Everything is read from public API: a frozen :meth:`~ipv6alloc.NodeAllocator.statistics`
snapshot, the node allocator's configuration and the policy decisions of the nodes it holds
(:meth:`~ipv6alloc.NodeAllocator.nodes`; :meth:`~ipv6alloc.NodeAllocator.snapshot` only for the
provider subnets no held node took a prefix from). Counts are plain ints, exact at any size.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import TYPE_CHECKING

from .._bits import WIDTH
from .._errors import ConfigurationError, quote
from .._prefix import Prefix
from ._records import Exhaustion, PoolCapacity, Totals

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .._allocator import PrefixAllocator
    from .._node_allocator import NodeAllocator
    from .._stats import PoolStatistics
    from ._records import Kind, Status, Thresholds

__all__ = [
    "exhaustion",
    "narrow",
    "node_allocator_plan",
    "pool_row",
    "prefix_allocator_plan",
    "select",
    "totals",
]

#: A cut of a report's rows: ``(kind, family, status)``, None for any.
Selection = tuple["Kind | None", "int | None", "Status | None"]
#: What to count in each pool: ``(pool statistics, kind, pod prefix length)``.
PoolPlan = list[tuple["PoolStatistics", "Kind", int]]


def pool_row(
    stats: PoolStatistics, kind: Kind, pod_prefixlen: int, max_pods: int, thresholds: Thresholds
) -> PoolCapacity:
    """One pool's row, from its statistics and the length of the pod prefixes it gives.

    ``prefixes_free`` counts the aligned blocks that lie wholly in free space
    (:meth:`~ipv6alloc.PoolStatistics.free_prefixes`): a free range large enough for a block
    but straddling an alignment boundary holds none. Runtime complexity: O(g) for g free
    ranges in the pool.

    >>> from ipv6alloc import PrefixAllocator
    >>> from ipv6alloc.capacity import Thresholds
    >>> s = PrefixAllocator(["10.0.0.0/22"]).statistics().pools[0]
    >>> row = pool_row(s, "cluster", 24, 110, Thresholds())
    >>> row.prefixes_total, row.nodes_fit, row.pods_per_node, row.status
    (4, 4, 110, 'ok')
    """
    pool = stats.pool
    width = WIDTH[pool.version]
    shift = width - pod_prefixlen
    block = 1 << shift
    total = 1 << (pod_prefixlen - pool.prefixlen) if pod_prefixlen >= pool.prefixlen else 0
    free = stats.free_prefixes(pod_prefixlen)  # aligned free blocks, never addresses / size
    used = min(_blocks_held(stats.by_prefixlen, pod_prefixlen), total - free)
    unusable = total - used - free
    utilization = used / total if total else 1.0
    largest = stats.largest_free_prefixlen
    free_addresses = stats.free_addresses
    if largest is None or not free_addresses:
        fragmentation = 0.0
    else:
        fragmentation = (free_addresses - (1 << (width - largest))) / free_addresses
    return PoolCapacity(
        pool,
        pool.version,
        kind,
        pod_prefixlen,
        block,
        min(block, max_pods),
        total,
        used,
        free,
        unusable,
        free,
        utilization,
        largest,
        fragmentation,
        thresholds.status(utilization, free),
        stats.allocated_prefixes,
    )


def _blocks_held(by_prefixlen: Mapping[int, int], pod_prefixlen: int) -> int:
    """The ``/pod_prefixlen`` blocks the allocations cover (a longer one counts one block).

    >>> _blocks_held({24: 3}, 24), _blocks_held({24: 3}, 25), _blocks_held({26: 3}, 25)
    (3, 6, 3)
    """
    return sum(
        count << (pod_prefixlen - length) if length <= pod_prefixlen else count
        for length, count in by_prefixlen.items()
    )


def _most_common_length(stats: PoolStatistics) -> int | None:
    """The most common length of the pool's allocations (the longer on a tie), or None."""
    counts = stats.by_prefixlen
    if not counts:
        return None
    return max(counts, key=lambda length: (counts[length], length))


def node_allocator_plan(alloc: NodeAllocator) -> PoolPlan:
    """What to count in each pool of a node allocator: kind and pod prefix length.

    A cluster pool gives the node mask of its family; a provider subnet the length the policy
    decided for it: read from the decisions of the nodes holding prefixes from it, else from
    the registered nodes' decisions in :meth:`~ipv6alloc.NodeAllocator.snapshot` (taken only
    when some subnet has no holder), else the most common length allocated in it. Pools
    holding a restored prefix that lay outside every pool (role ``"outside"``) are left out:
    the prefix fills its pool, which never takes a node. Runtime complexity: O(n + p) for n
    nodes and p pools.
    """
    masks = alloc.node_mask
    stats = alloc.statistics()
    provider = [s for s in stats.pools if s.role == "provider"]
    lengths: dict[Prefix, int] = {}
    if provider:
        for assignment in alloc.nodes():
            for family in assignment.families:
                decision = family.decision
                if decision is not None and family.source == "provider":
                    lengths.setdefault(decision.pool, decision.prefixlen)
        if any(s.pool not in lengths for s in provider):
            for record in alloc.snapshot()["nodes"]:
                for decision in record["usable"]:
                    lengths.setdefault(Prefix.parse(decision["pool"]), decision["prefixlen"])
    plan: PoolPlan = []
    for s in stats.pools:
        if s.role == "cluster":
            plan.append((s, "cluster", masks[s.pool.version]))
        elif s.role == "provider":
            length = lengths.get(s.pool)
            if length is None:  # no node decided for it: what it holds, else one whole block
                length = _most_common_length(s) or s.pool.prefixlen
            plan.append((s, "provider", length))
    return plan


def prefix_allocator_plan(
    alloc: PrefixAllocator, pod_prefixlen: int | Mapping[int, int] | None
) -> PoolPlan:
    """What to count in each pool of a bare prefix allocator: every pool is a cluster pool.

    Args:
        alloc: The allocator.
        pod_prefixlen: One length for every pool, one per IP version (``{4: 24, 6: 80}``), or
            None: each pool's most common allocation length (the longer on a tie).

    Raises:
        ConfigurationError: a length out of range for its family, or a pool with no
            allocation to read a length from and none given for its family.
        TypeError: ``pod_prefixlen`` is neither an int, a mapping nor None.
    """
    if (
        pod_prefixlen is not None
        and not isinstance(pod_prefixlen, int)
        and not hasattr(pod_prefixlen, "items")
    ):
        raise TypeError(
            "pod_prefixlen must be a prefix length, a mapping of IP versions to lengths or "
            f"None, not {quote(pod_prefixlen, use_repr=True)}"
        )
    plan: PoolPlan = []
    for s in alloc.statistics().pools:
        version = s.pool.version
        given: object
        if pod_prefixlen is None:
            given = None
        elif isinstance(pod_prefixlen, int):
            given = pod_prefixlen
        else:
            given = pod_prefixlen.get(version)
        if given is None:
            given = _most_common_length(s)
            if given is None:
                raise ConfigurationError(
                    f"pool {s.pool} holds no allocation to read a pod prefix length from: "
                    f"pass pod_prefixlen={{{version}: ...}}"
                )
        if type(given) is not int or not 0 <= given <= WIDTH[version]:
            raise ConfigurationError(
                f"pod prefix length {quote(given)} is out of range 0-{WIDTH[version]} "
                f"for IPv{version}"
            )
        plan.append((s, "cluster", given))
    return plan


def totals(rows: Iterable[PoolCapacity]) -> tuple[Totals, ...]:
    """The sums per family and kind, IPv4 before IPv6, cluster before provider.

    Runtime complexity: O(p) for p rows.
    """
    groups: dict[tuple[int, Kind], list[PoolCapacity]] = {}
    for row in rows:
        groups.setdefault((row.family, row.kind), []).append(row)
    out = []
    for (family, kind), members in sorted(groups.items()):
        total = sum(r.prefixes_total for r in members)
        used = sum(r.prefixes_used for r in members)
        status = Counter(r.status for r in members)
        out.append(
            Totals(
                family,
                kind,
                len(members),
                total,
                used,
                sum(r.prefixes_free for r in members),
                sum(r.prefixes_unusable for r in members),
                sum(r.nodes_fit for r in members),
                used / total if total else 1.0,
                status["ok"],
                status["warn"],
                status["critical"],
            )
        )
    return tuple(out)


def exhaustion(rows: Iterable[PoolCapacity], nodes: int) -> tuple[Exhaustion, ...]:
    """Every pool that new nodes reach, the one that runs out first first.

    The rate of new nodes per pool is its share of the ``nodes`` holding prefixes so far: a
    cluster pool's share is the nodes holding a prefix from it (every node, for the IPv4
    pool); a provider subnet's is the nodes that joined it after the first, since its first
    node brought the subnet with it, and new nodes bring their own (a node's own /64 gets no
    new nodes; an on-link /64 shared by five nodes gets four in ``nodes``). At those rates a
    pool with ``f`` free blocks and share ``s`` is full after ``f / s`` more nodes; pools with
    no share never run out and are left out. Ties keep the pools' order. Runtime
    complexity: O(p log p) for p rows.
    """
    if nodes <= 0:
        return ()
    found = []
    for index, row in enumerate(rows):
        arrivals = row.allocations if row.kind == "cluster" else row.allocations - 1
        if arrivals <= 0:
            continue
        arrivals = min(arrivals, nodes)
        runway = Fraction(row.nodes_fit * nodes, arrivals)
        found.append((runway, index, Exhaustion(row, arrivals / nodes, int(runway))))
    found.sort(key=lambda item: (item[0], item[1]))
    return tuple(item[2] for item in found)


def narrow(current: Selection, wanted: tuple[object, object, object]) -> Selection:
    """``current`` (kind, family, status) narrowed by ``wanted`` (None keeps what it was).

    Raises:
        ConfigurationError: an unknown kind, family or status.
    """
    kind, family, status = wanted
    if kind not in (None, "cluster", "provider"):
        raise ConfigurationError(f"kind must be 'cluster' or 'provider', not {quote(kind)}")
    if family not in (None, 4, 6):
        raise ConfigurationError(f"family must be 4 or 6, not {quote(family)}")
    if status not in (None, "ok", "warn", "critical"):
        raise ConfigurationError(f"status must be 'ok', 'warn' or 'critical', not {quote(status)}")
    return (
        current[0] if kind is None else kind,
        current[1] if family is None else family,
        current[2] if status is None else status,
    )


def select(
    rows: Iterable[PoolCapacity], selection: tuple[Kind | None, int | None, Status | None]
) -> list[PoolCapacity]:
    """The rows of the kind, family and status given (None: any). Runtime complexity: O(p)."""
    kind, family, status = selection
    return [
        row
        for row in rows
        if (kind is None or row.kind == kind)
        and (family is None or row.family == family)
        and (status is None or row.status == status)
    ]
