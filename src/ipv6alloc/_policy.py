"""Mask policies: from a node's interface to the pool and length of its pod prefixes.

A policy turns a node's :class:`~ipv6alloc._interface.Interface` (its IPv6 address with the
on-link prefix length, such as ``2a02:a:152:202::100/121``) into a
:class:`~ipv6alloc._interface.Decision`: the pool to carve pod prefixes from, their length, the
addresses the allocator must keep out of them, and one sentence saying which rule applied. A
policy that cannot place pods in the subnet raises :class:`~ipv6alloc.PolicyError` and
says why. Those types and the :class:`~ipv6alloc._interface.Policy` protocol live in
:mod:`ipv6alloc._interface`; this module holds the policies.

Policies are pure functions of their inputs: no I/O, no state, the same answer every time.

- :class:`TalosPolicy` reproduces the fixed table of the Talos cloud controller manager
  (``pkg/nodeipam/ipam/cloud_allocator.go`` in siderolabs/talos-cloud-controller-manager).
- :class:`SafePolicy` (the default) follows that table but keeps the node's address and the
  subnet-router anycast address out of pod prefixes, and splits /120 to /126 subnets in half.
- :class:`FixedPolicy`, :class:`ExtraBitsPolicy` and :class:`PodsPolicy` size pod prefixes from a
  length, a number of extra bits or a number of pods.
- :class:`~ipv6alloc._provider.ProviderPolicy` (in :mod:`ipv6alloc._provider`) picks one of
  those per provider prefix, longest match first.

>>> SafePolicy().choose("2a02:a:152:202::100/121").reason  # doctest: +NORMALIZE_WHITESPACE
'2a02:a:152:202::100/121 is a /121, which the reference table hands out whole: pods get the
upper /122 half 2a02:a:152:202::140/122 instead, because the lower half holds the node address
and the subnet-router anycast address'
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING, Protocol

from ._errors import ConfigurationError, InvalidPrefixError, PolicyError, quote
from ._interface import Decision, Interface, first_address
from ._prefix import Prefix, prefix_items

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._interface import InterfaceLike
    from ._prefix import AddressLike

__all__ = [
    "ExtraBitsPolicy",
    "FixedPolicy",
    "PodsPolicy",
    "SafePolicy",
    "TalosPolicy",
]

_WIDTH = 128


# -- shared rules --------------------------------------------------------------------------------


def _caller_reserved(reserved: Iterable[AddressLike]) -> list[int]:
    """The IPv6 addresses of ``reserved`` as ints; IPv4 ones are dropped (never in a pool).

    A single address (text, a :class:`Prefix`, an ``ipaddress`` address) counts as one.
    """
    values: list[int] = []
    for item in prefix_items(reserved, "reserved"):
        prefix = Prefix.coerce(item)
        if prefix.prefixlen != prefix.max_prefixlen:
            raise InvalidPrefixError(
                f"reserved entry {quote(prefix)} is a network; reserved entries are addresses"
            )
        if prefix.version == 6:
            values.append(prefix.value)
    return values


def _reserve(interface: Interface, pool: Prefix, caller: Iterable[int]) -> tuple[int, ...]:
    """Node address, pool's first address and the caller's addresses inside ``pool``, sorted."""
    lo, hi = pool.value, pool.last
    return tuple(sorted(a for a in {interface.address, lo, *caller} if lo <= a <= hi))


def _require_free_block(
    interface: Interface, pool: Prefix, prefixlen: int, reserved: tuple[int, ...]
) -> None:
    """Raise PolicyError when every ``/prefixlen`` block of ``pool`` holds a reserved address."""
    blocks = 1 << (prefixlen - pool.prefixlen)
    if blocks > len(reserved):
        return
    taken = {first_address(r, prefixlen) for r in reserved}
    if len(taken) < blocks:
        return
    which = f"both /{prefixlen} halves" if blocks == 2 else f"all {blocks} /{prefixlen} blocks"
    raise PolicyError(
        f"{quote(str(interface))}: {which} of {pool} hold a reserved address (the node "
        "address, the subnet-router anycast address or a caller's), so no pod prefix is free"
    )


def _no_room(interface: Interface) -> PolicyError:
    return PolicyError(
        f"{quote(str(interface))} is a /128: it has no room for pods "
        "(the reference tool skips such nodes)"
    )


def _count(n: int) -> str:
    return "1 reserved address" if n == 1 else f"{n} reserved addresses"


# -- the reference table -------------------------------------------------------------------------


def _talos(interface: Interface) -> tuple[Prefix, int]:
    """The reference table: ``(pool, pod prefix length)``, or PolicyError."""
    p = interface.prefixlen
    if p == _WIDTH:
        raise _no_room(interface)
    if p >= 124:
        raise PolicyError(
            f"{quote(str(interface))} is a /{p}: CIDRv6 is too small "
            "(the reference table needs a /123 or shorter)"
        )
    if p < 64:
        return Prefix._trusted(6, first_address(interface.address, 64), 64), 80
    if p >= 120:
        return interface.subnet, p
    return interface.subnet, p + _talos_extra(p)


def _talos_extra(p: int) -> int:
    """How many bits the reference table adds to a /64-/119 subnet."""
    return 16 if p < 100 else 8 if p < 106 else 4 if p < 112 else 2 if p < 119 else 1


def _talos_reason(interface: Interface, pool: Prefix) -> str:
    """Why the reference table gives what :func:`_talos` returns."""
    p = interface.prefixlen
    if p < 64:
        return (
            f"{interface} is a /{p}, shorter than /64: pods get /80 blocks from {pool}, "
            "the /64 holding the address (the reference table)"
        )
    if p >= 120:
        whole = f"pods get the whole subnet as one /{p} block (the reference table)"
        return f"{interface} is a /{p}: {whole}"
    extra = _talos_extra(p)
    blocks = f"pods get /{p + extra} blocks from it (P+{extra}, the reference table)"
    return f"{interface} is a /{p}: {blocks}"


@dataclass(frozen=True, slots=True, repr=False)
class TalosPolicy:
    """The Talos cloud controller manager's fixed table, exactly; reserves nothing.

    Keyed on the subnet length P: below /64 the pool is the /64 holding the address and pods get
    /80s; /64-/99 get P+16, /100-/105 P+8, /106-/111 P+4, /112-/118 P+2, /119 a /120, and
    /120-/123 the whole subnet. /124-/127 are refused ("CIDRv6 is too small") and /128 has no
    room. Pod prefixes may contain the node's own address: use :class:`SafePolicy` to avoid it.

    >>> d = TalosPolicy().choose("2a02:a:152:202::100/121")
    >>> d.pool, d.prefixlen, d.reserved
    (Prefix('2a02:a:152:202::100/121'), 121, ())
    >>> TalosPolicy().choose("2001:db8::1/126")
    Traceback (most recent call last):
    ...
    ipv6alloc.PolicyError: '2001:db8::1/126' is a /126: CIDRv6 is too small \
