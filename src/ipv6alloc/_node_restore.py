"""Adopting what nodes already hold: the body of :meth:`~ipv6alloc.NodeAllocator.restore`.

After a restart the allocator adopts each node's podCIDRs as facts. What a node holds outranks
what the allocator only planned: node addresses reserved inside an adopted prefix, and the pools
of other nodes' subnets nested in it while nothing is allocated there, give way (their nodes are
warned; the addresses are reserved again once the prefix is released). An allocation, a
configured reservation or a cluster pool in the way is a conflict. A prefix outside every pool is
held in a pool of its own, so that no pool added later hands it out again.

Internal: these functions run under the node allocator's lock and work on its private state.
"""

from __future__ import annotations

import ipaddress
import re

from ._errors import InvalidPrefixError, NotInPoolError, PrefixConflictError, quote
from ._node import FamilyAssignment, Node, RestoreResult
from ._node_state import Record
from ._prefix import Prefix

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._node import RestoreStatus
    from ._node_allocator import NodeAllocator

__all__ = ["restore"]


def restore(alloc: NodeAllocator, node: Node | str, values: list[object]) -> RestoreResult:
    """:meth:`NodeAllocator.restore`, once ``pod_cidrs`` is a list; the caller checked ``node``."""
    if isinstance(node, Node):
        rec = alloc._incarnation(node)
        name = node.name
    else:
        name = node
        rec = alloc._nodes.get(name)
    created = rec is None
    uid = None if rec is None else rec.uid
    learned = isinstance(node, Node) and (rec is None or not rec.registered)
    if isinstance(node, Node) and learned:
        rec, _ = alloc._learn_new(rec, node)
    elif rec is None:
        rec = alloc._nodes[name] = Record(name, None, alloc._policy)
    before = len(rec.allocated)
    try:
        result = _adopt_all(alloc, rec, values)
    except BaseException:
        _forget_adopted(alloc, rec, before)
        raise
    finally:
        if len(rec.allocated) == before:  # nothing adopted: change nothing
            if learned or created:
                alloc._unlearn(rec)
                rec.uid = uid
            if created:
                del alloc._nodes[name]
    return result


def _adopt_all(alloc: NodeAllocator, rec: Record, values: list[object]) -> RestoreResult:
    name = rec.name
    items: list[tuple[str, RestoreStatus, str]] = []
    holds = {p.version: p for p in rec.allocated}
    for value in values:
        text = value if isinstance(value, str) else str(value)
        prefix = _pod_cidr(value)
        if prefix is None:
            why = "not a valid CIDR"
            items.append((text, "invalid", why))
            continue
        have = holds.get(prefix.version)
        if have == prefix:
            items.append((text, "adopted", f"node {quote(name)} holds {prefix} already"))
            continue
        if have is not None:
            detail = (
                f"node {quote(name)} holds {have} already: at most one podCIDR "
                f"per family (IPv{prefix.version})"
            )
            items.append((text, "conflict", detail))
            continue
        status, detail, pool = _adopt(alloc, rec, prefix)
        items.append((text, status, detail))
        if status in ("adopted", "outside"):
            rec.hold([FamilyAssignment(prefix, "restored", pool, detail)])
            holds[prefix.version] = prefix
    return RestoreResult(name, tuple(items))


def _forget_adopted(alloc: NodeAllocator, rec: Record, keep: int) -> None:
    """Undo the adoptions past the first ``keep`` (an exception in the middle)."""
    # Only the allocations go back: a reservation that gave way stays pending, which is
    # safe (it is reserved once the prefix it waited for is released, now).
    dropped = rec.allocated[keep:]
    rec.keep(keep)
    if not rec.held:
        rec.held_skipped = ()
    for prefix in dropped:
        alloc._allocator.release(prefix)
    # The pools those prefixes brought in go too, unless the node still needs them.
    needed = {alloc._allocator.pool_of(p) for p in rec.allocated} | {d.pool for d in rec.usable}
    for pool in [p for p in alloc._pools_of(rec) if p not in needed]:
        rec.leave(pool)
        alloc._leave_pool(pool)
    alloc._retry_blocked(dropped)


def _adopt(
    alloc: NodeAllocator, rec: Record, prefix: Prefix
) -> tuple[RestoreStatus, str, Prefix | None]:
    try:
        _occupy_over_nodes(alloc, rec.name, prefix)
    except PrefixConflictError as e:
        return "conflict", str(e), None
    except NotInPoolError:
        return _hold_outside(alloc, rec, prefix)
    pool = alloc._allocator.pool_of(prefix)
    if pool is not None:
        alloc._use_pool(rec, pool, "provider")
    return "adopted", f"adopted {prefix} from the node's existing podCIDRs", pool


