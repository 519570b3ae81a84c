"""The node layer's invariant check: every record accounts exactly for what the allocator holds.

Tests call it after every change; :meth:`~ipv6alloc.NodeAllocator.from_snapshot` runs it on what
it loaded, so that a snapshot contradicting itself is refused.
"""

from __future__ import annotations

from collections import Counter

from ._index import require
from ._invariants import check_allocator
from ._node_state import HELD_FIELDS, pack

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._node_allocator import NodeAllocator
    from ._node_state import Record
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
        reserved = alloc._reserved_by(rec)
        if not rec.registered:
            require(
                not reserved and rec.pending is None,
                f"node {name!r}: unregistered, no reservations",
            )
            require(
                not rec.usable and not rec.skipped, f"node {name!r}: unregistered, no decisions"
            )
        pools = alloc._pools_of(rec)
        for decision in rec.usable:
            require(
                decision.pool in cluster or decision.pool in pools,
                f"node {name!r} uses the pool of each usable subnet",
            )
        if not rec.held:
            require(not rec.held_skipped, f"node {name!r}: no skipped subnets without prefixes")
        versions = [p.version for p in rec.allocated]
        require(len(set(versions)) == len(versions), f"node {name!r}: one prefix per family")
        _check_entries(alloc, name, rec)
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
                require(pool in pools, f"node {name!r} uses the pool of {prefix}")
        require(len(rec.other_reserved) % 2 == 0, f"node {name!r}: reservations in pairs")
        require(len(set(reserved)) == len(reserved), f"node {name!r} reserves once")
        require(
            not set(rec.others_reserved) & set(rec.candidates()),
            f"node {name!r}: other reservations are not its candidates",
        )
        expected_reservations.update(reserved)
        require(rec.pending is None or bool(rec.pending), f"node {name!r}: no empty pending")
        for address, holder in rec.waiting():
            require(address not in reserved, f"{address} is reserved or pending, not both")
            require(
                holder in allocations and address.subnet_of(holder),
                f"pending address {address} of {name!r} lies in a live allocation",
            )
            blocked.setdefault(holder, []).append((name, address))
        require(len(set(rec.other_pools)) == len(rec.other_pools), f"node {name!r}: pools once")
        for pool in pools:
            require(pool not in cluster, f"node {name!r}: cluster pools are not counted")
            users[pool] = users.get(pool, 0) + 1
    require(set(allocations) == set(held), "every allocation belongs to a node")
    require(
        Counter(allocator.reserved()) == expected_reservations,
        "every reservation is configured or a node's",
    )
    _check_pool_users(alloc, users)
    require(
        {p: sorted(v) for p, v in alloc._blocked.items()}
        == {p: sorted(v) for p, v in blocked.items()},
        "waiting addresses are indexed by the allocation they wait for",
    )
    _check_reservers(alloc)


def _check_entries(alloc: NodeAllocator, name: str, rec: Record) -> None:
    """The pod prefixes a record holds: whole entries, sources, reasons and decisions."""
    require(len(rec.held) % HELD_FIELDS == 0, f"node {name!r}: whole entries held")
    for prefix, source, pool_key, reason in rec.entries():
        require(source in ("provider", "cluster", "restored"), f"node {name!r}: known sources")
        require(
            (source == "provider") == (reason is None),
            f"node {name!r}: only a provider prefix takes its decision's reason",
        )
        require(
            reason is not None or pool_key is None,
            f"node {name!r}: a provider prefix's pool is its decision's",
        )
        if source == "provider":
            decision = rec.decision_holding(prefix)
            require(decision is not None, f"node {name!r}: a provider prefix has a usable subnet")
            require(
                decision is None or alloc._allocator.pool_of(prefix) == decision.pool,
                f"node {name!r}: a provider prefix lies in its decision's pool, no deeper",
            )


def _check_pool_users(alloc: NodeAllocator, users: dict[Prefix, int]) -> None:
    """Each pool the node layer added counts the nodes that say they use it."""
    node_pools = alloc._node_pools()
    require(set(users) == set(node_pools), "the node layer's pools are those nodes use")
    require(alloc._outside <= {pack(p) for p in node_pools}, "outside pools are the node layer's")
    shared = dict(alloc._shared_pools.items())
    require(all(count > 0 for count in shared.values()), "shared pools have other users")
    require(
        shared == {pool: count - 1 for pool, count in users.items() if count > 1},
        "the pools several nodes use count the users besides the first",
    )


def _check_reservers(alloc: NodeAllocator) -> None:
    """The index of node reservations by the nodes that made them matches the records."""
    reservers: dict[Prefix, list[str]] = {}
    for name, rec in alloc._nodes.items():
        for address in alloc._reserved_by(rec):
            reservers.setdefault(address, []).append(name)
    require(
        {a: sorted(alloc._reservers_of(a)) for a, _ in alloc._reservers.items()}
        == {a: sorted(names) for a, names in reservers.items()},
        "each node reservation is indexed by the nodes that made it",
    )
    require(len(alloc._reservers) == len(reservers), "no address is indexed twice")
    require(
        all(isinstance(v, str) or len(v) > 1 for _, v in alloc._reservers.items()),
        "a single reserver is kept as its name",
    )