(the reference table needs a /123 or shorter)
    """

    @property
    def name(self) -> str:
        """``"talos"``."""
        return "talos"

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        """Apply the reference table; ``reserved`` is validated but never used.

        Runtime complexity: O(len(reserved)).

        >>> TalosPolicy().choose("2001:db8::7/48").pool
        Prefix('2001:db8::/64')

        Raises:
            PolicyError: the subnet is a /124 to /128.
            InvalidPrefixError: ``interface`` or a ``reserved`` entry is not valid.
        """
        iface = Interface.parse(interface)
        _caller_reserved(reserved)
        pool, prefixlen = _talos(iface)
        return Decision._explained(
            iface, pool, prefixlen, self, (), self.name, reserve_node_addresses=False
        )

    def _explain(self, decision: Decision) -> str:
        """The reason of one of this policy's decisions, written when it is read."""
        return _talos_reason(decision.interface, decision.pool)

    def __repr__(self) -> str:
        return "TalosPolicy()"


# -- the default policy --------------------------------------------------------------------------


def _check_int(name: str, value: object, low: int, high: int, high_text: str = "") -> int:
    if type(value) is not int or not low <= value <= high:
        raise ConfigurationError(
            f"{name} must be an integer from {low} to {high_text or high}, not {quote(value)}"
        )
    return value


