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

from ._node import Assignment, FamilyAssignment
from ._prefix import Prefix

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._interface import Decision
    from ._node import Node, Source

__all__ = ["Held", "Record", "pack", "unpack"]

_new = object.__new__


def pack(prefix: Prefix) -> int:
    """A prefix as one int: its address, length and family (the inverse of :func:`unpack`)."""
    return (prefix.value << 8 | prefix.prefixlen) << 1 | (prefix.version == 6)


def unpack(key: int) -> Prefix:
    """The prefix :func:`pack` made ``key`` of."""
    return Prefix._trusted(6 if key & 1 else 4, key >> 9, key >> 1 & 0xFF)


#: One pod prefix a node holds: its key (:func:`pack`), its source, its pool's key (None when
#: restored outside every pool), and the reason text (None for a provider prefix: the reason is
#: that of the usable subnet's decision for that pool). Only ints and text: the garbage
#: collector stops tracing such tuples.
Held = tuple[int, "Source", int | None, str | None]


class Record:
    """What the allocator knows and holds for one node (internal, mutable).

    Attributes:
        name: The node's name.
        uid: The uid it was last seen with (None when unknown).
        node: The node as registered (None when known only by name, through restore).
        registered: Whether :meth:`NodeAllocator.register` learned the node: its usable
            decisions, pools and reservations are in place.
        usable: The policy's decision for each usable subnet, in the node's subnet order.
        skipped: The subnets registration could not use, each with the reason.
        warnings: Reservations that had to wait or give way, one sentence each.
        held: The pod prefixes the node holds, one :data:`Held` per family in podCIDRs order;
            :attr:`assignment` is built from them when read.
        held_skipped: The skipped subnets its assignment reports (those of registration, and
            usable ones that were full when it was assigned).
        reserved_keys: The reservations the node made (each counted once in the allocator).
        pending: Node addresses waiting to be reserved -> the allocation holding each (None
            when none waits).
        pool_keys: The non-cluster pools the node uses (its subnets', and those of adopted
            prefixes).

    A cluster holds one record per node and most never change after their assignment, so a
    record keeps prefixes as ints (:func:`pack`), collections as tuples of ints and text where it
    can (the collector stops tracing those), ``pending`` as None until an address waits, and no
    :class:`Assignment`. With the decision's reserved addresses kept as ints too, a node costs
    the collector 5 objects instead of 18, which made :meth:`NodeAllocator.assign` about a
    quarter faster (benchmark S9, 2x10^4 nodes: 57 to 42 us per node): every full collection
    traces every object, and a growing cluster triggers them.
    """

    __slots__ = (
        "held",
        "held_skipped",
        "name",
        "node",
        "pending",
        "pool_keys",
        "registered",
        "reserved_keys",
        "skipped",
        "uid",
        "usable",
        "warnings",
    )

    def __init__(self, name: str, uid: str | None) -> None:
        self.name = name
        self.uid = uid
        self.node: Node | None = None
        self.registered = False
        self.usable: tuple[Decision, ...] = ()
        self.skipped: tuple[str, ...] = ()
        self.warnings: tuple[str, ...] = ()
        self.held: tuple[Held, ...] = ()
        self.held_skipped: tuple[str, ...] = ()
        self.reserved_keys: tuple[int, ...] = ()
        self.pending: dict[Prefix, Prefix] | None = None
        self.pool_keys: tuple[int, ...] = ()

    def copy(self) -> Record:
        """An independent record (the values inside are immutable and shared)."""
        clone = _new(Record)
        for slot in Record.__slots__:
            setattr(clone, slot, getattr(self, slot))
        if self.pending is not None:
            clone.pending = dict(self.pending)
        return clone

    # -- what it holds ----------------------------------------------------------------------

    def hold(self, family: FamilyAssignment) -> None:
        """Add one family's pod prefix to what the node holds.

        A provider prefix's decision must be the usable one for its pool.
        """
        pool = None if family.pool is None else pack(family.pool)
        reason = None if family.decision is not None else family.reason
        self.held += ((pack(family.prefix), family.source, pool, reason),)

    def decision_for(self, pool: int | None) -> Decision | None:
        """The usable subnet's decision whose pool has the key ``pool``, if any."""
        return next((d for d in self.usable if pack(d.pool) == pool), None)

    @property
    def allocated(self) -> tuple[Prefix, ...]:
        """The node's pod prefixes, in podCIDRs order."""
        return tuple(unpack(held[0]) for held in self.held)

    def families(self) -> tuple[FamilyAssignment, ...]:
        """What the node holds, one family assignment each."""
        result = []
        for key, source, pool, reason in self.held:
            decision = None if reason is not None else self.decision_for(pool)
            result.append(
                FamilyAssignment(
                    unpack(key), source, None if pool is None else unpack(pool), reason, decision
                )
            )
        return tuple(result)

    @property
    def assignment(self) -> Assignment | None:
        """What the node holds (None: no pod prefix), built when read."""
        if not self.held:
            return None
        return Assignment(self.name, self.families(), self.held_skipped, self.warnings)

    # -- reservations and pools -------------------------------------------------------------

    @property
    def reserved(self) -> tuple[Prefix, ...]:
        """The reservations the node made, in the order made."""
        return tuple(unpack(key) for key in self.reserved_keys)

    @property
    def pools(self) -> tuple[Prefix, ...]:
        """The non-cluster pools the node uses."""
        return tuple(unpack(key) for key in self.pool_keys)

    def uses(self, pool: Prefix) -> bool:
        """Whether the node counts as a user of ``pool``."""
        return pack(pool) in self.pool_keys

    def leave(self, pool: Prefix) -> None:
        """Stop counting the node as a user of ``pool``."""
        key = pack(pool)
        self.pool_keys = tuple(k for k in self.pool_keys if k != key)

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
