"""The node layer's values: :class:`Node` in; :class:`Assignment`, :class:`RestoreResult` out.

Frozen values, checked when built; :class:`~ipv6alloc.NodeAllocator` (in
:mod:`ipv6alloc._node_allocator`) consumes and returns them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ._errors import InvalidPrefixError, quote
from ._interface import Decision, Interface
from ._prefix import Prefix, prefix_items

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._interface import InterfaceLike
    from ._prefix import PrefixLike

__all__ = ["Assignment", "FamilyAssignment", "Node", "RestoreResult", "RestoreStatus", "Source"]

#: Where a family's pod prefix came from.
Source = Literal["provider", "cluster", "restored"]
#: What :meth:`~ipv6alloc.NodeAllocator.restore` made of one podCIDR.
RestoreStatus = Literal["adopted", "conflict", "outside", "invalid"]


@dataclass(frozen=True, slots=True)
class Node:
    """What the node allocator needs to know of a node.

    Build one with :meth:`create`, which reads text and ``ipaddress`` values; the constructor
    takes the parsed values and checks their types.

    Attributes:
        name: The node's name (unique in the cluster).
        addresses: The node's own addresses (IPv4 and IPv6), as full-length prefixes, sorted.
        subnets: The node's provider subnets in interface form (address/on-link length), most
            preferred first: ``"2a02:a:152:202::100/121"``.
        uid: The Node object's ``metadata.uid``, when known. A node deleted and re-created
            under the same name gets a new uid: the allocator then releases what the old one
            held before it serves the new one.

    >>> n = Node.create("worker-1", subnets=["2001:db8:0:1::7/64"], addresses=["192.0.2.7"])
    >>> [str(a) for a in n.addresses]
    ['192.0.2.7/32', '2001:db8:0:1::7/128']

    Raises:
        InvalidPrefixError: a name or uid that is not non-empty text, or fields of the wrong
            type.
    """

    name: str
    addresses: tuple[Prefix, ...] = ()
    subnets: tuple[Interface, ...] = ()
    uid: str | None = None

    def __post_init__(self) -> None:
        name: object = self.name  # checked at run time: names come from untyped JSON
        if not isinstance(name, str) or not name:
            raise InvalidPrefixError(
                f"a node name must be non-empty text, not {quote(name, use_repr=True)}"
            )
        uid: object = self.uid
        if uid is not None and (not isinstance(uid, str) or not uid):
            raise InvalidPrefixError(
                f"node {quote(name)}: a uid must be non-empty text or None, "
                f"not {quote(uid, use_repr=True)}"
            )
        addresses: object = self.addresses
        if type(addresses) is not tuple or not all(
            type(a) is Prefix and a.prefixlen == a.max_prefixlen for a in addresses
        ):
            raise InvalidPrefixError(
                f"node {quote(name)}: addresses must be a tuple of single-address Prefix "
                f"values (use Node.create to parse text), not {quote(addresses, use_repr=True)}"
            )
        subnets: object = self.subnets
        if type(subnets) is not tuple or not all(type(s) is Interface for s in subnets):
            raise InvalidPrefixError(
                f"node {quote(name)}: subnets must be a tuple of Interface values (use "
                f"Node.create to parse text), not {quote(subnets, use_repr=True)}"
            )

    @classmethod
    def create(
        cls,
        name: str,
        *,
        subnets: Iterable[InterfaceLike] | InterfaceLike = (),
        addresses: Iterable[PrefixLike] | PrefixLike = (),
        uid: str | None = None,
    ) -> Node:
        """Build a node from text, ``ipaddress`` or ``netaddr`` values.

        The interface address of every subnet counts as one of the node's addresses. A single
        subnet or address may be given without a list.

        >>> Node.create("w", subnets="2001:db8::7/64", uid="5f1c").subnets
        (Interface('2001:db8::7/64'),)

        Raises:
            InvalidPrefixError: a name or uid that is not non-empty text, or a malformed
                address or subnet.
        """
        parsed_subnets = tuple([Interface.parse(s) for s in prefix_items(subnets, "subnets")])
        # Each address once, by family and value (sorted so, they sort as prefixes do).
        found: dict[tuple[int, int], Prefix] = {}
        for item in prefix_items(addresses, "addresses"):
            p = Prefix.coerce(item)
            if p.prefixlen != p.max_prefixlen:
                raise InvalidPrefixError(f"node address {quote(p)} must be a single address")
            found[p.version, p.value] = p
        for s in parsed_subnets:
            if (6, s.address) not in found:
                found[6, s.address] = s.address_prefix
        return cls(name, tuple([found[key] for key in sorted(found)]), parsed_subnets, uid)


@dataclass(frozen=True, slots=True, init=False, repr=False)
class FamilyAssignment:
    """How one family's pod prefix was chosen.

    Attributes:
        prefix: The pod prefix.
        source: ``"provider"`` (the node's own subnet), ``"cluster"`` (the cluster pool) or
            ``"restored"`` (adopted from what the node already held).
        pool: The pool it was carved from (None when restored outside every pool).
        reason: One sentence saying why (for a provider prefix, its decision's reason, written
            when it is read).
        decision: The policy's decision, for provider prefixes.

    Raises:
        InvalidPrefixError: neither a reason nor a decision to take it from.
    """

    prefix: Prefix
    source: Source
    pool: Prefix | None
    _reason: str | None  # None: the decision's
    decision: Decision | None

    def __init__(
        self,
        prefix: Prefix,
        source: Source,
        pool: Prefix | None,
        reason: str | None,
        decision: Decision | None = None,
    ) -> None:
        if reason is None and decision is None:
            raise InvalidPrefixError("a family assignment needs a reason or a decision")
        put = object.__setattr__
        put(self, "prefix", prefix)
        put(self, "source", source)
        put(self, "pool", pool)
        put(self, "_reason", reason)
        put(self, "decision", decision)

    @property
    def reason(self) -> str:
        """One sentence saying why this prefix was chosen."""
        if self._reason is not None or self.decision is None:
            return self._reason or ""
        return self.decision.reason

    def __repr__(self) -> str:
        return (
            f"FamilyAssignment(prefix={self.prefix!r}, source={self.source!r}, "
            f"pool={self.pool!r}, reason={self.reason!r}, decision={self.decision!r})"
        )


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


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What :meth:`NodeAllocator.restore` made of a node's existing podCIDRs.

    Attributes:
        node: The node's name.
        items: One ``(text, status, detail)`` per podCIDR, in the order given: status is
            ``"adopted"``, ``"conflict"`` (detail names the holder, or the prefix the node
            holds already for that family), ``"outside"`` (no pool holds it: it is adopted
            in a pool of its own, so that no pool added later hands it out) or
            ``"invalid"`` (not a CIDR the API server could hold in ``spec.podCIDRs``).
    """

    node: str
    items: tuple[tuple[str, RestoreStatus, str], ...]

    @property
    def ok(self) -> bool:
        """Whether every podCIDR was adopted (or lies outside every pool)."""
        return all(status in ("adopted", "outside") for _, status, _ in self.items)

    @property
    def adopted(self) -> tuple[str, ...]:
        """The texts of the podCIDRs the node now holds from this restore (or held already)."""
        return tuple(text for text, status, _ in self.items if status in ("adopted", "outside"))