@dataclass(frozen=True, slots=True, repr=False)
class SafePolicy:
    """The reference table, made safe: the library's default policy.

    Differences from :class:`TalosPolicy`:

    - ``reserved`` holds the node's address, the pool's first address (the subnet-router
      anycast address, RFC 4291 section 2.6.1) and every caller address inside the pool; the
      allocator skips blocks that hold one.
    - A /120 to /126 subnet, which the reference hands out whole or refuses, is split in half:
      pods get the half without reserved addresses, as long as a half holds at least
      ``min_pod_addresses`` addresses.
    - Any pod prefix holding fewer than ``min_pod_addresses`` addresses is refused.

    >>> d = SafePolicy().choose("2a02:a:152:202::100/121")
    >>> d.pool, d.prefixlen, d.reserved
    (Prefix('2a02:a:152:202::100/121'), 122, (Prefix('2a02:a:152:202::100/128'),))
    >>> SafePolicy(min_pod_addresses=4).choose("2001:db8::3/124").prefixlen
    125

    Args:
        min_pod_addresses: the fewest addresses a pod prefix may hold: a power of two from 1
            to 2**64 (default 16).

    Raises:
        ConfigurationError: ``min_pod_addresses`` is not such a power of two.
    """

    min_pod_addresses: int = 16

    def __post_init__(self) -> None:
        value = _check_int("min_pod_addresses", self.min_pod_addresses, 1, 1 << 64, "2**64")
        if value & (value - 1):
            raise ConfigurationError(
                f"min_pod_addresses must be a power of two, not {quote(value)}"
            )

    @property
    def name(self) -> str:
        """``"safe"``."""
        return "safe"

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        """Apply the reference table with reserved addresses and split small subnets in half.

        Runtime complexity: O(r log r) for r ``reserved`` addresses.

        >>> d = SafePolicy().choose("2001:db8:0:1::7/64", reserved=["2001:db8:0:1::1", "10.0.0.1"])
        >>> [str(r) for r in d.reserved]
        ['2001:db8:0:1::/128', '2001:db8:0:1::1/128', '2001:db8:0:1::7/128']

        Raises:
            PolicyError: the subnet is a /127 or /128, the pod prefixes would hold fewer than
                ``min_pod_addresses`` addresses, or every candidate block holds a reserved
                address.
            InvalidPrefixError: ``interface`` or a ``reserved`` entry is not valid.
        """
        iface = Interface.parse(interface)
        caller = _caller_reserved(reserved)
        p = iface.prefixlen
        if p == _WIDTH:
            raise _no_room(iface)
        if p == _WIDTH - 1:
            raise PolicyError(
                f"{quote(str(iface))} is a /127: too small for pods "
                "(its halves are single addresses)"
            )
        if p < 120:
            pool, prefixlen = _talos(iface)
            size = 1 << (_WIDTH - prefixlen)
            if size < self.min_pod_addresses:
                raise PolicyError(
                    f"{quote(str(iface))} is a /{p}: its /{prefixlen} pod prefixes "
                    f"(the reference table) hold {size} addresses, "
                    f"fewer than min_pod_addresses={self.min_pod_addresses}"
                )
            held = _reserve(iface, pool, caller)
            _require_free_block(iface, pool, prefixlen, held)
            return Decision._explained(iface, pool, prefixlen, self, held, self.name)
        prefixlen = p + 1
        half = 1 << (_WIDTH - prefixlen)
        if half < self.min_pod_addresses:
            raise PolicyError(
                f"{quote(str(iface))} is a /{p}: its /{prefixlen} halves hold {half} "
                f"addresses each, fewer than min_pod_addresses={self.min_pod_addresses}"
            )
        pool = iface.subnet
        held = _reserve(iface, pool, caller)
        _require_free_block(iface, pool, prefixlen, held)
        return Decision._explained(iface, pool, prefixlen, self, held, self.name)

    def _explain(self, decision: Decision) -> str:
        """The reason of one of this policy's decisions, written when it is read."""
        iface, pool, prefixlen, held = (
            decision.interface,
            decision.pool,
            decision.prefixlen,
            decision._reserved,
        )
        p = iface.prefixlen
        if p < 120:
            reason = _talos_reason(iface, pool)
            return f"{reason}, except blocks holding one of its {_count(len(held))}"
        # The lower half always holds the subnet-router anycast address: pods take the upper.
        upper = Prefix._trusted(6, pool.value + (1 << (_WIDTH - prefixlen)), prefixlen)
        lower_holds = []
        if iface.address < upper.value:
            lower_holds.append("the node address")
        lower_holds.append("the subnet-router anycast address")
        others = sum(1 for r in held if r < upper.value and r not in (iface.address, pool.value))
        if others:
            lower_holds.append(f"{others} other reserved address{'es' if others > 1 else ''}")
        holds = lower_holds[0]
        if len(lower_holds) > 1:
            holds = ", ".join(lower_holds[:-1]) + " and " + lower_holds[-1]
        verdict = "hands out whole" if p < 124 else "refuses as too small"
        return (
            f"{iface} is a /{p}, which the reference table {verdict}: pods get the upper "
            f"/{prefixlen} half {upper} instead, because the lower half holds {holds}"
        )

    def __repr__(self) -> str:
        if self.min_pod_addresses == 16:
            return "SafePolicy()"
        return f"SafePolicy(min_pod_addresses={self.min_pod_addresses})"


