"""The shared vocabulary of mask policies: :class:`Interface`, :class:`Decision`, :class:`Policy`.

A node's *interface* is its IPv6 address together with the on-link prefix length its host
reports, such as ``2a02:a:152:202::100/121``. A *policy* turns it into a :class:`Decision`: the
pool to carve pod prefixes from, their length, the addresses the allocator must keep out of
them, and one sentence saying which rule applied. :class:`Policy` is the protocol every policy
meets; the policies themselves live in :mod:`ipv6alloc._policy`, and the node layer
(:mod:`ipv6alloc._node`) consumes decisions without knowing which policy made them.

Interfaces and decisions are immutable values, checked when they are built.

>>> i = Interface.parse("2a02:a:152:202::100/121")
>>> str(i.subnet), str(i.address_prefix)
('2a02:a:152:202::100/121', '2a02:a:152:202::100/128')
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import FrozenInstanceError, dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias

from ._errors import InvalidPrefixError, PolicyError, quote
from ._prefix import Prefix, _parse_address, address_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._prefix import AddressLike

__all__ = [
    "Decision",
    "Interface",
    "InterfaceLike",
    "Policy",
    "first_address",
]

#: Anything :meth:`Interface.parse` accepts: ``"address/len"`` text, an :class:`Interface`, an
#: ``ipaddress.IPv6Interface``, or an object whose text is ``address/len`` (``netaddr.IPNetwork``).
#: ``netaddr`` ships no type information (mypy's ``ignore_missing_imports``), so its objects are
#: ``Any`` to a type checker and pass without being listed; any other type is an error to mypy.
InterfaceLike: TypeAlias = "str | Interface | ipaddress.IPv6Interface"

_WIDTH = 128
_new = object.__new__
_ALL_ONES = (1 << _WIDTH) - 1
_LENGTH = re.compile(r"0|[1-9][0-9]{0,2}")


def _ipv4_message(value: object) -> str:
    return f"{quote(value)} is IPv4; provider subnets must be IPv6"


def _address(value: int) -> Prefix:
    """An IPv6 address as a /128 prefix."""
    return Prefix._trusted(6, value, _WIDTH)


def first_address(value: int, prefixlen: int) -> int:
    """The first address of the IPv6 ``/prefixlen`` block holding ``value``.

    Runtime complexity: O(1).

    >>> hex(first_address(0x20010DB8_0000_0000_0000_0000_0000_0007, 64))
    '0x20010db8000000000000000000000000'
    """
    shift = _WIDTH - prefixlen
    return value >> shift << shift


# -- the interface -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True, repr=False)
class Interface:
    """A node's IPv6 address with its on-link prefix length (host bits are the point).

    Build one with :meth:`parse`; the fields are plain ints.

    >>> i = Interface.parse("2001:db8:0:1::7/64")
    >>> i, str(i.subnet), str(i.address_prefix)
    (Interface('2001:db8:0:1::7/64'), '2001:db8:0:1::/64', '2001:db8:0:1::7/128')

    Raises:
        InvalidPrefixError: ``address`` or ``prefixlen`` is out of range for IPv6, or the
            address is IPv4-mapped (``::ffff:0:0/96``: a provider subnet is never one).
    """

    address: int
    prefixlen: int

    def __post_init__(self) -> None:
        if type(self.address) is not int or not 0 <= self.address <= _ALL_ONES:
            raise InvalidPrefixError(
                f"address value {quote(self.address)} is out of range for IPv6"
            )
        if type(self.prefixlen) is not int or not 0 <= self.prefixlen <= _WIDTH:
            raise InvalidPrefixError(
                f"prefix length {quote(self.prefixlen)} is out of range 0-128 for IPv6"
            )
        if self.address >> 32 == 0xFFFF:  # parse() says so quoting its input; this, built directly
            raise InvalidPrefixError(
                f"{quote(f'{address_text(6, self.address)}/{self.prefixlen}')} is an IPv4-mapped "
                "address; provider subnets must be IPv6"
            )

    @classmethod
    def parse(cls, value: InterfaceLike) -> Interface:
        """Read a node's interface from text, ``ipaddress`` or ``netaddr``.

        Text must be ``address/len`` with a decimal length (no netmask, no leading zeros, no
        white space). Runtime complexity: O(1).

        >>> Interface.parse("2A02:A:152:202::100/121")
        Interface('2a02:a:152:202::100/121')
        >>> import ipaddress
        >>> Interface.parse(ipaddress.IPv6Interface("2001:db8::7/64")).prefixlen
        64

        Args:
            value: ``"address/len"`` text, an :class:`Interface`, an ``ipaddress.IPv6Interface``,
                or an object whose text is ``address/len`` (such as ``netaddr.IPNetwork``).

        Returns:
            The interface.

        Raises:
            InvalidPrefixError: the value is not an IPv6 address with a prefix length: no
                ``/len``, IPv4, IPv4-mapped, a zone id, or a network without its address.
        """
        if isinstance(value, Interface):
            return value
        if type(value) is str:  # the usual, first: the checks below cost as much as parsing
            return cls._parse_text(value)
        if isinstance(value, ipaddress.IPv6Interface):
            if value.scope_id:
                raise InvalidPrefixError(f"{quote(value)} has a zone id; a subnet cannot have one")
            return cls._checked(int(value.ip), value.network.prefixlen, value)
        # Text, a netaddr object (Any to mypy) or garbage from an untyped caller: checked here.
        other: object = value
        if isinstance(
            other, ipaddress.IPv4Interface | ipaddress.IPv4Address | ipaddress.IPv4Network
        ):
            raise InvalidPrefixError(_ipv4_message(other))
        if isinstance(other, ipaddress.IPv6Address):
            raise InvalidPrefixError(
                f"{quote(other)} has no prefix length (expected the node's address/len)"
            )
        if isinstance(other, Prefix | ipaddress.IPv6Network):
            if isinstance(other, Prefix) and other.version == 4:
                raise InvalidPrefixError(_ipv4_message(other))
            raise InvalidPrefixError(
                f"{quote(other)} is a network; expected the node's address with its prefix "
                "length (address/len)"
            )
        if isinstance(other, bool | int | float | bytes | tuple | list | dict | type(None)):
            raise InvalidPrefixError(
                f"expected an interface (address/len), got {type(other).__name__} {quote(other)}"
            )
        return cls._parse_text(other if isinstance(other, str) else str(other))

    @classmethod
    def _parse_text(cls, text: str) -> Interface:
        address, slash, length = text.partition("/")
        if "%" in address:
            raise InvalidPrefixError(f"{quote(text)} has a zone id; a subnet cannot have one")
        if not slash:
            raise InvalidPrefixError(
                f"{quote(text)} has no prefix length (expected the node's address/len)"
            )
        try:
            version, value = _parse_address(address, text)  # the prefix parser's, as fast
        except InvalidPrefixError:
            version = 0
        if version == 4:
            raise InvalidPrefixError(_ipv4_message(text))
        if version != 6:
            raise InvalidPrefixError(
                f"{quote(text)} is not a valid IPv6 address with a prefix length"
            )
        if not _LENGTH.fullmatch(length) or int(length) > _WIDTH:
            raise InvalidPrefixError(
                f"{quote(text)} has an invalid prefix length {quote(length)} "
                "(expected 0-128 without leading zeros)"
            )
        return cls._checked(value, int(length), text)

    @classmethod
    def _checked(cls, address: int, prefixlen: int, original: object) -> Interface:
        if address >> 32 == 0xFFFF:
            raise InvalidPrefixError(
                f"{quote(original)} is an IPv4-mapped address; provider subnets must be IPv6"
            )
        return cls(address, prefixlen)

    @property
    def subnet(self) -> Prefix:
        """The on-link subnet: the address with its host bits cleared.

        >>> Interface.parse("2a02:a:152:202::100/121").subnet
        Prefix('2a02:a:152:202::100/121')
        """
        return Prefix._trusted(6, first_address(self.address, self.prefixlen), self.prefixlen)

    @property
    def address_prefix(self) -> Prefix:
        """The node's address as a /128 prefix.

        >>> Interface.parse("2001:db8::7/64").address_prefix
        Prefix('2001:db8::7/128')
        """
        return Prefix._trusted(6, self.address, _WIDTH)

    def __str__(self) -> str:
        return f"{address_text(6, self.address)}/{self.prefixlen}"

    def __repr__(self) -> str:
        return f"Interface({str(self)!r})"


# -- the decision --------------------------------------------------------------------------------


class Decision:
    """What a policy decided for one interface: carve ``/prefixlen`` blocks from ``pool``.

    ``reserved`` lists the addresses (as sorted, unique /128 prefixes inside ``pool``) that no
    pod prefix may contain; ``reason`` says in one sentence which rule applied, and ``policy``
    names the policy. ``reserve_node_addresses`` tells the node allocator whether to keep the
    node's own addresses out of every pod prefix (True, the default) or to reserve nothing for
    the node, as the reference tool does (:class:`~ipv6alloc.TalosPolicy` says False). It is
    part of the decision, not of the policy, so a composite policy such as
    :class:`~ipv6alloc.ProviderPolicy` behaves as the rule that applied.

    A frozen value, compared and hashed by its fields. The library's own policies write the
    ``reason`` only when it is read (about 4.5 us and 190 bytes less per node for the node
    allocator, which keeps a decision per node and reads few reasons); a decision built by
    hand takes it as text.

    >>> from ipv6alloc import TalosPolicy
    >>> d = TalosPolicy().choose("2001:db8:0:1::7/64")
    >>> d.pool, d.prefixlen, d.num_prefixes, d.reserved, d.policy, d.reserve_node_addresses
    (Prefix('2001:db8:0:1::/64'), 80, 65536, (), 'talos', False)

    Raises:
        PolicyError: the fields contradict each other (the pool is not IPv6, does not hold the
            node's address, is longer than ``prefixlen``, or ``reserved`` is not sorted, unique
            /128 prefixes inside the pool).
    """

    __slots__ = (
        "_reason",
        "_reserved",
        "interface",
        "policy",
        "pool",
        "prefixlen",
        "reserve_node_addresses",
    )
    __match_args__ = (
        "interface",
        "pool",
        "prefixlen",
        "reason",
        "reserved",
        "policy",
        "reserve_node_addresses",
    )

    interface: Interface
    pool: Prefix
    prefixlen: int
    policy: str
    reserve_node_addresses: bool
    _reason: str | _Explainer
    # The reserved addresses as integers (IPv6 /128s): a node allocator keeps a decision per
    # node, and ints are three objects fewer for the garbage collector to trace than a tuple
    # of prefixes (see NodeAllocator, benchmark S9).
    _reserved: tuple[int, ...]

    def __init__(  # noqa: PLR0917  # the positional order of the former dataclass
        self,
        interface: Interface,
        pool: Prefix,
        prefixlen: int,
        reason: str,
        reserved: tuple[Prefix, ...],
        policy: str,
        reserve_node_addresses: bool = True,
    ) -> None:
        given: object = reason
        if not isinstance(given, str):
            raise PolicyError(
                f"a decision's reason must be text, not {quote(given, use_repr=True)}"
            )
        values = []
        items: tuple[object, ...] = tuple(reserved)  # checked at run time: callers may pass any
        for item in items:
            if not isinstance(item, Prefix) or item.version != 6 or item.prefixlen != _WIDTH:
                raise PolicyError(f"reserved entry {quote(item)} must be an IPv6 /128")
            values.append(item.value)
        self._fill(
            interface, pool, prefixlen, reason, tuple(values), policy, reserve_node_addresses
        )

    @classmethod
    def _explained(  # noqa: PLR0917  # the constructor's order, for the policies
        cls,
        interface: Interface,
        pool: Prefix,
        prefixlen: int,
        reason: str | _Explainer,
        reserved: tuple[int, ...],
        policy: str,
        reserve_node_addresses: bool = True,
    ) -> Decision:
        """A decision whose reason ``reason._explain(decision)`` writes when it is read.

        For the library's own policies, whose decisions agree by construction (a property test
        runs :meth:`_check` on theirs), so it is not run here; and for a decision built again
        from the fields of one that was checked (the node allocator's), whose ``reason`` may
        then be text. ``reserved`` holds the reserved addresses' integer values.
        """
        decision = _new(cls)
        decision._fill(
            interface, pool, prefixlen, reason, reserved, policy, reserve_node_addresses, False
        )
        return decision

    def _fill(  # noqa: PLR0917  # the constructor's order
        self,
        interface: Interface,
        pool: Prefix,
        prefixlen: int,
        reason: str | _Explainer,
        reserved: tuple[int, ...],
        policy: str,
        reserve_node_addresses: bool,
        check: bool = True,  # internal, positional like the rest
    ) -> None:
        """Set the fields, then (with ``check``) check that they agree."""
        put = object.__setattr__
        put(self, "interface", interface)
        put(self, "pool", pool)
        put(self, "prefixlen", prefixlen)
        put(self, "_reason", reason)
        put(self, "_reserved", reserved)
        put(self, "policy", policy)
        put(self, "reserve_node_addresses", reserve_node_addresses)
        if check:
            self._check()

    def _check(self) -> None:
        if type(self.reserve_node_addresses) is not bool:
            raise PolicyError(
                f"reserve_node_addresses must be True or False, not "
                f"{quote(self.reserve_node_addresses, use_repr=True)}"
            )
        pool = self.pool
        if pool.version != 6:
            raise PolicyError(f"decision pool {quote(pool)} must be IPv6")
        if type(self.prefixlen) is not int or not pool.prefixlen <= self.prefixlen <= _WIDTH:
            raise PolicyError(
                f"decision prefix length {quote(self.prefixlen)} must be between "
                f"{pool.prefixlen} (the pool's) and 128"
            )
        if not pool.value <= self.interface.address <= pool.last:
            raise PolicyError(
                f"decision pool {quote(pool)} does not hold the node address "
                f"{quote(address_text(6, self.interface.address))}"
            )
        previous = -1
        for value in self._reserved:
            if not pool.value <= value <= pool.last:
                raise PolicyError(
                    f"reserved address {quote(_address(value))} lies outside the pool {quote(pool)}"
                )
            if value <= previous:
                raise PolicyError(
                    f"reserved addresses must be sorted and unique, {quote(_address(value))} is not"
                )
            previous = value

    @property
    def reserved(self) -> tuple[Prefix, ...]:
        """The addresses kept out of pod prefixes, as sorted /128 prefixes inside ``pool``."""
        return tuple([Prefix._trusted(6, value, _WIDTH) for value in self._reserved])

    @property
    def reason(self) -> str:
        """One sentence saying which rule applied (written each time it is read, never stored)."""
        reason = self._reason
        return reason if isinstance(reason, str) else reason._explain(self)

    def replace(self, *, reason: str | None = None, policy: str | None = None) -> Decision:
        """A copy with another ``reason`` or ``policy`` (what a composite policy adds)."""
        return Decision(
            self.interface,
            self.pool,
            self.prefixlen,
            self.reason if reason is None else reason,
            self.reserved,
            self.policy if policy is None else policy,
            self.reserve_node_addresses,
        )

    def _fields(self) -> tuple[object, ...]:
        return (
            self.interface,
            self.pool,
            self.prefixlen,
            self.reason,
            self.reserved,
            self.policy,
            self.reserve_node_addresses,
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not Decision:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        # Every field but the reason (equal decisions still hash alike): no reason is written.
        return hash(
            (
                self.interface,
                self.pool,
                self.prefixlen,
                self._reserved,
                self.policy,
                self.reserve_node_addresses,
            )
        )

    def __repr__(self) -> str:
        return (
            f"Decision(interface={self.interface!r}, pool={self.pool!r}, "
            f"prefixlen={self.prefixlen!r}, reason={self.reason!r}, "
            f"reserved={self.reserved!r}, policy={self.policy!r}, "
            f"reserve_node_addresses={self.reserve_node_addresses!r})"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[object, ...]:
        return (Decision, self._fields())

    @property
    def num_prefixes(self) -> int:
        """How many pod prefixes of length ``prefixlen`` the pool holds (reserved or not).

        >>> from ipv6alloc import SafePolicy
        >>> SafePolicy().choose("2a02:a:152:202::100/121").num_prefixes
        2
        """
        return 1 << (self.prefixlen - self.pool.prefixlen)


class _Explainer(Protocol):
    """Writes a decision's reason when it is read (the library's own policies)."""

    def _explain(self, decision: Decision) -> str: ...


# -- the protocol --------------------------------------------------------------------------------


class Policy(Protocol):
    """What every mask policy provides: a ``name`` and :meth:`choose`.

    >>> from ipv6alloc import FixedPolicy
    >>> policy: Policy = FixedPolicy(80)
    >>> policy.name, policy.choose("2001:db8::7/64").prefixlen
    ('fixed', 80)
    """

    @property
    def name(self) -> str:
        """A short name, recorded in each :class:`Decision` (``"safe"``, ``"fixed"``, ...)."""
        ...

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        """Decide the pool and pod prefix length for one interface.

        Args:
            interface: the node's address with its on-link prefix length.
            reserved: addresses to keep out of pod prefixes (gateways, other nodes); those
                outside the pool are ignored.

        Returns:
            The decision.

        Raises:
            PolicyError: the policy cannot place pod prefixes in this subnet.
            InvalidPrefixError: ``interface`` or a ``reserved`` entry is not valid.
        """
        ...
