"""The node layer's invariant check: every record accounts exactly for what the allocator holds.

Tests call it after every change; :meth:`~ipv6alloc.NodeAllocator.from_snapshot` runs it on what
it loaded, so that a snapshot contradicting itself is refused.
"""

from __future__ import annotations

from collections import Counter

from ._index import require
from ._invariants import check_allocator
from ._node_state import unpack

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._node_allocator import NodeAllocator
    from ._prefix import Prefix

__all__ = ["check_node_allocator"]


def check_node_allocator(alloc: NodeAllocator, *, deep: bool = True) -> None:
    """Check every invariant of a node allocator (and, when ``deep``, of the one beneath it).

    Each node's record must account exactly for what the allocator holds: every allocation
    belongs to one node's record, every reservation is a configured one or one node's, every
    added pool is used by the nodes that say so, and every waiting address waits for a live
    allocation that holds it. Runtime complexity: O(n log n) for the node layer's part; the
    allocator's own check (``deep``) works out each allocation's pool by brute force, which
    tests afford and a snapshot being loaded need not (the allocator rebuilt it, checking as it
    went).
    """
    allocator = alloc._allocator
    if deep:
        check_allocator(allocator)
    cluster = set(alloc._cluster.values())
    require(cluster == set(alloc._cluster_pools), "cluster pools recorded once")
    allocations = {a.prefix: a.owner for a in allocator.allocations()}
    held: dict[Prefix, str] = {}
    expected_reservations = Counter(alloc._extra_reserved)
    users: dict[Prefix, int] = {}
    blocked: dict[Prefix, list[tuple[str, Prefix]]] = {}
    for name, rec in alloc._nodes.items():
        require(rec.name == name, f"record of {name!r} is filed under its name")
        require(
            rec.registered or bool(rec.held),
            f"node {name!r} is known: registered or holding prefixes",
        )
        require(rec.registered == (rec.node is not None), f"node {name!r}: registered has a node")
        if not rec.registered:
            require(
                not rec.reserved and rec.pending is None,
                f"node {name!r}: unregistered, no reservations",
            )
            require(
                not rec.usable and not rec.skipped, f"node {name!r}: unregistered, no decisions"
            )
        for decision in rec.usable:
            require(
                decision.pool in cluster or decision.pool in rec.pools,
                f"node {name!r} uses the pool of each usable subnet",
            )
        if not rec.held:
            require(not rec.held_skipped, f"node {name!r}: no skipped subnets without prefixes")
        versions = [p.version for p in rec.allocated]
        require(len(set(versions)) == len(versions), f"node {name!r}: one prefix per family")
        for _, source, pool_key, reason in rec.held:
            require(source in ("provider", "cluster", "restored"), f"node {name!r}: known sources")
            require(
                (source == "provider") == (reason is None),
                f"node {name!r}: only a provider prefix takes its decision's reason",
            )
            require(
                source != "provider" or rec.decision_for(pool_key) is not None,
                f"node {name!r}: a provider prefix comes from a usable subnet",
            )
        for family in rec.families():
            require(
                family.pool is None or family.prefix.subnet_of(family.pool),
                f"node {name!r}: {family.prefix} lies in its pool",
            )
        for prefix in rec.allocated:
            require(prefix not in held, f"{prefix} is held by one node")
            held[prefix] = name
            require(allocations.get(prefix, ...) == name, f"{prefix} is allocated to {name!r}")
            pool = allocator.pool_of(prefix)
            require(pool is not None, f"{prefix} lies in a pool")
            if pool not in cluster:
                require(pool in rec.pools, f"node {name!r} uses the pool of {prefix}")
        require(
            len(set(rec.reserved_keys)) == len(rec.reserved_keys), f"node {name!r} reserves once"
        )
        expected_reservations.update(rec.reserved)
        require(rec.pending is None or bool(rec.pending), f"node {name!r}: no empty pending")
        for address, holder in rec.waiting():
            require(address not in rec.reserved, f"{address} is reserved or pending, not both")
            require(
                holder in allocations and address.subnet_of(holder),
                f"pending address {address} of {name!r} lies in a live allocation",
            )
            blocked.setdefault(holder, []).append((name, address))
        require(len(set(rec.pools)) == len(rec.pools), f"node {name!r} counts each pool once")
        for pool in rec.pools:
            require(pool not in cluster, f"node {name!r}: cluster pools are not counted")
            users[pool] = users.get(pool, 0) + 1
    require(set(allocations) == set(held), "every allocation belongs to a node")
    require(
        Counter(allocator.reserved()) == expected_reservations,
        "every reservation is configured or a node's",
    )
    require(
        set(allocator.pools) == cluster | {unpack(key) for key in alloc._pool_users},
        "the pools are the cluster's and nodes'",
    )
    _check_pool_users(alloc, users)
    require(
        {p: sorted(v) for p, v in alloc._blocked.items()}
        == {p: sorted(v) for p, v in blocked.items()},
        "waiting addresses are indexed by the allocation they wait for",
    )
    _check_reservers(alloc)


def _check_pool_users(alloc: NodeAllocator, users: dict[Prefix, int]) -> None:
    """Each pool the node layer added counts the nodes that say they use it."""
    require(alloc._outside <= set(alloc._pool_users), "outside pools are the node layer's")
    for key, count in alloc._pool_users.items():
        pool = unpack(key)
        require(count == users.get(pool, 0), f"pool {pool}: its users say they use it")
        require(count > 0, f"pool {pool} is used by some node")


def _check_reservers(alloc: NodeAllocator) -> None:
    """The index of node reservations by the nodes that made them matches the records."""
    reservers: dict[int, list[str]] = {}
    for name, rec in alloc._nodes.items():
        for key in rec.reserved_keys:
            reservers.setdefault(key, []).append(name)
    require(
        {a: sorted(alloc._reservers_of(a)) for a in alloc._reservers}
        == {a: sorted(names) for a, names in reservers.items()},
        "each node reservation is indexed by the nodes that made it",
    )
    require(
        all(isinstance(v, str) or len(v) > 1 for v in alloc._reservers.values()),
        "a single reserver is kept as its name",
    )
