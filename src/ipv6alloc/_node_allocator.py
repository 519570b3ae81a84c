"""Per-node assignment: :class:`NodeAllocator` gives each node its pod prefixes.

IPv6 comes from the node's own provider subnet, chosen and sized by a mask policy (the first
usable subnet in the order given), else from the IPv6 cluster pool; IPv4 comes from the IPv4
cluster pool. A node gets every family or nothing.

What the allocator keeps per node is described in :mod:`ipv6alloc._node_state`; adopting the
podCIDRs nodes already hold lives in :mod:`ipv6alloc._node_restore`, snapshots in
:mod:`ipv6alloc._node_snapshot`.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import _node_restore
from ._allocator import Placement, PrefixAllocator
from ._bits import WIDTH
from ._errors import (
    ConfigurationError,
    PolicyError,
    PoolExhaustedError,
    PrefixConflictError,
    UnknownNodeError,
    quote,
)
from ._interface import Decision
from ._node import Assignment, FamilyAssignment, Node, RestoreResult
from ._node_state import PrefixMap, Record, pack, unpack
from ._policy import SafePolicy
from ._prefix import Prefix, prefix_items

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from ._interface import Policy
    from ._prefix import PrefixLike
    from ._stats import AllocatorStatistics

__all__ = ["NodeAllocator"]

_new = object.__new__


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
        InvalidPrefixError: a CIDR or reservation that is not a valid prefix.

    The node's own addresses are kept out of every pod prefix unless the policy's decision for
    the node's first usable subnet says otherwise (``Decision.reserve_node_addresses``):
    :class:`TalosPolicy` reserves nothing, like the reference tool.

    >>> alloc = NodeAllocator(["10.0.0.0/16", "fd00::/48"], node_mask={4: 24, 6: 64})
    >>> a = alloc.assign(Node.create("n1", subnets=["2001:db8:0:1::7/64"]))
    >>> [str(p) for p in a.pod_cidrs]
    ['10.0.0.0/24', '2001:db8:0:1:1::/80']
    >>> alloc
    NodeAllocator(2 cluster pools, 1 node, policy=SafePolicy())
    """

    def __init__(
        self,
        cluster_cidrs: Sequence[PrefixLike] | PrefixLike = (),
        *,
        node_mask: Mapping[int, int] | None = None,
        policy: Policy | None = None,
        service_cidrs: Iterable[PrefixLike] | PrefixLike = (),
        reserved: Iterable[PrefixLike] | PrefixLike = (),
        placement: Placement = "next-fit",
        families: Sequence[int] | None = None,
        fallback: bool = True,
    ) -> None:
        self._lock = threading.RLock()
        self._policy: Policy = SafePolicy() if policy is None else policy
        if not callable(getattr(self._policy, "choose", None)):
            raise TypeError(
                f"policy must have a choose() method, not {quote(policy, use_repr=True)}"
            )
        if type(fallback) is not bool:
            raise TypeError(f"fallback must be True or False, not {quote(fallback, use_repr=True)}")
        self._fallback = fallback
        if node_mask is not None and not hasattr(node_mask, "items"):
            raise TypeError(
                "node_mask must map IP versions to prefix lengths, "
                f"not {quote(node_mask, use_repr=True)}"
            )
        masks = dict(node_mask or {})
        cidrs = [Prefix.coerce(item) for item in prefix_items(cluster_cidrs, "cluster_cidrs")]
        self._cluster: dict[int, Prefix] = {}
        for p in cidrs:
            if p.version in self._cluster:
                raise ConfigurationError(
                    f"cluster CIDRs {quote(self._cluster[p.version])} and {quote(p)} are both "
                    f"IPv{p.version}: at most one per family"
                )
            self._cluster[p.version] = p
        if families is None:
            families = [p.version for p in cidrs]
        if isinstance(families, str | bytes) or not hasattr(families, "__iter__"):
            raise TypeError(
                f"families must be a list of IP versions, not {quote(families, use_repr=True)}"
            )
        self._families = tuple(families)
        if (
            not self._families
            or len(set(self._families)) != len(self._families)
            or any(type(v) is not int or v not in WIDTH for v in self._families)
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
            if type(mask) is not int or not p.prefixlen <= mask <= p.max_prefixlen:
                raise ConfigurationError(
                    f"cluster CIDR {quote(p)} cannot hold a /{quote(mask)[1:-1]} node prefix: "
                    f"the node mask must lie between {p.prefixlen} and {p.max_prefixlen}"
                )
            if version not in self._families:
                raise ConfigurationError(f"cluster CIDR {quote(p)} is of no family assigned")
        self._masks = {version: masks[version] for version in self._cluster}
        self._cluster_pools = frozenset(self._cluster.values())
        self._allocator = PrefixAllocator(list(self._cluster.values()), placement=placement)
        for item in [
            *prefix_items(service_cidrs, "service_cidrs"),
            *prefix_items(reserved, "reserved"),
        ]:
            self._allocator.reserve(item)  # checked by Prefix.coerce
        self._extra_reserved = tuple(self._allocator.reserved())
        # What every node's policy decision is told to keep out besides its own addresses.
        self._extra_hint = [p for p in self._extra_reserved if _is_ipv6_address(p)]
        self._nodes: dict[str, Record] = {}
        # The pools of the allocator besides the cluster's are the node layer's, each used by
        # at least one node: those that more use -> how many besides the first (an entry per
        # pool was 32 of a node's bytes in benchmark S9); the keys (_node_state.pack) of those
        # that hold a restored prefix outside every other pool are in _outside.
        self._shared_pools: PrefixMap[int] = PrefixMap()
        self._outside: set[int] = set()
        # Each cluster pool's key, made once: every node holding a prefix from it keeps it.
        self._cluster_keys = {v: pack(pool) for v, pool in self._cluster.items()}
        # Allocation -> the (node, address) pairs whose reservation waits for its release.
        self._blocked: dict[Prefix, list[tuple[str, Prefix]]] = {}
        # A node's reservation -> the node (or nodes) that made it: what gives way to a
        # restored prefix is found in O(log n + k), not by a scan of every node.
        self._reservers: PrefixMap[str | tuple[str, ...]] = PrefixMap()
        self._cluster_reasons: dict[tuple[int, str], str] = {}

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

    @property
    def cluster_cidrs(self) -> tuple[Prefix, ...]:
        """The cluster CIDRs, in podCIDRs order."""
        return tuple(self._cluster[v] for v in self._families if v in self._cluster)

    @property
    def node_mask(self) -> dict[int, int]:
        """The node prefix length of each cluster CIDR's family (a new dict each time)."""
        return dict(self._masks)

    @property
    def fallback(self) -> bool:
        """Whether nodes without a usable provider subnet get IPv6 from the cluster pool."""
        return self._fallback

    def __len__(self) -> int:
        """Number of nodes holding prefixes."""
        with self._lock:
            return sum(1 for rec in self._nodes.values() if rec.held)

    def __contains__(self, name: object) -> bool:
        """Whether the node holds pod prefixes here."""
        with self._lock:
            rec = self._nodes.get(name) if isinstance(name, str) else None
            return rec is not None and bool(rec.held)

    def __repr__(self) -> str:
        with self._lock:
            n = len(self)
            pools = len(self._cluster)
            return (
                f"NodeAllocator({pools} cluster pool{'s' if pools != 1 else ''}, "
                f"{n} node{'s' if n != 1 else ''}, policy={self._policy!r})"
            )

    def nodes(self) -> tuple[Assignment, ...]:
        """Every node's assignment, by node name."""
        with self._lock:
            return tuple(
                assignment
                for name, rec in sorted(self._nodes.items())
                if (assignment := rec.assignment) is not None
            )

    def holding(self) -> tuple[str, ...]:
        """The names of the nodes holding pod prefixes, sorted (cheaper than :meth:`nodes`)."""
        with self._lock:
            return tuple(sorted(name for name, rec in self._nodes.items() if rec.held))

    def registered(self) -> tuple[str, ...]:
        """The names of the nodes :meth:`register` learned (holding prefixes or not), sorted."""
        with self._lock:
            return tuple(sorted(name for name, rec in self._nodes.items() if rec.registered))

    def get(self, name: str) -> Assignment | None:
        """The node's assignment, or None."""
        with self._lock:
            rec = self._nodes.get(_name(name))
            return None if rec is None else rec.assignment

    def statistics(self) -> AllocatorStatistics:
        """A frozen snapshot of every pool's usage, each pool with its role.

        A pool's ``role`` is ``"cluster"``, ``"provider"`` (a node's subnet) or ``"outside"``
        (a restored prefix that lay outside every pool). Runtime complexity: O(pools).
        """
        with self._lock:
            stats = self._allocator.statistics()
            return replace(
                stats, pools=tuple(replace(p, role=self._role(p.pool)) for p in stats.pools)
            )

    def _role(self, pool: Prefix) -> str:
        if pool in self._cluster_pools:
            return "cluster"
        return "outside" if pack(pool) in self._outside else "provider"

    # -- registration -----------------------------------------------------------------------

    def register(self, node: Node) -> None:
        """Learn a node's provider subnets and addresses before (or without) assigning it.

        Each usable subnet becomes a pool and the addresses the policy keeps out are reserved,
        so that another node's pod prefix never swallows this node's nested subnet or address,
        whichever node is assigned first. Idempotent; registering a changed node (another uid,
        other subnets or addresses) forgets the old one first, unless the node holds prefixes
        under the same uid: then the registration stays as it is. Runtime complexity:
        O(s log n) for s subnets and addresses.

        >>> alloc = NodeAllocator(["fd00::/48"], node_mask={6: 64})
        >>> alloc.register(Node.create("b", subnets=["2001:db8:0:1:1::100/120"]))
        >>> str(alloc.assign(Node.create("a", subnets=["2001:db8:0:1::10/64"])).prefix(6))
        '2001:db8:0:1:2::/80'

        Raises:
            PolicyError: the policy returned something other than a :class:`Decision`.
            TypeError: ``node`` is not a :class:`Node`.
        """
        _check_node(node, "register")
        with self._lock:
            rec = self._incarnation(node)
            if rec is not None and rec.registered:
                if rec.node is node or rec.node == node or rec.held:
                    return
                self._unlearn(rec)
            self._learn_new(rec, node)

    def unregister(self, name: str) -> None:
        """Forget a node: the inverse of :meth:`register`.

        Its pools (where no other node uses them) and reservations go; a node that holds pod
        prefixes gives them back too, as with :meth:`release`. Runtime complexity: O(k log n)
        for what the node holds.

        Raises:
            UnknownNodeError: the allocator knows no node of this name.
        """
        with self._lock:
            rec = self._nodes.get(_name(name))
            if rec is None:
                raise UnknownNodeError(f"node {quote(name)} is not known here")
            self._drop(rec)

    def _incarnation(self, node: Node) -> Record | None:
        """The node's record, after dropping one held under another uid (a re-created node)."""
        rec = self._nodes.get(node.name)
        if rec is not None and None not in (rec.uid, node.uid) and rec.uid != node.uid:
            self._drop(rec)
            return None
        return rec

    def _learn_new(self, rec: Record | None, node: Node) -> tuple[Record, list[Decision]]:
        """Learn ``node`` into ``rec`` (a new record when None); all or nothing.

        Returns the record and its usable decisions (as the policy gave them: reading
        :attr:`Record.usable` builds them again).
        """
        if rec is None:
            rec = self._nodes[node.name] = Record(node.name, node.uid, self._policy)
        try:
            usable = self._learn(rec, node)
        except BaseException:
            self._unlearn(rec)
            if not rec.held:
                del self._nodes[node.name]
            raise
        return rec, usable

    def _learn(self, rec: Record, node: Node) -> list[Decision]:
        """Ask the policy about each subnet; add the usable pools; reserve what it says.

        Returns the decisions of the usable subnets.
        """
        rec.node = node  # registered from now on: a failure below unlearns it
        if node.uid is not None:
            rec.uid = node.uid
        hint = [a for a in node.addresses if a.version == 6]  # addresses, all (Node checks)
        hint += self._extra_hint
        skipped: list[str] = []
        usable: list[Decision] = []
        for interface in node.subnets:
            try:
                decision = self._policy.choose(interface, reserved=hint)
            except PolicyError as e:
                skipped.append(f"{interface}: {e}")
                continue
            if type(decision) is not Decision:
                raise PolicyError(
                    f"{type(self._policy).__name__}.choose() must return a Decision for "
                    f"{quote(str(interface))}, not {quote(decision, use_repr=True)}"
                )
            problem = self._use_pool(rec, decision.pool, "provider", decision)
            if problem is not None:
                skipped.append(f"{interface}: pool {decision.pool} cannot be used: {problem}")
                continue
            usable.append(decision)
            for address in decision.reserved:
                self._reserve(rec, address)
        rec.skipped = tuple(skipped)
        if not usable or usable[0].reserve_node_addresses:
            for address in node.addresses:
                self._reserve(rec, address)
        return usable

    def _unlearn(self, rec: Record) -> None:
        """Undo :meth:`_learn`: every reservation of the node, and the pools it uses.

        The pools of the prefixes it holds stay in use (a node restored by name holds prefixes
        without being registered).
        """
        for address in self._reserved_by(rec):
            self._give_up(rec, address)
        for address, holder in rec.waiting():
            waiting = self._blocked[holder]
            waiting.remove((rec.name, address))
            if not waiting:
                del self._blocked[holder]
        holding = {self._allocator.pool_of(prefix) for prefix in rec.allocated}
        pools = self._pools_of(rec)
        for pool in pools:
            if pool not in holding:
                self._leave_pool(pool)
        rec.other_pools = tuple(pack(pool) for pool in pools if pool in holding)
        rec.pending = None
        rec.warnings = ()
        rec.usable = rec.skipped = ()
        rec.node = None

    def _use_pool(
        self, rec: Record, pool: Prefix, role: str, decision: Decision | None = None
    ) -> str | None:
        """Count ``rec`` as a user of ``pool``, adding it if new; the problem, or None.

        ``role`` is that of a new pool: ``"provider"`` (a node's subnet) or ``"outside"`` (a
        restored prefix's own). With ``decision`` (a usable subnet's, whose pool it is), the
        decision becomes one of the node's usable ones; without, the pool one of its
        :attr:`~._node_state.Record.other_pools`.
        """
        if pool not in self._cluster_pools and not rec.uses_pool_of(pool):
            try:
                self._allocator.add_pool(pool)
            except (PrefixConflictError, ConfigurationError) as e:
                if self._allocator.pool_of(pool) != pool:
                    return str(e)
                self._shared_pools[pool] = (self._shared_pools.get(pool) or 0) + 1  # another's
            else:
                if role == "outside":
                    self._outside.add(pack(pool))
            if decision is None:
                rec.other_pools += (pack(pool),)
        if decision is not None:
            rec.add_usable(decision)
        return None

    def _pools_of(self, rec: Record) -> tuple[Prefix, ...]:
        """The non-cluster pools ``rec`` counts as a user of: its usable subnets', then others.

        Runtime complexity: O(s^2) for the s pools of one node (one or two).
        """
        pools: list[Prefix] = []
        for pool in rec.usable_pools():
            if pool not in self._cluster_pools and pool not in pools:
                pools.append(pool)
        for key in rec.other_pools:
            pool = unpack(key)
            if pool not in pools:
                pools.append(pool)
        return tuple(pools)

    def _leave_pool(self, pool: Prefix) -> None:
        """Count one user of ``pool`` less; remove the pool with its last user.

        The caller takes the pool off the user's record.
        """
        others = self._shared_pools.get(pool)
        if others is None:
            self._forget_pool(pool)
            self._allocator.remove_pool(pool)
        elif others > 1:
            self._shared_pools[pool] = others - 1
        else:
            del self._shared_pools[pool]

    def _forget_pool(self, pool: Prefix) -> None:
        """Stop tracking a pool the node layer added (the allocator still has it)."""
        if pool in self._shared_pools:
            del self._shared_pools[pool]
        self._outside.discard(pack(pool))

    def _node_pools(self) -> list[Prefix]:
        """The pools the node layer added (the allocator's besides the cluster's), in order."""
        return [pool for pool in self._allocator.pools if pool not in self._cluster_pools]

    def _reserved_by(self, rec: Record) -> tuple[Prefix, ...]:
        """The addresses the node reserved, in the order of its candidates, then the others.

        Of :meth:`~._node_state.Record.candidates`, those the node is indexed for as a
        reserver; then :attr:`~._node_state.Record.other_reserved`. Runtime complexity: O(k)
        for the node's k addresses and decisions' reserved ones.
        """
        found: list[Prefix] = []
        for address in rec.candidates():
            if address not in found and rec.name in self._reservers_of(address):
                found.append(address)
        found.extend(rec.others_reserved)
        return tuple(found)

    def _reserve(
        self, rec: Record, address: Prefix, *, warn: bool = True, candidate: bool = True
    ) -> None:
        """Reserve an address for the node; if a pod prefix holds it, wait for its release.

        ``candidate`` says the address is one of :meth:`Record.candidates` (the caller took
        it from there); otherwise it is checked, and counted among the node's others if not.
        """
        names = self._reservers_of(address)
        if rec.name in names or (rec.pending is not None and address in rec.pending):
            return
        try:
            self._allocator.reserve(address)
        except PrefixConflictError:
            holder = self._allocator.lookup(address)
            if holder is None:  # pragma: no cover - reserve() conflicts only with allocations
                raise
            self._wait(rec, address, holder.prefix)
            if warn:
                self._warn(
                    rec,
                    f"address {address.network_address} lies inside pod prefix {holder.prefix}"
                    f" held by {quote(holder.owner)}; it is reserved once that is released",
                )
        else:
            self._add_reserver(address, rec.name, names)
            if not candidate and address not in rec.candidates():
                rec.add_other_reserved(address)

    def _give_up(self, rec: Record, address: Prefix) -> None:
        """Undo the node's reservation of ``address`` (the inverse of :meth:`_reserve`)."""
        self._allocator.unreserve(address)
        self._forget_reserver(address, rec.name)
        rec.drop_other_reserved(address)

    def _wait(self, rec: Record, address: Prefix, holder: Prefix) -> None:
        """Book ``address`` as waiting for the allocation ``holder`` to be released."""
        rec.wait(address, holder)
        self._blocked.setdefault(holder, []).append((rec.name, address))

    @staticmethod
    def _warn(rec: Record, warning: str) -> None:
        """Add a warning to the node (and so to what it holds, if anything)."""
        rec.warnings += (warning,)

    def _add_reserver(
        self, address: Prefix, name: str, names: tuple[str, ...] | None = None
    ) -> None:
        """Index ``name`` among the nodes that reserved ``address`` (``names``, when known)."""
        if names is None:
            names = self._reservers_of(address)
        self._reservers[address] = (*names, name) if names else name

    def _forget_reserver(self, address: Prefix, name: str) -> None:
        """Take ``name`` off the nodes that reserved ``address``."""
        rest = tuple(n for n in self._reservers_of(address) if n != name)
        if not rest:
            del self._reservers[address]
        else:
            self._reservers[address] = rest[0] if len(rest) == 1 else rest

    def _reservers_of(self, address: Prefix) -> tuple[str, ...]:
        """The nodes that reserved ``address``."""
        names = self._reservers.get(address)
        if names is None:
            return ()
        return (names,) if isinstance(names, str) else names

    def _retry_blocked(self, released: Iterable[Prefix]) -> None:
        """Reserve the node addresses that waited for the released prefixes."""
        for prefix in released:
            for name, address in self._blocked.pop(prefix, ()):
                rec = self._nodes[name]
                rec.stop_waiting(address)
                self._reserve(rec, address, warn=False, candidate=False)

    # -- assignment -------------------------------------------------------------------------

    def assign(self, node: Node) -> Assignment:
        """Give a node its pod prefixes; return what it holds if it has them already.

        Registers the node first if :meth:`register` has not. Every family or nothing: when
        anything fails (a full pool, a policy that raises), whatever this call took is given
        back before the exception propagates, so a failed assign of a new node changes
        nothing. Two things stay, as they would without the assignment: a name held under
        another uid is released first (the Node was re-created), and a node registered with
        other subnets or addresses is registered again as given. Runtime complexity:
        O(s log n) for s subnets.

        Raises:
            PoolExhaustedError: a cluster pool (or every usable subnet) is full.
            PolicyError: no provider subnet is usable and there is no IPv6 fallback, or the
                policy returned something other than a :class:`Decision`.
            TypeError: ``node`` is not a :class:`Node`.
        """
        _check_node(node, "assign")
        with self._lock:
            rec = self._incarnation(node)
            if rec is not None and (held := rec.assignment) is not None:
                return held
            usable: Sequence[Decision] | None = None
            if rec is not None and rec.node is not node and rec.node != node:
                # Registered with other subnets or addresses (or known only by name): learn it
                # as it is now, as register() does. That stays, whatever happens below.
                self._unlearn(rec)
                rec, usable = self._learn_new(rec, node)
            created = rec is None
            if rec is None:
                rec, usable = self._learn_new(None, node)
            skipped = list(rec.skipped)
            families: list[FamilyAssignment] = []
            try:
                for version in self._families:
                    if version == 6:
                        decisions = rec.usable if usable is None else usable
                        families.append(self._assign_ipv6(rec, decisions, skipped))
                    else:
                        families.append(self._from_cluster(rec.name, version, ""))
            except BaseException:
                for family in families:
                    self._allocator.release(family.prefix)
                if created:
                    self._unlearn(rec)
                    del self._nodes[rec.name]
                raise
            rec.hold(families, self._cluster_keys)
            rec.held_skipped = tuple(skipped)
            return Assignment(rec.name, tuple(families), rec.held_skipped, rec.warnings)

    def _from_cluster(self, name: str, version: int, why: str) -> FamilyAssignment:
        pool = self._cluster.get(version)
        if pool is None:
            raise PolicyError(f"node {quote(name)} has no usable IPv{version} subnet{why}")
        mask = self._masks[version]
        prefix = self._allocator.allocate(mask, pool=pool, owner=name)
        # One text per family and cause, shared by every node it applies to.
        reason = self._cluster_reasons.get((version, why))
        if reason is None:
            reason = f"/{mask} from the IPv{version} cluster pool {pool}{why}"
            self._cluster_reasons[version, why] = reason
        return FamilyAssignment(prefix, "cluster", pool, reason)

    def _assign_ipv6(
        self, rec: Record, usable: Sequence[Decision], skipped: list[str]
    ) -> FamilyAssignment:
        for decision in usable:
            try:
                prefix = self._allocator.allocate(
                    decision.prefixlen, pool=decision.pool, owner=rec.name
                )
            except PoolExhaustedError as e:
                skipped.append(f"{decision.interface}: {e}")
                continue
            return FamilyAssignment(prefix, "provider", decision.pool, None, decision)
        if not self._fallback or 6 not in self._cluster:
            detail = "; ".join(skipped) if skipped else "it has no IPv6 subnet"
            raise PolicyError(f"node {quote(rec.name)} has no usable IPv6 subnet ({detail})")
        has_subnets = rec.node is not None and rec.node.subnets
        why = " (no usable provider subnet)" if has_subnets else " (no provider subnet)"
        return self._from_cluster(rec.name, 6, why)

    def release(self, name: str) -> Assignment:
        """Give back everything a node holds; call it only when the Node object is gone.

        Its pod prefixes, reservations and registration go; node addresses that waited for its
        prefixes are reserved now. Runtime complexity: O(k log n) for what it holds.

        Raises:
            UnknownNodeError: the allocator holds no pod prefixes for this node.
        """
        with self._lock:
            rec = self._nodes.get(_name(name))
            assignment = None if rec is None else rec.assignment
            if rec is None or assignment is None:
                raise UnknownNodeError(f"node {quote(name)} holds no pod prefixes here")
            self._drop(rec)
            return assignment

    def _drop(self, rec: Record) -> None:
        """Forget a node entirely: prefixes, reservations, pools, registration."""
        released = rec.allocated
        for prefix in released:
            self._allocator.release(prefix)
        rec.held = rec.held_skipped = ()
        self._unlearn(rec)
        del self._nodes[rec.name]
        self._retry_blocked(released)

    def explain(self, name: str) -> str:
        """A few lines saying what the node holds and why.

        Raises:
            UnknownNodeError: the allocator holds nothing for this node.
        """
        with self._lock:
            rec = self._nodes.get(_name(name))
            assignment = None if rec is None else rec.assignment
            if assignment is None:
                raise UnknownNodeError(f"node {quote(name)} holds no pod prefixes here")
            return assignment.explain()

    # -- restart ----------------------------------------------------------------------------

    def restore(
        self, node: Node | str, pod_cidrs: Iterable[str | Prefix] | str | Prefix
    ) -> RestoreResult:
        """Adopt the podCIDRs a node already holds (after a restart); never raises for them.

        Pass the :class:`Node` when its provider subnets are known: it is registered first, so
        that its pools exist before its prefixes are adopted. Only what the API server could
        hold in ``spec.podCIDRs`` is adopted: CIDR text (a value with host bits set, stored by
        an older API server, is adopted as its network; its text is kept as it is), a
        :class:`Prefix` or an ``ipaddress`` network. A restore that adopts nothing changes
        nothing. Runtime complexity: O(k log n) for k podCIDRs.

        Returns:
            One status per podCIDR: adopted, conflict (with whom), outside every pool, invalid.

        Raises:
            TypeError: ``node`` is neither a :class:`Node` nor a name, or ``pod_cidrs`` is not
                a collection.
        """
        if not isinstance(node, Node):
            _name(node)
        values = prefix_items(pod_cidrs, "pod_cidrs")
        with self._lock:
            return _node_restore.restore(self, node, values)

    # -- copies and snapshots ---------------------------------------------------------------

    def copy(self) -> NodeAllocator:
        """An independent node allocator in the same state (the policy is shared).

        What-if questions run on a copy: assigning, releasing or restoring there never
        touches the original. ``copy.copy``, ``copy.deepcopy`` and ``pickle`` give the same
        result. Runtime complexity: O(n).

        >>> a = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24})
        >>> b = a.copy()
        >>> _ = b.assign(Node.create("n1"))
        >>> len(a), len(b)
        (0, 1)
        """
        with self._lock:
            clone = _new(NodeAllocator)
            clone.__dict__.update(self.__getstate__())
            clone._lock = threading.RLock()
            return clone

    def __copy__(self) -> NodeAllocator:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, object]) -> NodeAllocator:
        return self.copy()

    def __getstate__(self) -> dict[str, object]:
        with self._lock:
            state = dict(self.__dict__)
            del state["_lock"]
            state["_allocator"] = self._allocator.copy()
            state["_nodes"] = {name: rec.copy() for name, rec in self._nodes.items()}
            state["_shared_pools"] = self._shared_pools.copy()
            state["_outside"] = set(self._outside)
            state["_blocked"] = {p: list(waiting) for p, waiting in self._blocked.items()}
            state["_reservers"] = self._reservers.copy()
            state["_masks"] = dict(self._masks)
            state["_cluster"] = dict(self._cluster)
            return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def snapshot(self) -> dict[str, Any]:
        """A JSON-safe dict of the whole state: configuration, pools, nodes, reservations.

        :meth:`from_snapshot` restores it exactly, so the next assignments are the same. The
        policy is recorded by its ``repr`` and must be passed again. Runtime complexity: O(n).
        """
        from ._node_snapshot import dump  # noqa: PLC0415  # loaded only for snapshots

        with self._lock:
            return dump(self)

    @classmethod
    def from_snapshot(
        cls, data: Mapping[str, Any], *, policy: Policy | None = None
    ) -> NodeAllocator:
        """Rebuild a node allocator from :meth:`snapshot` output, validating everything.

        Args:
            data: What :meth:`snapshot` returned (or its JSON, parsed).
            policy: The policy the snapshot was taken with (:class:`SafePolicy` by default);
                its ``repr`` must match the one recorded.

        Raises:
            SnapshotError: the data is not a valid snapshot, contradicts itself, or was taken
                with another policy (the message says where).

        >>> a = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24})
        >>> _ = a.assign(Node.create("n1"))
        >>> NodeAllocator.from_snapshot(a.snapshot()).snapshot() == a.snapshot()
        True
        """
        from ._node_snapshot import load  # noqa: PLC0415  # loaded only for snapshots

        return load(cls, data, policy)

    def _check(self) -> None:
        """Verify every invariant of the node layer and the allocator beneath; O(n log n)."""
        from ._node_invariants import check_node_allocator  # noqa: PLC0415  # tests only

        with self._lock:
            check_node_allocator(self)


def _check_node(node: object, method: str) -> None:
    if not isinstance(node, Node):
        raise TypeError(
            f"{method}() takes a Node (see Node.create), not {type(node).__name__} "
            f"{quote(node, use_repr=True)}"
        )


def _name(name: object) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"a node name must be non-empty text, not {quote(name, use_repr=True)}")
    return name


def _is_ipv6_address(p: Prefix) -> bool:
    return p.version == 6 and p.prefixlen == 128
