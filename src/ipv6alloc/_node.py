"""Per-node assignment: :class:`NodeAllocator` gives each node its pod prefixes.

IPv6 comes from the node's own provider subnet, chosen and sized by a mask policy (the first
usable subnet in the order given), else from the IPv6 cluster pool; IPv4 comes from the IPv4
cluster pool. A node gets every family or nothing.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from ._allocator import AllocatorStatistics, Placement, PrefixAllocator
from ._bits import WIDTH
from ._errors import (
    ConfigurationError,
    InvalidPrefixError,
    Ipv6AllocError,
    NotInPoolError,
    PolicyError,
    PoolExhaustedError,
    PrefixConflictError,
    UnknownNodeError,
    quote,
)
from ._interface import Decision, Interface
from ._policy import SafePolicy, TalosPolicy
from ._prefix import Prefix

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from ._interface import InterfaceLike, Policy
    from ._prefix import PrefixLike

__all__ = ["Assignment", "FamilyAssignment", "Node", "NodeAllocator", "RestoreResult"]

#: Where a family's pod prefix came from.
Source = Literal["provider", "cluster", "restored"]


@dataclass(frozen=True, slots=True)
class Node:
    """What the node allocator needs to know of a node.

    Attributes:
        name: The node's name (unique in the cluster).
        addresses: The node's own addresses (IPv4 and IPv6), as full-length prefixes.
        subnets: The node's provider subnets in interface form (address/on-link length), most
            preferred first: ``"2a02:a:152:202::100/121"``.

    >>> n = Node.create("worker-1", subnets=["2001:db8:0:1::7/64"], addresses=["192.0.2.7"])
    >>> [str(a) for a in n.addresses]
    ['192.0.2.7/32', '2001:db8:0:1::7/128']
    """

    name: str
    addresses: tuple[Prefix, ...] = ()
    subnets: tuple[Interface, ...] = ()

    @classmethod
    def create(
        cls,
        name: str,
        *,
        subnets: Iterable[InterfaceLike] = (),
        addresses: Iterable[PrefixLike] = (),
    ) -> Node:
        """Build a node from text or ``ipaddress`` values.

        The interface address of every subnet counts as one of the node's addresses.

        Raises:
            InvalidPrefixError: a name that is not text, or a malformed address or subnet.
        """
        given: object = name  # checked at run time: callers pass names from untyped JSON
        if not isinstance(given, str) or not given:
            raise InvalidPrefixError(f"a node name must be non-empty text, not {quote(name)}")
        parsed_subnets = tuple(Interface.parse(s) for s in subnets)
        found = {Prefix.coerce(a) for a in addresses}
        for p in found:
            if p.prefixlen != p.max_prefixlen:
                raise InvalidPrefixError(f"node address {quote(p)} must be a single address")
        found.update(s.address_prefix for s in parsed_subnets)
        return cls(name, tuple(sorted(found)), parsed_subnets)


@dataclass(frozen=True, slots=True)
class FamilyAssignment:
    """How one family's pod prefix was chosen.

    Attributes:
        prefix: The pod prefix.
        source: ``"provider"`` (the node's own subnet), ``"cluster"`` (the cluster pool) or
            ``"restored"`` (adopted from what the node already held).
        pool: The pool it was carved from (None when restored outside every pool).
        reason: One sentence saying why.
        decision: The policy's decision, for provider prefixes.
    """

    prefix: Prefix
    source: Source
    pool: Prefix | None
    reason: str
    decision: Decision | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """A node's pod prefixes, in ``spec.podCIDRs`` order, and how each was chosen.

    Attributes:
        node: The node's name.
        families: One :class:`FamilyAssignment` per family, in podCIDRs order.
        skipped: Provider subnets that were not used, each with the reason.
        warnings: Things worth reporting that did not stop the assignment.
    """

    node: str
    families: tuple[FamilyAssignment, ...]
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def pod_cidrs(self) -> tuple[Prefix, ...]:
        """The pod prefixes in ``spec.podCIDRs`` order."""
        return tuple(f.prefix for f in self.families)

    @property
    def pod_cidr(self) -> Prefix | None:
        """``spec.podCIDR``: the first of :attr:`pod_cidrs` (None when there is none)."""
        return self.families[0].prefix if self.families else None

    def prefix(self, version: int) -> Prefix | None:
        """The pod prefix of one IP version, or None."""
        return next((f.prefix for f in self.families if f.prefix.version == version), None)

    def explain(self) -> str:
        """A few lines saying what the node got and why."""
        lines = [f"node {self.node}:"]
        lines.extend(
            f"  IPv{f.prefix.version} {f.prefix} ({f.source}): {f.reason}" for f in self.families
        )
        lines.extend(f"  skipped {s}" for s in self.skipped)
        lines.extend(f"  warning: {w}" for w in self.warnings)
        return "\n".join(lines)


RestoreStatus = Literal["adopted", "conflict", "outside", "invalid"]


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What :meth:`NodeAllocator.restore` made of a node's existing podCIDRs.

    Attributes:
        node: The node's name.
        items: One ``(text, status, detail)`` per podCIDR, in the order given: status is
            ``"adopted"``, ``"conflict"`` (detail names the holder, or the prefix the node
            holds already for that family), ``"outside"`` (no pool holds it: it is adopted
            in a pool of its own, so that no pool added later hands it out) or
            ``"invalid"`` (not a CIDR).
    """

    node: str
    items: tuple[tuple[str, RestoreStatus, str], ...]

    @property
    def ok(self) -> bool:
        """Whether every podCIDR was adopted (or lies outside every pool)."""
        return all(status in ("adopted", "outside") for _, status, _ in self.items)


@dataclass(slots=True)
class _Held:
    """What the allocator holds for one node (internal, mutable)."""

    assignment: Assignment
    allocated: list[Prefix] = field(default_factory=list)
    reserved: list[Prefix] = field(default_factory=list)
    #: Node addresses that could not be reserved (inside another node's pod prefix); they are
    #: reserved as soon as that prefix is released.
    pending: list[Prefix] = field(default_factory=list)
    pools: list[Prefix] = field(default_factory=list)


class NodeAllocator:
    """Assign pod prefixes to nodes: IPv6 from each node's own subnet, IPv4 from a cluster pool.

    Args:
        cluster_cidrs: The cluster pod CIDRs, at most one per family; their order is the
            ``spec.podCIDRs`` order. The IPv6 one is the fallback for nodes without a usable
            provider subnet.
        node_mask: Node prefix length per family for the cluster CIDRs, e.g. ``{4: 24, 6: 80}``.
        policy: Sizes pod prefixes inside provider subnets; :class:`SafePolicy` by default.
        service_cidrs: Service CIDRs; each is reserved, so that no pod prefix overlaps one.
        reserved: Further prefixes or addresses to keep out of pod prefixes (gateways, ...).
        placement: ``"next-fit"`` (default, like Kubernetes) or ``"lowest"``.
        families: IP versions to assign, in podCIDRs order; by default those of
            ``cluster_cidrs`` (IPv6 is then assigned even without an IPv6 cluster CIDR when
            ``families`` names it).
        fallback: Whether a node without a usable provider subnet gets IPv6 from the cluster
            pool (True) or an error (False).

    Raises:
        ConfigurationError: two cluster CIDRs of one family, overlapping cluster CIDRs, a
            node mask missing or too short for its cluster CIDR, or unknown families.

    Under every policy except :class:`TalosPolicy`, the nodes' own addresses are reserved, so
    no pod prefix contains one. :class:`TalosPolicy` reserves nothing, like the reference tool.

    >>> alloc = NodeAllocator(["10.0.0.0/16", "fd00::/48"], node_mask={4: 24, 6: 64})
    >>> a = alloc.assign(Node.create("n1", subnets=["2001:db8:0:1::7/64"]))
    >>> [str(p) for p in a.pod_cidrs]
    ['10.0.0.0/24', '2001:db8:0:1:1::/80']
    """

    def __init__(
        self,
        cluster_cidrs: Sequence[PrefixLike] = (),
        *,
        node_mask: Mapping[int, int] | None = None,
        policy: Policy | None = None,
        service_cidrs: Iterable[PrefixLike] = (),
        reserved: Iterable[PrefixLike] = (),
        placement: Placement = "next-fit",
        families: Sequence[int] | None = None,
        fallback: bool = True,
    ) -> None:
        self._lock = threading.RLock()
        self._policy: Policy = SafePolicy() if policy is None else policy
        self._reserve_nodes = not isinstance(self._policy, TalosPolicy)
        self._fallback = fallback
        masks = dict(node_mask or {})
        self._cluster: dict[int, Prefix] = {}
        for item in cluster_cidrs:
            p = Prefix.coerce(item)
            if p.version in self._cluster:
                raise ConfigurationError(
                    f"cluster CIDRs {quote(self._cluster[p.version])} and {quote(p)} are both "
                    f"IPv{p.version}: at most one per family"
                )
            self._cluster[p.version] = p
        if families is None:
            families = [p.version for p in (Prefix.coerce(c) for c in cluster_cidrs)]
        self._families = tuple(families)
        if (
            not self._families
            or len(set(self._families)) != len(self._families)
            or any(v not in WIDTH for v in self._families)
        ):
            raise ConfigurationError(
                f"families must name IP versions 4 and/or 6 once each, not {quote(families)}"
            )
        for version, p in self._cluster.items():
            mask: object = masks.get(version)
            if mask is None:
                raise ConfigurationError(
                    f"cluster CIDR {quote(p)} needs a node mask: node_mask={{{version}: ...}}"
                )
            if not isinstance(mask, int) or not p.prefixlen <= mask <= p.max_prefixlen:
                raise ConfigurationError(
                    f"cluster CIDR {quote(p)} cannot hold a /{mask} node prefix: the node mask "
                    f"must lie between {p.prefixlen} and {p.max_prefixlen}"
                )
            if version not in self._families:
                raise ConfigurationError(f"cluster CIDR {quote(p)} is of no family assigned")
        self._masks = masks
        self._cluster_text = {version: str(p) for version, p in self._cluster.items()}
        self._allocator = PrefixAllocator(list(self._cluster.values()), placement=placement)
        for item in [*service_cidrs, *reserved]:
            self._allocator.reserve(item)
        self._extra_reserved = tuple(self._allocator.reserved())
        self._nodes: dict[str, _Held] = {}
        self._pool_users: dict[Prefix, set[str]] = {}
        self._waiting: set[str] = set()  # nodes with addresses waiting to be reserved

    # -- properties -------------------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        """The mask policy for provider subnets."""
        return self._policy

    @property
    def allocator(self) -> PrefixAllocator:
        """The underlying :class:`PrefixAllocator` (for queries; mutate only through nodes)."""
        return self._allocator

    @property
    def families(self) -> tuple[int, ...]:
        """The IP versions assigned, in podCIDRs order."""
        return self._families

    def __len__(self) -> int:
        """Number of nodes holding prefixes."""
        with self._lock:
            return len(self._nodes)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._nodes

    def nodes(self) -> tuple[Assignment, ...]:
        """Every node's assignment, by node name."""
        with self._lock:
            return tuple(self._nodes[name].assignment for name in sorted(self._nodes))

    def get(self, name: str) -> Assignment | None:
        """The node's assignment, or None."""
        with self._lock:
            held = self._nodes.get(name)
            return None if held is None else held.assignment

    def statistics(self) -> AllocatorStatistics:
        """A frozen snapshot of every pool's usage (cluster and provider pools)."""
        return self._allocator.statistics()

    # -- assignment -------------------------------------------------------------------------

    def assign(self, node: Node) -> Assignment:
        """Give a node its pod prefixes; return what it holds if it has them already.

        Every family or nothing: when one family fails, whatever was taken for the others is
        given back before the error is raised. Runtime complexity: O(s log n) for s subnets.

        Raises:
            PoolExhaustedError: a cluster pool (or every usable subnet) is full.
            PolicyError: no provider subnet is usable and there is no IPv6 fallback.
        """
        with self._lock:
            held = self._nodes.get(node.name)
            if held is not None:
                return held.assignment
            held = _Held(Assignment(node.name, ()))
            warnings: list[str] = []
            skipped: list[str] = []
            try:
                if self._reserve_nodes:
                    for address in node.addresses:
                        self._reserve(held, address, warnings)
                families = []
                for version in self._families:
                    if version == 6:
                        families.append(self._assign_ipv6(node, held, skipped))
                    else:
                        families.append(self._from_cluster(node.name, held, version, ""))
            except Ipv6AllocError:
                self._undo(node.name, held)
                raise
            held.assignment = Assignment(
                node.name, tuple(families), tuple(skipped), tuple(warnings)
            )
            self._nodes[node.name] = held
            return held.assignment

    def _reserve(self, held: _Held, address: Prefix, warnings: list[str]) -> None:
        try:
            self._allocator.reserve(address)
        except PrefixConflictError:
            holder = self._allocator.lookup(address)
            owner = "" if holder is None else f" held by {quote(holder.owner)}"
            warnings.append(
                f"address {address.network_address} lies inside pod prefix "
                f"{holder.prefix if holder else '?'}{owner}; it is reserved once that is released"
            )
            held.pending.append(address)
            self._waiting.add(held.assignment.node)
        else:
            held.reserved.append(address)

    def _from_cluster(self, name: str, held: _Held, version: int, why: str) -> FamilyAssignment:
        pool = self._cluster.get(version)
        if pool is None:
            raise PolicyError(f"node {quote(name)} has no usable IPv{version} subnet{why}")
        mask = self._masks[version]
        prefix = self._allocator.allocate(mask, pool=pool, owner=name)
        held.allocated.append(prefix)
        reason = f"/{mask} from the IPv{version} cluster pool {self._cluster_text[version]}{why}"
        return FamilyAssignment(prefix, "cluster", pool, reason)

    def _assign_ipv6(self, node: Node, held: _Held, skipped: list[str]) -> FamilyAssignment:
        for interface in node.subnets:
            try:
                decision = self._policy.choose(
                    interface, reserved=_ipv6_addresses([*node.addresses, *self._extra_reserved])
                )
            except PolicyError as e:
                skipped.append(f"{interface}: {e}")
                continue
            result = self._try_provider(node.name, held, decision)
            if isinstance(result, str):
                skipped.append(f"{interface}: {result}")
                continue
            return result
        if not self._fallback or 6 not in self._cluster:
            detail = "; ".join(skipped) if skipped else "it has no IPv6 subnet"
            raise PolicyError(f"node {quote(node.name)} has no usable IPv6 subnet ({detail})")
        why = " (no usable provider subnet)" if node.subnets else " (no provider subnet)"
        return self._from_cluster(node.name, held, 6, why)

    def _try_provider(self, name: str, held: _Held, decision: Decision) -> FamilyAssignment | str:
        """Allocate from the decision's pool; on failure undo this subnet's changes."""
        pool = decision.pool
        added = False
        reserved: list[Prefix] = []
        if pool not in self._pool_users and pool not in self._cluster.values():
            try:
                self._allocator.add_pool(pool)
            except (PrefixConflictError, ConfigurationError) as e:
                return f"pool {pool} cannot be used: {e}"
            added = True
        try:
            if self._reserve_nodes:
                for address in decision.reserved:
                    if address in held.reserved:
                        continue  # the node's own address, reserved already
                    try:
                        self._allocator.reserve(address)
                    except PrefixConflictError:
                        continue
                    reserved.append(address)
            prefix = self._allocator.allocate(decision.prefixlen, pool=pool, owner=name)
        except PoolExhaustedError as e:
            for address in reserved:
                self._allocator.unreserve(address)
            if added:
                self._allocator.remove_pool(pool)
            return str(e)
        held.allocated.append(prefix)
        held.reserved.extend(reserved)
        held.pools.append(pool)
        self._pool_users.setdefault(pool, set()).add(name)
        return FamilyAssignment(prefix, "provider", pool, decision.reason, decision)

    def _undo(self, name: str, held: _Held) -> None:
        """Give back everything ``held`` took (a failed assign, or a release)."""
        for prefix in held.allocated:
            self._allocator.release(prefix)
        for address in held.reserved:
            self._allocator.unreserve(address)
        for pool in held.pools:
            users = self._pool_users.get(pool)
            if users is None:
                continue
            users.discard(name)
            if not users:
                del self._pool_users[pool]
                try:
                    self._allocator.remove_pool(pool)
                except PrefixConflictError:
                    # Still holds allocations adopted by restore() for other nodes: keep it.
                    self._pool_users[pool] = set()
        held.allocated.clear()
        held.reserved.clear()
        self._waiting.discard(name)
        held.pending.clear()
        held.pools.clear()

    def release(self, name: str) -> Assignment:
        """Give back everything a node holds; call it only when the Node object is gone.

        Runtime complexity: O(log n) per prefix and reservation.

        Raises:
            UnknownNodeError: the allocator holds nothing for this node.
        """
        with self._lock:
            held = self._nodes.pop(name, None)
            if held is None:
                raise UnknownNodeError(f"node {quote(name)} holds no pod prefixes here")
            released = list(held.allocated)
            self._undo(name, held)
            self._retry_pending(released)
            return held.assignment

    def explain(self, name: str) -> str:
        """A few lines saying what the node holds and why.

        Raises:
            UnknownNodeError: the allocator holds nothing for this node.
        """
        with self._lock:
            held = self._nodes.get(name)
            if held is None:
                raise UnknownNodeError(f"node {quote(name)} holds no pod prefixes here")
            return held.assignment.explain()

    # -- restart ----------------------------------------------------------------------------

    def restore(self, node: Node | str, pod_cidrs: Iterable[str | Prefix]) -> RestoreResult:
        """Adopt the podCIDRs a node already holds (after a restart); never raises for them.

        Pass the :class:`Node` when its provider subnets are known, so that their pools exist
        before its prefixes are adopted. A value with host bits set (stored by an older API
        server) is adopted as its network, and the text is kept as it is. Runtime complexity:
        O(k log n) for k podCIDRs.

        Returns:
            One status per podCIDR: adopted, conflict (with whom), outside every pool, invalid.
        """
        name = node if isinstance(node, str) else node.name
        with self._lock:
            held = self._nodes.get(name)
            if held is None:
                held = _Held(Assignment(name, ()))
            items: list[tuple[str, RestoreStatus, str]] = []
            families = list(held.assignment.families)
            holds = {f.prefix.version: f.prefix for f in families}
            for value in pod_cidrs:
                text = str(value)
                prefix = _lax_prefix(value)
                if prefix is None:
                    items.append((text, "invalid", "not a valid CIDR"))
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
                if isinstance(node, Node):
                    self._restore_pool(node, held, prefix)
                status, detail, pool = self._adopt(name, held, prefix)
                items.append((text, status, detail))
                if status in ("adopted", "outside"):
                    held.allocated.append(prefix)
                    holds[prefix.version] = prefix
                    families.append(FamilyAssignment(prefix, "restored", pool, detail))
            # Reserve the node's addresses only now: what the node holds is a fact, even when
            # it contains one of them (as the reference tool hands out); that is a warning.
            warnings = list(held.assignment.warnings)
            if isinstance(node, Node) and self._reserve_nodes:
                for address in node.addresses:
                    if address not in held.reserved:
                        self._reserve(held, address, warnings)
            held.assignment = Assignment(
                name, tuple(families), held.assignment.skipped, tuple(warnings)
            )
            if held.assignment.families or held.reserved or held.pools:
                self._nodes[name] = held
            return RestoreResult(name, tuple(items))

    def _yield_reservations(self, name: str, prefix: Prefix) -> bool:
        """Drop the node-address reservations inside ``prefix``; whether there were any."""
        found = False
        for held in self._nodes.values():
            inside = [a for a in held.reserved if a.subnet_of(prefix)]
            for address in inside:
                held.reserved.remove(address)
                held.pending.append(address)
                self._waiting.add(held.assignment.node)
                self._allocator.unreserve(address)
                found = True
            for address in sorted(set(inside)):
                held.assignment = _with_warning(
                    held.assignment,
                    f"reserved address {address.network_address} lies inside pod prefix "
                    f"{prefix} held by {quote(name)}; it is reserved again once that is released",
                )
        return found

    def _retry_pending(self, released: list[Prefix]) -> None:
        """Reserve the pending node addresses that lay inside the released prefixes."""
        for name in list(self._waiting):
            held = self._nodes.get(name)
            if held is None:
                self._waiting.discard(name)
                continue
            for address in list(held.pending):
                if any(address.subnet_of(p) for p in released):
                    try:
                        self._allocator.reserve(address)
                    except PrefixConflictError:
                        continue
                    held.pending.remove(address)
                    held.reserved.append(address)
            if not held.pending:
                self._waiting.discard(name)

    def _restore_pool(self, node: Node, held: _Held, prefix: Prefix) -> None:
        """Make sure the pool of the node's subnet that holds ``prefix`` exists."""
        for interface in node.subnets:
            try:
                decision = self._policy.choose(interface, reserved=_ipv6_addresses(node.addresses))
            except PolicyError:
                continue
            pool = decision.pool
            if not prefix.subnet_of(pool):
                continue
            if pool in self._cluster.values() or pool in held.pools:
                return
            if pool not in self._pool_users:
                try:
                    self._allocator.add_pool(pool)
                except (PrefixConflictError, ConfigurationError):
                    continue
            self._pool_users.setdefault(pool, set()).add(node.name)
            held.pools.append(pool)
            return

    def _adopt(
        self, name: str, held: _Held, prefix: Prefix
    ) -> tuple[RestoreStatus, str, Prefix | None]:
        try:
            try:
                self._allocator.occupy(prefix, owner=name)
            except PrefixConflictError:
                # What a node holds outranks the addresses reserved for nodes: those inside
                # give way (their nodes are warned), then the prefix is adopted.
                if not self._yield_reservations(name, prefix):
                    raise
                self._allocator.occupy(prefix, owner=name)
        except PrefixConflictError as e:
            return "conflict", str(e), None
        except NotInPoolError:
            return self._hold_outside(name, held, prefix)
        pool = self._allocator.pool_of(prefix)
        return "adopted", f"adopted {prefix} from the node's existing podCIDRs", pool

    def _hold_outside(
        self, name: str, held: _Held, prefix: Prefix
    ) -> tuple[RestoreStatus, str, Prefix | None]:
        """Track a prefix that lies outside every pool in a pool of its own.

        So no pool added later (another node's subnet) hands it out again.
        """
        try:
            self._allocator.add_pool(prefix)
        except (PrefixConflictError, ConfigurationError) as e:
            return "conflict", str(e), None
        try:
            self._allocator.occupy(prefix, owner=name)
        except PrefixConflictError as e:
            self._allocator.remove_pool(prefix)
            return "conflict", str(e), None
        held.pools.append(prefix)
        self._pool_users[prefix] = {name}
        detail = f"{prefix} lies outside every pool: adopted and held in a pool of its own"
        return "outside", detail, prefix


def _with_warning(assignment: Assignment, warning: str) -> Assignment:
    return Assignment(
        assignment.node,
        assignment.families,
        assignment.skipped,
        (*assignment.warnings, warning),
    )


def _ipv6_addresses(prefixes: Iterable[Prefix]) -> list[Prefix]:
    """The IPv6 single addresses among ``prefixes`` (what a policy's ``reserved`` takes)."""
    return [p for p in prefixes if p.version == 6 and p.prefixlen == 128]


def _lax_prefix(value: str | Prefix) -> Prefix | None:
    """Parse a stored podCIDR, accepting host bits (as older API servers stored them)."""
    if isinstance(value, Prefix):
        return value
    try:
        return Prefix.parse(value)
    except InvalidPrefixError:
        pass
    try:
        return Prefix.from_network(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return None
