"""The node layer's mutable state: one :class:`Record` per node.

Internal: :class:`~ipv6alloc.NodeAllocator` owns these and takes its lock around every use. What
the allocator keeps per node: what :meth:`~ipv6alloc.NodeAllocator.register` learned (the node,
the policy's decision for each usable subnet, the pools and reservations that brought), what it
holds (the assignment and its prefixes), and the node addresses that wait to be reserved because
another node's pod prefix holds them. Every change to the :class:`~ipv6alloc.PrefixAllocator`
beneath is recorded in the record of the node that made it, so that undoing a node (a failed
assign, a release) gives back exactly that.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from ._bits import WIDTH
from ._interface import Decision, Interface
from ._node import Assignment, FamilyAssignment
from ._prefix import Prefix

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from ._node import Node, Source

__all__ = ["HELD_FIELDS", "USABLE", "Held", "PrefixMap", "Record", "pack", "unpack"]

_new = object.__new__
V = TypeVar("V")


def pack(prefix: Prefix) -> int:
    """A prefix as one int: its address, length and family (the inverse of :func:`unpack`)."""
    return (prefix.value << 8 | prefix.prefixlen) << 1 | (prefix.version == 6)


def unpack(key: int) -> Prefix:
    """The prefix :func:`pack` made ``key`` of."""
    return Prefix._trusted(6 if key & 1 else 4, key >> 9, key >> 1 & 0xFF)


#: One pod prefix a node holds, as :meth:`Record.entries` gives it: the prefix, its source, its
#: pool's key (see :data:`HELD_FIELDS`), and its reason (None: its decision's).
Held = tuple[Prefix, "Source", int | None, str | None]


#: The fields :attr:`Record.held` keeps per pod prefix, in a row: the prefix's address value,
#: length and IP version; its source; its pool's key (:func:`pack`; None for a provider prefix,
#: whose pool is its decision's, and for one restored outside every pool); and the reason text
#: (None for a provider prefix: the reason is its decision's).
HELD_FIELDS = 6

#: The fields a record keeps per usable decision, in a row of one flat tuple, from which
#: :attr:`Record.usable` builds the decision again: its interface (an index into the node's
#: subnets, or the interface itself when it is none of them), its pool's address value and
#: length, its prefix length, its reason (None when :attr:`Record.explainer` writes it, as it
#: does for the library's policies; otherwise the text or the object that writes it), its
#: reserved addresses' values (the decision's own tuple), its policy name and its
#: ``reserve_node_addresses``. Kept so, a node's decision and its pool cost the garbage
#: collector nothing: it stops tracing a tuple of ints and text. That made
#: :meth:`NodeAllocator.assign` about 10 % faster (benchmark S9, 2x10^4 nodes: 35 to 31 us per
#: node, side by side), as the nodes no longer set off a full collection.
_USABLE_FIELDS = (
    "interface",
    "pool_value",
    "pool_prefixlen",
    "prefixlen",
    "reason",
    "reserved",
    "policy",
    "reserve_node_addresses",
)
USABLE = len(_USABLE_FIELDS)
_POOL = _USABLE_FIELDS.index("pool_value")  # then its length
_RESERVED = _USABLE_FIELDS.index("reserved")


class Record:
    """What the allocator knows and holds for one node (internal, mutable).

    Attributes:
        name: The node's name.
        uid: The uid it was last seen with (None when unknown).
        node: The node as registered (None when known only by name, through restore): then
            :meth:`NodeAllocator.register` learned it, its usable decisions, pools and
            reservations are in place (:attr:`registered`).
        usable: The policy's decision for each usable subnet, in the node's subnet order
            (kept as :data:`USABLE` fields each, built again when read).
        explainer: What writes the reason of the library's decisions (the node allocator's
            policy): a decision it explains keeps None for its reason.
        skipped: The subnets registration could not use, each with the reason.
        warnings: Reservations that had to wait or give way, one sentence each.
        held: The pod prefixes the node holds in podCIDRs order, :data:`HELD_FIELDS` items
            each, in one flat tuple; :attr:`assignment` is built from them when read.
        held_skipped: The skipped subnets its assignment reports (those of registration, and
            usable ones that were full when it was assigned).
        other_reserved: The addresses the node reserved besides those of its usable
            subnets' decisions and its own addresses (an address that waited for a prefix
            after the subnet that reserved it was lost), as ``version, value`` pairs in one flat
            tuple. The node's reservations are found where the allocator indexes who reserved
            what (``NodeAllocator._reserved_by``), not kept twice.
        pending: Node addresses waiting to be reserved -> the allocation holding each (None
            when none waits).
        other_pools: The keys (:func:`pack`) of the pools the node uses besides those of its
            usable subnets: pools of prefixes it adopted outside every pool, and those of the
            prefixes it holds once it is no longer registered.

    A cluster holds one record per node and most never change after their assignment, so a
    record keeps flat tuples of ints and text where it can (the collector stops tracing those),
    the very int objects the allocator's indexes hold (an address's value, not a key made of
    it), ``pending`` as None until an address waits, and no :class:`Assignment`; what the
    node layer indexes elsewhere (who reserved what, the pools' users) it does not list again.
    With the decision's reserved addresses kept as ints too, a node costs the collector 4
    objects instead of 18, which made :meth:`NodeAllocator.assign` about a quarter faster
    (benchmark S9, 2x10^4 nodes: 57 to 42 us per node): every full collection traces every
    object, and a growing cluster triggers them. With its decisions kept as fields
    (:data:`USABLE`), it costs 2 (the record, and the allocator's pool of its subnet).
    """

    __slots__ = (
        "_usable",
        "explainer",
        "held",
        "held_skipped",
        "name",
        "node",
        "other_pools",
        "other_reserved",
        "pending",
        "skipped",
        "uid",
        "warnings",
    )

    def __init__(self, name: str, uid: str | None, explainer: object) -> None:
        self.name = name
        self.uid = uid
        self.explainer = explainer
        self.node: Node | None = None
        self._usable: tuple[object, ...] = ()
        self.skipped: tuple[str, ...] = ()
        self.warnings: tuple[str, ...] = ()
        self.held: tuple[int | str | None, ...] = ()
        self.held_skipped: tuple[str, ...] = ()
        self.other_reserved: tuple[int, ...] = ()
        self.pending: dict[Prefix, Prefix] | None = None
        self.other_pools: tuple[int, ...] = ()

    def copy(self) -> Record:
        """An independent record (the values inside are immutable and shared)."""
        clone = _new(Record)
        for slot in Record.__slots__:
            setattr(clone, slot, getattr(self, slot))
        if self.pending is not None:
            clone.pending = dict(self.pending)
        return clone

    # -- usable decisions -------------------------------------------------------------------

    @property
    def usable(self) -> tuple[Decision, ...]:
        """The policy's decision for each usable subnet, in the node's subnet order.

        Built when read, each equal to the one the policy gave (see :data:`USABLE`).
        """
        return tuple([self._decision(i) for i in range(0, len(self._usable), USABLE)])

    @usable.setter
    def usable(self, decisions: Iterable[Decision]) -> None:
        self._usable = ()
        for decision in decisions:
            self.add_usable(decision)

    def add_usable(self, decision: Decision) -> None:
        """Add ``decision`` to :attr:`usable`, after the others (as :data:`USABLE` fields)."""
        interface: int | Interface = decision.interface
        subnets = () if self.node is None else self.node.subnets
        for i, subnet in enumerate(subnets):
            if subnet is interface or subnet == interface:
                interface = i
                break
        reason = decision._reason
        pool = decision.pool
        self._usable += (
            interface,
            pool.value,
            pool.prefixlen,
            decision.prefixlen,
            None if reason is self.explainer else reason,
            decision._reserved,
            decision.policy,
            decision.reserve_node_addresses,
        )

    def _decision(self, i: int) -> Decision:
        """The usable decision whose fields start at ``_usable[i]``."""
        where, value, pool_len, prefixlen, reason, reserved, policy, own = self._usable[
            i : i + USABLE
        ]
        if type(where) is int:
            where = self.node.subnets[where]  # type: ignore[union-attr]
        return Decision._explained(
            where,  # type: ignore[arg-type]
            Prefix._trusted(6, value, pool_len),  # type: ignore[arg-type]
            prefixlen,  # type: ignore[arg-type]
            self.explainer if reason is None else reason,  # type: ignore[arg-type]
            reserved,  # type: ignore[arg-type]
            policy,  # type: ignore[arg-type]
            own,  # type: ignore[arg-type]
        )

    def usable_pools(self) -> Iterator[Prefix]:
        """The pool of each usable decision, in their order."""
        kept = self._usable
        for i in range(_POOL, len(kept), USABLE):
            yield Prefix._trusted(6, kept[i], kept[i + 1])  # type: ignore[arg-type]

    def uses_pool_of(self, pool: Prefix) -> bool:
        """Whether ``pool`` is a usable decision's pool or one of :attr:`other_pools`."""
        return pool in self.usable_pools() or pack(pool) in self.other_pools

    def decision_holding(self, prefix: Prefix) -> Decision | None:
        """The usable decision whose pool is the innermost of theirs holding ``prefix``."""
        found: tuple[int, Prefix] | None = None
        for row, pool in enumerate(self.usable_pools()):
            if prefix.subnet_of(pool) and (found is None or pool.prefixlen > found[1].prefixlen):
                found = (row, pool)
        return None if found is None else self._decision(found[0] * USABLE)

    # -- what it holds ----------------------------------------------------------------------

    def hold(
        self, families: Iterable[FamilyAssignment], pool_keys: Mapping[int, int] | None = None
    ) -> None:
        """Add each family's pod prefix to what the node holds.

        A provider prefix's decision must be a usable one, whose pool is the innermost of
        theirs that holds the prefix. ``pool_keys`` gives a pool's :func:`pack` by IP version
        when the caller has it (the cluster pools', made once); it is computed otherwise.
        """
        entries: list[int | str | None] = list(self.held)
        for family in families:
            key = None if pool_keys is None else pool_keys.get(family.prefix.version)
            entries += _entry(family, key)
        self.held = tuple(entries)

    def keep(self, count: int) -> None:
        """Hold only the first ``count`` pod prefixes."""
        self.held = self.held[: count * HELD_FIELDS]

    def entries(self) -> Iterator[Held]:
        """What the node holds, one ``(prefix, source, pool key, reason)`` per pod prefix."""
        held = self.held
        for i in range(0, len(held), HELD_FIELDS):
            value, prefixlen, version, source, pool, reason = held[i : i + HELD_FIELDS]
            prefix = Prefix._trusted(version, value, prefixlen)  # type: ignore[arg-type]
            yield prefix, source, pool, reason  # type: ignore[misc]

    @property
    def allocated(self) -> tuple[Prefix, ...]:
        """The node's pod prefixes, in podCIDRs order."""
        return tuple(entry[0] for entry in self.entries())

    def families(self) -> tuple[FamilyAssignment, ...]:
        """What the node holds, one family assignment each."""
        result = []
        for prefix, source, pool, reason in self.entries():
            if reason is None:
                decision = self.decision_holding(prefix)
                result.append(
                    FamilyAssignment(
                        prefix, source, None if decision is None else decision.pool, None, decision
                    )
                )
            else:
                where = None if pool is None else unpack(pool)
                result.append(FamilyAssignment(prefix, source, where, reason))
        return tuple(result)

    @property
    def assignment(self) -> Assignment | None:
        """What the node holds (None: no pod prefix), built when read."""
        if not self.held:
            return None
        return Assignment(self.name, self.families(), self.held_skipped, self.warnings)

    # -- reservations and pools -------------------------------------------------------------

    @property
    def registered(self) -> bool:
        """Whether :meth:`NodeAllocator.register` learned the node (it has the Node)."""
        return self.node is not None

    @property
    def others_reserved(self) -> tuple[Prefix, ...]:
        """The addresses of :attr:`other_reserved`, in the order made."""
        pairs = self.other_reserved
        return tuple(
            Prefix._trusted(version, value, WIDTH[version])
            for version, value in zip(pairs[::2], pairs[1::2], strict=True)
        )

    def add_other_reserved(self, address: Prefix) -> None:
        """Count ``address`` among :attr:`other_reserved`."""
        self.other_reserved += (address.version, address.value)

    def drop_other_reserved(self, address: Prefix) -> None:
        """Take ``address`` off :attr:`other_reserved`, if there."""
        pairs = self.other_reserved
        kept: list[int] = []
        for i in range(0, len(pairs), 2):
            if (pairs[i], pairs[i + 1]) != (address.version, address.value):
                kept += pairs[i : i + 2]
        self.other_reserved = tuple(kept)

    def candidates(self) -> list[Prefix]:
        """The addresses the node reserves when learnt: its decisions', then its own."""
        kept = self._usable
        found = [
            Prefix._trusted(6, value, WIDTH[6])
            for i in range(_RESERVED, len(kept), USABLE)
            for value in kept[i]  # type: ignore[attr-defined]
        ]
        if self.node is not None:
            found.extend(self.node.addresses)
        return found

    def leave(self, pool: Prefix) -> None:
        """Stop counting ``pool`` among the node's other pools (see :attr:`other_pools`)."""
        key = pack(pool)
        self.other_pools = tuple(k for k in self.other_pools if k != key)

    # -- waiting addresses ------------------------------------------------------------------

    def wait(self, address: Prefix, holder: Prefix) -> None:
        """Book ``address`` as waiting for the release of the allocation ``holder``."""
        if self.pending is None:
            self.pending = {}
        self.pending[address] = holder

    def stop_waiting(self, address: Prefix) -> None:
        """Forget that ``address`` waits."""
        pending = self.pending
        if pending is None:
            raise KeyError(address)
        del pending[address]
        if not pending:
            self.pending = None

    def waiting(self) -> tuple[tuple[Prefix, Prefix], ...]:
        """The ``(address, holder)`` pairs waiting, in the order booked."""
        return () if self.pending is None else tuple(self.pending.items())


def _entry(family: FamilyAssignment, pool_key: int | None) -> tuple[int | str | None, ...]:
    """The :data:`HELD_FIELDS` items :attr:`Record.held` keeps for ``family``."""
    prefix = family.prefix
    if family.decision is not None:
        pool, reason = None, None
    else:
        pool, reason = pool_key, family.reason
        if pool is None and family.pool is not None:
            pool = pack(family.pool)
    return (prefix.value, prefix.prefixlen, prefix.version, family.source, pool, reason)


class PrefixMap(Generic[V]):
    """A dict keyed by prefix that keeps no key object of its own (internal).

    A prefix is filed under its version and length, then under its address value: the very int
    that the caller's :class:`Prefix` holds (a decision's pool, a reserved address, each also
    held by the allocator's indexes), where a key made of it (:func:`pack`) would be one more
    int per entry: 44 bytes per node subnet and per reserved address in benchmark S9.
    """

    __slots__ = ("_by",)

    def __init__(self) -> None:
        self._by: dict[int, dict[int, V]] = {}  # version << 8 | prefixlen -> value -> item

    def get(self, prefix: Prefix) -> V | None:
        """The item of ``prefix``, or None."""
        inner = self._by.get(prefix.version << 8 | prefix.prefixlen)
        return None if inner is None else inner.get(prefix.value)

    def __contains__(self, prefix: Prefix) -> bool:
        inner = self._by.get(prefix.version << 8 | prefix.prefixlen)
        return inner is not None and prefix.value in inner

    def __setitem__(self, prefix: Prefix, item: V) -> None:
        key = prefix.version << 8 | prefix.prefixlen
        inner = self._by.get(key)
        if inner is None:
            inner = self._by[key] = {}
        inner[prefix.value] = item

    def __delitem__(self, prefix: Prefix) -> None:
        key = prefix.version << 8 | prefix.prefixlen
        inner = self._by[key]
        del inner[prefix.value]
        if not inner:
            del self._by[key]

    def __len__(self) -> int:
        return sum(len(inner) for inner in self._by.values())

    def items(self) -> Iterator[tuple[Prefix, V]]:
        """Each prefix with its item (prefixes of one version and length together)."""
        for key, inner in self._by.items():
            version, prefixlen = key >> 8, key & 0xFF
            for value, item in inner.items():
                yield Prefix._trusted(version, value, prefixlen), item

    def copy(self) -> PrefixMap[V]:
        """An independent map holding the same items."""
        clone: PrefixMap[V] = PrefixMap()
        clone._by = {key: dict(inner) for key, inner in self._by.items()}
        return clone