# -- length policies -----------------------------------------------------------------------------


def _check_bounds(min_prefixlen: object, max_prefixlen: object) -> None:
    low = _check_int("min_prefixlen", min_prefixlen, 0, _WIDTH)
    high = _check_int("max_prefixlen", max_prefixlen, 0, _WIDTH)
    if low > high:
        raise ConfigurationError(
            f"min_prefixlen {quote(low)} must not be greater than max_prefixlen {quote(high)}"
        )


def _bounds_repr(min_prefixlen: int, max_prefixlen: int) -> str:
    text = ""
    if min_prefixlen != 0:
        text += f", min_prefixlen={min_prefixlen}"
    if max_prefixlen != _WIDTH:
        text += f", max_prefixlen={max_prefixlen}"
    return text


class _LengthPolicy(Protocol):
    """What :func:`_carve` needs of a length policy (Fixed, ExtraBits, Pods)."""

    @property
    def name(self) -> str: ...

    @property
    def min_prefixlen(self) -> int: ...

    @property
    def max_prefixlen(self) -> int: ...

    def _wanted(self, p: int) -> tuple[int, str]: ...

    def _explain(self, decision: Decision) -> str: ...


def _lengths(policy: _LengthPolicy, p: int) -> tuple[int, str]:
    """The clamped pod prefix length for a /``p`` subnet, and a short text of how it came.

    ``policy._wanted`` maps P to the length before clamping and how it was computed.
    """
    length, how = policy._wanted(p)
    prefixlen = min(max(length, policy.min_prefixlen), policy.max_prefixlen)
    if prefixlen != length:
        how += f" = /{length}" if how.startswith("P+") else ""
        how += f", clamped to /{prefixlen}"
    return prefixlen, how


def _carve(
    policy: _LengthPolicy, interface: InterfaceLike, reserved: Iterable[AddressLike]
) -> Decision:
    """Shared body of the length policies: clamp, check the fit, reserve."""
    iface = Interface.parse(interface)
    caller = _caller_reserved(reserved)
    p = iface.prefixlen
    if p == _WIDTH:
        raise _no_room(iface)
    prefixlen, how = _lengths(policy, p)
    if prefixlen < p:
        raise PolicyError(
            f"{quote(str(iface))} is a /{p}: a /{prefixlen} pod prefix ({how}) does not fit in "
            f"it; pod prefixes must be /{p} or longer"
        )
    if prefixlen == p:
        raise PolicyError(
            f"{quote(str(iface))} is a /{p}: a /{prefixlen} pod prefix ({how}) would be the "
            f"whole subnet, which holds the node address; use a length longer than /{p}"
        )
    pool = iface.subnet
    held = _reserve(iface, pool, caller)
    _require_free_block(iface, pool, prefixlen, held)
    return Decision._explained(iface, pool, prefixlen, policy, held, policy.name)