def _occupy_over_nodes(alloc: NodeAllocator, name: str, prefix: Prefix) -> None:
    """Occupy ``prefix`` for ``name``; what registration put in its way gives way.

    What a node holds is a fact and outranks what the allocator only planned: the node
    addresses reserved inside the prefix, and the pools of other nodes' subnets nested in
    it (while nothing is allocated there). Those give way, their nodes are warned, and the
    prefix is adopted. An allocation, a configured reservation or a cluster pool in the way
    is a conflict, and then nothing changes.

    Raises:
        PrefixConflictError: something that does not give way is in the way.
        NotInPoolError: no pool holds the prefix.
    """
    try:
        alloc._allocator.occupy(prefix, owner=name)
    except PrefixConflictError:
        if not _may_give_way(alloc, prefix):
            raise
    else:
        return
    _give_way(alloc, prefix, name)
    alloc._allocator.occupy(prefix, owner=name)


def _may_give_way(alloc: NodeAllocator, prefix: Prefix) -> bool:
    """Whether only node reservations and unused node pools stand in ``prefix``'s way."""
    return not (
        alloc._allocator.overlapping(prefix)
        or any(r.overlaps(prefix) for r in alloc._extra_reserved)
        or any(c.subnet_of(prefix) and c != prefix for c in alloc._cluster_pools)
    )


def _give_way(alloc: NodeAllocator, prefix: Prefix, holder: str) -> None:
    """Unreserve the node addresses in ``prefix`` and remove the node pools nested in it.

    The addresses wait for the prefix's release; the pools' nodes lose those subnets.
    Runtime complexity: O(log n) plus the reservations inside (a node restored after running
    under the reference tool holds its own address, so a migrated cluster's restart does this
    for every node); plus O(nodes) for each node pool nested in the prefix, which is rare.
    """
    for address in alloc._allocator.reserved_within(prefix):
        for name in alloc._reservers_of(address):
            rec = alloc._nodes[name]
            alloc._give_up(rec, address)
            alloc._wait(rec, address, prefix)
            alloc._warn(
                rec,
                f"reserved address {address.network_address} lies inside pod prefix {prefix} "
                f"held by {quote(holder)}; it is reserved again once that is released",
            )
    for pool in [p for p in alloc._allocator.pools_within(prefix) if p not in alloc._cluster_pools]:
        alloc._forget_pool(pool)
        alloc._allocator.remove_pool(pool)
        for rec in [r for r in alloc._nodes.values() if r.uses_pool_of(pool)]:
            rec.leave(pool)
            lost = [d for d in rec.usable if d.pool == pool]
            rec.usable = tuple(d for d in rec.usable if d.pool != pool)
            why = f"pool {pool} lies inside pod prefix {prefix} held by {quote(holder)}"
            rec.skipped += tuple(f"{d.interface}: {why}" for d in lost)
            alloc._warn(rec, f"{why}: the node cannot use that subnet")


def _hold_outside(
    alloc: NodeAllocator, rec: Record, prefix: Prefix
) -> tuple[RestoreStatus, str, Prefix | None]:
    """Track a prefix that lies outside every pool in a pool of its own.

    So no pool added later (another node's subnet) hands it out again.
    """
    problem = alloc._use_pool(rec, prefix, "outside")
    if problem is not None:
        return "conflict", problem, None
    try:
        _occupy_over_nodes(alloc, rec.name, prefix)
    except PrefixConflictError as e:
        rec.leave(prefix)
        alloc._leave_pool(prefix)
        return "conflict", str(e), None
    detail = f"{prefix} lies outside every pool: adopted and held in a pool of its own"
    return "outside", detail, prefix


#: What the API server's CIDR parser (Go's ``net.ParseCIDR``) reads: an address, a slash and a
#: decimal length; no netmask, no zone, no white space.
_CIDR_TEXT = re.compile(r"[0-9A-Fa-f:.]+/[0-9]{1,3}")


def _pod_cidr(value: object) -> Prefix | None:
    """Read one stored podCIDR as the API server could have held it, or None.

    Text with host bits set is read as its network (older API servers stored such values).
    """
    if isinstance(value, Prefix):
        return value
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return Prefix.from_network(value)
    if not isinstance(value, str) or not _CIDR_TEXT.fullmatch(value):
        return None
    try:
        return Prefix.parse(value)
    except InvalidPrefixError:
        pass
    try:
        return Prefix.from_network(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return None
