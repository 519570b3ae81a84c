"""The node layer's mutable state: one :class:`Record` per node, one :class:`PoolUse` per pool.

Internal: :class:`~ipv6alloc.NodeAllocator` owns these and takes its lock around every use. What
the allocator keeps per node: what :meth:`~ipv6alloc.NodeAllocator.register` learned (the node,
the policy's decision for each usable subnet, the pools and reservations that brought), what it
holds (the assignment and its prefixes), and the node addresses that wait to be reserved because
another node's pod prefix holds them. Every change to the :class:`~ipv6alloc.PrefixAllocator`
beneath is recorded in the record of the node that made it, so that undoing a node (a failed
assign, a release) gives back exactly that.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._interface import Decision
    from ._node import Assignment, Node
    from ._prefix import Prefix

__all__ = ["PoolUse", "Record"]

_new = object.__new__


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
        assignment: What the node holds (None: no pod prefix).
        allocated: The node's pod prefixes in the allocator.
        reserved: The reservations the node made (each counted once in the allocator).
        pending: Node addresses waiting to be reserved -> the allocation holding each (None
            when none waits).
        pools: The non-cluster pools the node uses (its subnets', and those of adopted prefixes).

    Collections are tuples (the empty tuple is shared) and ``pending`` is None until an address
    waits: a cluster holds one record per node, and most never change after their assignment
    (tuples and no empty dict save about 250 bytes per node).
    """

    __slots__ = (
        "allocated",
        "assignment",
        "name",
        "node",
        "pending",
        "pools",
        "registered",
        "reserved",
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
        self.assignment: Assignment | None = None
        self.allocated: tuple[Prefix, ...] = ()
        self.reserved: tuple[Prefix, ...] = ()
        self.pending: dict[Prefix, Prefix] | None = None
        self.pools: tuple[Prefix, ...] = ()

    def copy(self) -> Record:
        """An independent record (the values inside are immutable and shared)."""
        clone = _new(Record)
        for slot in Record.__slots__:
            setattr(clone, slot, getattr(self, slot))
        if self.pending is not None:
            clone.pending = dict(self.pending)
        return clone

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


class PoolUse:
    """A non-cluster pool the node layer added: its role and how many nodes use it (internal).

    The users themselves are the records whose ``pools`` name it; a count is enough to know when
    the last one leaves (a set of names would cost about 200 bytes per pool).
    """

    __slots__ = ("role", "users")

    def __init__(self, role: str, users: int = 0) -> None:
        self.role = role  # "provider" (a node's subnet) or "outside" (a restored prefix's own)
        self.users = users

    def copy(self) -> PoolUse:
        """An independent copy."""
        return PoolUse(self.role, self.users)