def _carve_reason(policy: _LengthPolicy, decision: Decision) -> str:
    """The reason of a decision :func:`_carve` made, written when it is read."""
    iface = decision.interface
    p = iface.prefixlen
    _, how = _lengths(policy, p)
    return (
        f"{iface} is a /{p}: pods get /{decision.prefixlen} blocks from it ({how}), "
        f"except blocks holding one of its {_count(len(decision._reserved))}"
    )


@dataclass(frozen=True, slots=True, repr=False)
class FixedPolicy:
    """Pod prefixes of one fixed length, carved from the whole subnet.

    Unlike the reference table, a /48 or /56 subnet is a pool of its own: no 16-bit cap.
    Reserves like :class:`SafePolicy`.

    >>> d = FixedPolicy(80).choose("2001:db8::7/48")
    >>> d.pool, d.prefixlen, d.num_prefixes
    (Prefix('2001:db8::/48'), 80, 4294967296)

    Args:
        prefixlen: the pod prefix length (0-128).
        min_prefixlen: lower bound the length is clamped to.
        max_prefixlen: upper bound the length is clamped to.

    Raises:
        ConfigurationError: a length is not an integer from 0 to 128, or min > max.
    """

    prefixlen: int
    _: KW_ONLY
    min_prefixlen: int = 0
    max_prefixlen: int = _WIDTH

    def __post_init__(self) -> None:
        _check_int("prefixlen", self.prefixlen, 0, _WIDTH)
        _check_bounds(self.min_prefixlen, self.max_prefixlen)

    @property
    def name(self) -> str:
        """``"fixed"``."""
        return "fixed"

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        """Carve ``/prefixlen`` blocks from the subnet.

        Runtime complexity: O(r log r) for r ``reserved`` addresses.

        >>> FixedPolicy(64).choose("2001:db8::7/80")
        Traceback (most recent call last):
        ...
        ipv6alloc.PolicyError: '2001:db8::7/80' is a /80: a /64 pod prefix (fixed /64) \
does not fit in it; pod prefixes must be /80 or longer

        Raises:
            PolicyError: the length is shorter than or equal to the subnet's, the subnet is a
                /128, or every block holds a reserved address.
            InvalidPrefixError: ``interface`` or a ``reserved`` entry is not valid.
        """
        return _carve(self, interface, reserved)

    def _wanted(self, p: int) -> tuple[int, str]:
        return self.prefixlen, f"fixed /{self.prefixlen}"

    def _explain(self, decision: Decision) -> str:
        return _carve_reason(self, decision)

    def __repr__(self) -> str:
        bounds = _bounds_repr(self.min_prefixlen, self.max_prefixlen)
        return f"FixedPolicy({self.prefixlen}{bounds})"


@dataclass(frozen=True, slots=True, repr=False)
class ExtraBitsPolicy:
    """Pod prefixes ``bits`` longer than the subnet: 2**bits of them per node.

    Reserves like :class:`SafePolicy`.

    >>> ExtraBitsPolicy(16).choose("2001:db8::7/96").prefixlen
    112
    >>> ExtraBitsPolicy(16, max_prefixlen=120).choose("2001:db8::7/112").reason
    '2001:db8::7/112 is a /112: pods get /120 blocks from it (P+16 = /128, clamped to /120), \
except blocks holding one of its 2 reserved addresses'

    Args:
        bits: how many bits longer than the subnet pod prefixes are (1-128).
        min_prefixlen: lower bound the length is clamped to.
        max_prefixlen: upper bound the length is clamped to.

    Raises:
        ConfigurationError: ``bits`` is not from 1 to 128, a bound is not from 0 to 128, or
            min > max.
    """

    bits: int
    _: KW_ONLY
    min_prefixlen: int = 0
    max_prefixlen: int = _WIDTH

    def __post_init__(self) -> None:
        _check_int("bits", self.bits, 1, _WIDTH)
        _check_bounds(self.min_prefixlen, self.max_prefixlen)

    @property
    def name(self) -> str:
        """``"extra-bits"``."""
        return "extra-bits"

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        """Carve ``/P+bits`` blocks from the subnet (clamped to the bounds).

        Runtime complexity: O(r log r) for r ``reserved`` addresses.

        >>> ExtraBitsPolicy(8).choose("2001:db8::7/64").prefixlen
        72

        Raises:
            PolicyError: the clamped length is shorter than or equal to the subnet's, the
                subnet is a /128, or every block holds a reserved address.
            InvalidPrefixError: ``interface`` or a ``reserved`` entry is not valid.
        """
        return _carve(self, interface, reserved)

    def _wanted(self, p: int) -> tuple[int, str]:
        return p + self.bits, f"P+{self.bits}"

    def _explain(self, decision: Decision) -> str:
        return _carve_reason(self, decision)

    def __repr__(self) -> str:
        bounds = _bounds_repr(self.min_prefixlen, self.max_prefixlen)
        return f"ExtraBitsPolicy({self.bits}{bounds})"


@dataclass(frozen=True, slots=True, repr=False)
class PodsPolicy:
    """Pod prefixes just big enough for ``max_pods`` addresses: /(128 - ceil(log2(max_pods))).

    Reserves like :class:`SafePolicy`.

    >>> PodsPolicy(110).choose("2001:db8::7/64").prefixlen
    121
    >>> PodsPolicy(256).choose("2001:db8::7/64").prefixlen
    120

    Args:
        max_pods: how many pod addresses each prefix must hold (1 to 2**128).
        min_prefixlen: lower bound the length is clamped to.
        max_prefixlen: upper bound the length is clamped to.

    Raises:
        ConfigurationError: ``max_pods`` is out of range, a bound is not from 0 to 128, or
            min > max.
    """

    max_pods: int
    _: KW_ONLY
    min_prefixlen: int = 0
    max_prefixlen: int = _WIDTH

    def __post_init__(self) -> None:
        _check_int("max_pods", self.max_pods, 1, 1 << _WIDTH, "2**128")
        _check_bounds(self.min_prefixlen, self.max_prefixlen)

    @property
    def name(self) -> str:
        """``"pods"``."""
        return "pods"

    def choose(self, interface: InterfaceLike, reserved: Iterable[AddressLike] = ()) -> Decision:
        """Carve the longest blocks holding ``max_pods`` addresses from the subnet.

        Runtime complexity: O(r log r) for r ``reserved`` addresses.

        >>> PodsPolicy(110).choose("2001:db8::7/121")
        Traceback (most recent call last):
        ...
        ipv6alloc.PolicyError: '2001:db8::7/121' is a /121: a /121 pod prefix \
(/121 holds 110 pods) would be the whole subnet, which holds the node address; use a length \
longer than /121

        Raises:
            PolicyError: the clamped length is shorter than or equal to the subnet's, the
                subnet is a /128, or every block holds a reserved address.
            InvalidPrefixError: ``interface`` or a ``reserved`` entry is not valid.
        """
        return _carve(self, interface, reserved)

    def _wanted(self, p: int) -> tuple[int, str]:
        length = _WIDTH - (self.max_pods - 1).bit_length()
        return length, f"/{length} holds {self.max_pods} pods"

    def _explain(self, decision: Decision) -> str:
        return _carve_reason(self, decision)

    def __repr__(self) -> str:
        bounds = _bounds_repr(self.min_prefixlen, self.max_prefixlen)
        return f"PodsPolicy({self.max_pods}{bounds})"
