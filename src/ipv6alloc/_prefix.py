"""The :class:`Prefix` value type: an IPv4 or IPv6 prefix as ``(version, value, prefixlen)``.

All math is on plain integers; ``ipaddress`` objects appear only when converting at the edge.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from ._bits import WIDTH
from ._errors import InvalidPrefixError, quote

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, TypeAlias

__all__ = ["AddressLike", "Prefix", "PrefixLike", "address_text", "prefix_items"]

#: Anything accepted where a prefix is expected: text, a :class:`Prefix`, an ``ipaddress``
#: network or address, or a ``netaddr`` ``IPNetwork``/``IPAddress`` (read through its text).
#: An address counts as its /128 (IPv6) or /32 (IPv4). ``netaddr`` ships no type information
#: (mypy's ``ignore_missing_imports``), so its objects are ``Any`` to a type checker and pass
#: without being listed; any other type is an error to mypy, and to :meth:`Prefix.coerce` at
#: run time unless its text is a prefix or an address.
PrefixLike: TypeAlias = (
    "str | Prefix | ipaddress.IPv4Network | ipaddress.IPv6Network"
    " | ipaddress.IPv4Address | ipaddress.IPv6Address"
)
#: Anything accepted where an address is expected: text, a :class:`Prefix` (a /128 or /32),
#: an ``ipaddress`` address, or a ``netaddr`` ``IPAddress`` (``Any`` to mypy, as above).
AddressLike: TypeAlias = "str | Prefix | ipaddress.IPv4Address | ipaddress.IPv6Address"

#: The text of every prefix length (no leading zeros) and its value.
_LENGTHS = {str(length): length for length in range(129)}
#: Runs of two or more zero groups in uncompressed IPv6 text.
_ZERO_RUNS = re.compile(r"(?:^|:)0(?::0)+(?=:|$)")
_new = object.__new__
_NETWORKS = (ipaddress.IPv4Network, ipaddress.IPv6Network)
_ADDRESSES = (ipaddress.IPv4Address, ipaddress.IPv6Address)
_INTERFACES = (ipaddress.IPv4Interface, ipaddress.IPv6Interface)
#: Types that are never read as a prefix or an address, not even through their text.
_NOT_TEXT = (bool, int, float, complex, bytes, bytearray, tuple, list, dict, set, frozenset)


def address_text(version: int, value: int) -> str:
    """Canonical text of an address, the same on every Python version.

    RFC 5952 for IPv6: lowercase, the longest run of two or more zero groups compressed (the
    first of equal runs), IPv4-mapped addresses in dotted form (RFC 5952 section 5). Dotted
    decimal for IPv4.

    >>> address_text(6, 0x20010DB8 << 96 | 1)
    '2001:db8::1'
    >>> address_text(6, 0x20010DB8000000000001 << 48)
    '2001:db8:0:0:1::'
    >>> address_text(6, 0xFFFF0A000001)
    '::ffff:10.0.0.1'
    >>> address_text(4, 167772160)
    '10.0.0.0'
    """
    if version == 4:
        return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"
    if value >> 32 == 0xFFFF:
        return "::ffff:" + address_text(4, value & 0xFFFFFFFF)
    if value >> 32:  # below, C libraries write a dotted quad (::1.2.3.4); this never does
        # The C library's inet_ntop where it writes RFC 5952 text exactly as below (checked
        # once, see _load_ntop): 0.35 instead of 2.05 us per address, 10 % of planning (S10).
        return (_NTOP[0] or _load_ntop())(value.to_bytes(16))
    return _ipv6_text_here(value)


def _ipv6_text_here(value: int) -> str:
    """RFC 5952 text of an IPv6 address that is not IPv4-mapped, in Python."""
    text = "%x:%x:%x:%x:%x:%x:%x:%x" % (  # noqa: UP031 (fastest form for eight fields)
        value >> 112,
        value >> 96 & 0xFFFF,
        value >> 80 & 0xFFFF,
        value >> 64 & 0xFFFF,
        value >> 48 & 0xFFFF,
        value >> 32 & 0xFFFF,
        value >> 16 & 0xFFFF,
        value & 0xFFFF,
    )
    best = None
    most = 1
    for run in _ZERO_RUNS.finditer(text):
        zeros = run.group().count("0")
        if zeros > most:
            best, most = run, zeros
    if best is None:
        return text
    return f"{text[: best.start()]}::{text[best.end() + 1 :]}"


@dataclass(frozen=True, slots=True, order=True)
class Prefix:
    """An IPv4 or IPv6 prefix: a network address ``value`` (an int) and a ``prefixlen``.

    Frozen, hashable and ordered like ``ipaddress`` networks (IPv4 before IPv6, then by address,
    then shorter prefixes first). The host bits of ``value`` must be zero. Build one with
    :meth:`parse`, :meth:`from_network`, :meth:`from_address` or :meth:`coerce`.

    >>> p = Prefix.parse("2001:db8::/64")
    >>> p.prefixlen, p.version, p.num_addresses == 2**64
    (64, 6, True)
    >>> str(p), p
    ('2001:db8::/64', Prefix('2001:db8::/64'))
    >>> "2001:db8::1" in p, Prefix.parse("2001:db8::/80") in p
    (True, True)
    """

    version: int
    value: int
    prefixlen: int

    def __post_init__(self) -> None:
        if type(self.version) is not int:
            raise InvalidPrefixError(f"IP version must be 4 or 6, not {_typed(self.version)}")
        if type(self.value) is not int:
            raise InvalidPrefixError(f"address value must be an integer, not {_typed(self.value)}")
        if type(self.prefixlen) is not int:
            raise InvalidPrefixError(
                f"prefix length must be an integer, not {_typed(self.prefixlen)}"
            )
        width = WIDTH.get(self.version)
        if width is None:
            raise InvalidPrefixError(f"IP version must be 4 or 6, not {quote(self.version)}")
        if not 0 <= self.prefixlen <= width:
            raise InvalidPrefixError(
                f"prefix length {quote(self.prefixlen)} is out of range 0-{width} "
                f"for IPv{self.version}"
            )
        if not 0 <= self.value < 1 << width:
            raise InvalidPrefixError(
                f"address value {quote(self.value)} is out of range for IPv{self.version}"
            )
        if self.value & ((1 << (width - self.prefixlen)) - 1):
            text = f"{address_text(self.version, self.value)}/{self.prefixlen}"
            raise InvalidPrefixError(f"{quote(text)} has host bits set")

    @staticmethod
    def _trusted(version: int, value: int, prefixlen: int) -> Prefix:
        """Build without validation; for values the library computed itself.

        Twice as fast as going through the frozen ``__setattr__``: the fields are set on a
        :class:`_Draft` (the same slots, mutable), which then becomes a :class:`Prefix`.
        """
        draft = _new(_Draft)
        draft.version = version
        draft.value = value
        draft.prefixlen = prefixlen
        draft.__class__ = Prefix  # type: ignore[assignment]
        return draft  # type: ignore[return-value]

    # -- construction -----------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str) -> Prefix:
        """Parse prefix text strictly: ``"2001:db8::/64"``, ``"10.0.0.0/24"``.

        Runtime complexity: O(1).

        Raises:
            InvalidPrefixError: the text is not ``address/length``, has host bits set, a zone
                id, leading zeros, white space, or a length out of range. The message quotes
                the text.

        >>> Prefix.parse("2001:DB8:0:0::/64")
        Prefix('2001:db8::/64')
        >>> Prefix.parse("2001:db8::1/64")
        Traceback (most recent call last):
        ...
        ipv6alloc.InvalidPrefixError: '2001:db8::1/64' has host bits set \
(the prefix is '2001:db8::/64')
        """
        if not isinstance(text, str):
            raise InvalidPrefixError(f"expected prefix text, got {type(text).__name__}")
        address, slash, length = text.partition("/")
        if not slash:
            raise InvalidPrefixError(f"{quote(text)} has no prefix length (expected address/len)")
        if "%" in address:
            raise InvalidPrefixError(f"{quote(text)} has a zone id; a prefix cannot have one")
        version, value = _parse_address(address, text)
        width = WIDTH[version]
        prefixlen = _LENGTHS.get(length, 129)
        if prefixlen > width:
            raise InvalidPrefixError(
                f"{quote(text)} has an invalid prefix length {quote(length)} "
                f"(expected 0-{width} without leading zeros)"
            )
        network = value >> (width - prefixlen) << (width - prefixlen)
        if network != value:
            fixed = f"{address_text(version, network)}/{prefixlen}"
            raise InvalidPrefixError(
                f"{quote(text)} has host bits set (the prefix is {quote(fixed)})"
            )
        return cls._trusted(version, value, prefixlen)

    @classmethod
    def from_network(
        cls, network: ipaddress.IPv4Network | ipaddress.IPv6Network | object
    ) -> Prefix:
        """Convert an ``ipaddress`` network (or a ``netaddr.IPNetwork``, through its text).

        >>> import ipaddress
        >>> Prefix.from_network(ipaddress.ip_network("10.0.0.0/8"))
        Prefix('10.0.0.0/8')
        """
        if network is None or isinstance(network, _NOT_TEXT):
            raise InvalidPrefixError(f"expected a network, got {_typed(network)}")
        if isinstance(network, _NETWORKS):
            if getattr(network.network_address, "scope_id", None):
                raise InvalidPrefixError(
                    f"{quote(network)} has a zone id; a prefix cannot have one"
                )
            return cls._trusted(network.version, int(network.network_address), network.prefixlen)
        return cls.parse(str(network))

    @classmethod
    def from_address(cls, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> Prefix:
        """The full-length prefix (/32 or /128) of one address.

        >>> Prefix.from_address("2001:db8::1")
        Prefix('2001:db8::1/128')
        """
        given: object = address  # checked at run time: callers may pass untyped values
        if given is None or isinstance(given, _NOT_TEXT):
            raise InvalidPrefixError(f"expected an address, got {_typed(given)}")
        if type(address) is not str and isinstance(address, _ADDRESSES):
            if isinstance(address, _INTERFACES):
                raise InvalidPrefixError(_interface_message(address))
            if getattr(address, "scope_id", None):
                raise InvalidPrefixError(f"{quote(address)} has a zone id; expected an address")
            return cls._trusted(address.version, int(address), WIDTH[address.version])
        text = str(address)
        if "%" in text:
            raise InvalidPrefixError(f"{quote(text)} has a zone id; expected an address")
        version, value = _parse_address(text, text)
        return cls._trusted(version, value, WIDTH[version])

    @classmethod
    def coerce(cls, value: PrefixLike) -> Prefix:
        """Accept any supported form of a prefix or address and return a :class:`Prefix`.

        Text with a ``/`` is parsed strictly; text without one is an address (its /128 or /32).
        ``ipaddress`` networks and addresses convert directly; other objects (such as
        ``netaddr.IPNetwork`` and ``netaddr.IPAddress``) are read through their text.
        Runtime complexity: O(1).

        >>> Prefix.coerce("2001:db8::7")
        Prefix('2001:db8::7/128')
        >>> import ipaddress
        >>> Prefix.coerce(ipaddress.ip_address("10.1.2.3"))
        Prefix('10.1.2.3/32')

        Raises:
            InvalidPrefixError: the value is not a valid prefix or address.
        """
        # Checked at run time: untyped callers may pass anything, and netaddr objects are Any.
        given: object = value
        if isinstance(given, Prefix):
            return given
        if isinstance(given, str):
            if "/" in given:
                return cls.parse(given)
            return cls.from_address(given)
        if isinstance(given, _NETWORKS):
            return cls.from_network(given)
        if isinstance(given, _ADDRESSES):
            return cls.from_address(given)
        if given is None or isinstance(given, _NOT_TEXT):
            raise InvalidPrefixError(f"expected a prefix or an address, got {_typed(given)}")
        # Duck typing for netaddr.IPNetwork / netaddr.IPAddress: their text is canonical.
        return cls.coerce(str(given))

    # -- stdlib vocabulary ------------------------------------------------------------------

    @property
    def max_prefixlen(self) -> int:
        """32 for IPv4, 128 for IPv6."""
        return WIDTH[self.version]

    @property
    def num_addresses(self) -> int:
        """Number of addresses in the prefix."""
        return 1 << (WIDTH[self.version] - self.prefixlen)

    @property
    def last(self) -> int:
        """The last address of the prefix, as an int."""
        return self.value + (1 << (WIDTH[self.version] - self.prefixlen)) - 1

    @property
    def network_address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The first address, as an ``ipaddress`` object."""
        if self.version == 4:
            return ipaddress.IPv4Address(self.value)
        return ipaddress.IPv6Address(self.value)

    @property
    def broadcast_address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The last address, as an ``ipaddress`` object (named as in ``ipaddress``)."""
        if self.version == 4:
            return ipaddress.IPv4Address(self.last)
        return ipaddress.IPv6Address(self.last)

    def to_network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """Convert to an ``ipaddress`` network.

        >>> Prefix.parse("10.0.0.0/24").to_network()
        IPv4Network('10.0.0.0/24')
        """
        if self.version == 4:
            return ipaddress.IPv4Network((self.value, self.prefixlen))
        return ipaddress.IPv6Network((self.value, self.prefixlen))

    def overlaps(self, other: PrefixLike) -> bool:
        """Whether the two prefixes share any address (one contains the other).

        >>> Prefix.parse("2001:db8::/64").overlaps("2001:db8::/48")
        True
        """
        o = Prefix.coerce(other)
        if o.version != self.version:
            return False
        return self.value <= o.last and o.value <= self.last

    def subnet_of(self, other: PrefixLike) -> bool:
        """Whether this prefix lies inside ``other`` (a prefix is a subnet of itself).

        >>> Prefix.parse("2001:db8::/80").subnet_of("2001:db8::/64")
        True
        """
        o = Prefix.coerce(other)
        return (
            o.version == self.version
            and o.prefixlen <= self.prefixlen
            and o.value <= self.value <= o.last
        )

    def supernet_of(self, other: PrefixLike) -> bool:
        """Whether ``other`` lies inside this prefix.

        >>> Prefix.parse("2001:db8::/64").supernet_of("2001:db8::/80")
        True
        """
        return Prefix.coerce(other).subnet_of(self)

    def __contains__(self, item: PrefixLike) -> bool:
        """Whether an address or a prefix lies inside this prefix."""
        try:
            other = Prefix.coerce(item)
        except InvalidPrefixError:
            return False
        return other.subnet_of(self)

    def subnets(self, prefixlen_diff: int = 1, new_prefix: int | None = None) -> Iterator[Prefix]:
        """Yield the subnets of a longer prefix length, lowest first (lazily).

        >>> [str(p) for p in Prefix.parse("10.0.0.0/23").subnets()]
        ['10.0.0.0/24', '10.0.1.0/24']
        """
        _check_lengths(prefixlen_diff, new_prefix)
        new = self.prefixlen + prefixlen_diff if new_prefix is None else new_prefix
        width = WIDTH[self.version]
        if not self.prefixlen <= new <= width:
            raise InvalidPrefixError(
                f"new prefix length {quote(new)} must be between {self.prefixlen} and {width}"
            )
        step = 1 << (width - new)
        for value in range(self.value, self.last + 1, step):
            yield Prefix._trusted(self.version, value, new)

    def supernet(self, prefixlen_diff: int = 1, new_prefix: int | None = None) -> Prefix:
        """The prefix of a shorter length that contains this one.

        >>> Prefix.parse("2001:db8::/64").supernet(new_prefix=48)
        Prefix('2001:db8::/48')
        """
        _check_lengths(prefixlen_diff, new_prefix)
        new = self.prefixlen - prefixlen_diff if new_prefix is None else new_prefix
        if not 0 <= new <= self.prefixlen:
            raise InvalidPrefixError(
                f"new prefix length {quote(new)} must be between 0 and {self.prefixlen}"
            )
        shift = WIDTH[self.version] - new
        return Prefix._trusted(self.version, self.value >> shift << shift, new)

    def __str__(self) -> str:
        return f"{address_text(self.version, self.value)}/{self.prefixlen}"

    def __repr__(self) -> str:
        return f"Prefix({str(self)!r})"


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
#: Groups of one to four hex digits separated by colons, with at most one ``::``.
_HEXTETS = re.compile(
    r"(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?(?:::(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?)?"
)
#: The characters of IPv6 text without an embedded IPv4 part.
_HEX_AND_COLON = "0123456789abcdefABCDEF:"
#: Eight groups right-aligned in four columns each: blanks become zeros, then one int().
_EIGHT = "%4s" * 8


#: Values that take one item's place where a collection is expected (see :func:`prefix_items`);
#: ``ipaddress`` interfaces are addresses.
_SINGLE = (str, bytes, bytearray, Prefix, *_NETWORKS, *_ADDRESSES)


class _Draft:
    """A mutable :class:`Prefix` under construction: the same slots.

    Objects of two classes with identical slot layouts may change class, so a draft becomes
    a frozen ``Prefix`` by assigning ``__class__``: no validation, no frozen ``__setattr__``.
    Only :meth:`Prefix._trusted` and the allocator's hot path use it.
    """

    __slots__ = ("prefixlen", "value", "version")

    version: int
    value: int
    prefixlen: int


def _ipv4_value(text: str) -> int | None:
    """The value of strict dotted-quad text (no leading zeros), or None."""
    if not _IPV4.fullmatch(text):
        return None
    a, b, c, d = text.split(".")
    return int(a) << 24 | int(b) << 16 | int(c) << 8 | int(d)


def _ipv6_value(text: str) -> int | None:
    """The value of IPv6 text without an embedded IPv4 part, or None if it is malformed.

    Text of hex digits and colons only (a strip, in C) goes to the packer, which checks the
    groups: the C library's ``inet_pton``, where it reads such text exactly as ``ipaddress``
    does (checked once, see :func:`_load_pton`), else :func:`_pton_here`.
    """
    if text.strip(_HEX_AND_COLON):  # some other character is left
        return None
    pton = _PTON[0] or _load_pton()
    try:
        return int.from_bytes(pton(text))
    except OSError:  # malformed groups, or too many or too few of them
        return None


def _ipv6_value_here(text: str) -> int | None:
    """:func:`_ipv6_value` in Python: groups of one to four hex digits, at most one ``::``."""
    if not _HEXTETS.fullmatch(text):
        return None
    head, double, tail = text.partition("::")
    if double:
        left = head.split(":") if head else []
        right = tail.split(":") if tail else []
        missing = 8 - len(left) - len(right)
        if missing < 1:
            return None
        groups = (*left, *("0" * missing), *right)
    else:
        groups = tuple(text.split(":"))
        if len(groups) != 8:
            return None
    return int((_EIGHT % groups).replace(" ", "0"), 16)


def _pton_here(text: str) -> bytes:
    """``inet_pton`` for IPv6, in Python (raises ``OSError`` alike)."""
    value = _ipv6_value_here(text)
    if value is None:
        raise OSError(f"illegal IP address string passed to inet_pton: {text!r}")
    return value.to_bytes(16)


#: ``inet_pton`` for IPv6, once :func:`_load_pton` has run. ``_socket`` is imported on first
#: use: ``import ipv6alloc`` need not pay for it.
_PTON: list[Callable[[str], bytes] | None] = [None]


#: Text on which C libraries could differ from ``ipaddress``: each is read by both packers on
#: first use, and the C one is used only if they agree on every one.
_PTON_PROBES = (
    *("", ":", "::", ":::", "::::", "1:", ":1", "1::", "::1", "1:::2", "1::2::3", "::1::"),
    *("1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", ":1:2:3:4:5:6:7:8"),
    *("1:2:3:4:5:6:7:8:", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8"),
    *("1::3:4:5:6:7:8", "1:2:3:4:5:6::8", "12345::", "::12345", "01234::", "0000::00001"),
    *("fFfF::", "FFFF:ffff::0", "0:0:0:0:0:0:0:0", "1::2:", ":1::2", "a:b:c:d:e:f:0:1"),
)


#: ``inet_ntop`` for IPv6, once :func:`_load_ntop` has run (``_socket`` loaded on first use).
_NTOP: list[Callable[[bytes], str] | None] = [None]

#: Addresses whose text C libraries could write otherwise than RFC 5952 (zero runs of one,
#: ties, a run at either end, upper case): written both ways on first use, the C one used only
#: if they agree on every one.
_NTOP_PROBES = (
    0x1,
    0x1 << 112,
    0x1 << 127 | 1,
    0x20010DB8 << 96 | 1,
    0x20010DB8000000000001 << 48,
    0x20010DB8000100000000000000000001,
    0x20010DB8000000010000000000000001,
    0x20010DB8000000010000000100000001,
    0x20010DB8000000000000000100000001,
    0xABCDEF0000000000000000000000FFFF,
    0x000000000000000100000000FFFF0000,
    0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF,
    0x1 << 32,
    0xFFFF << 48,
)


def _load_ntop() -> Callable[[bytes], str]:
    ntop: Callable[[bytes], str] = _ntop_here
    try:
        import _socket  # noqa: PLC0415 -- deferred: see _NTOP

        native = partial(_socket.inet_ntop, _socket.AF_INET6)
        if all(native(v.to_bytes(16)) == _ipv6_text_here(v) for v in _NTOP_PROBES):
            ntop = native
    except (ImportError, AttributeError, OSError, ValueError):  # pragma: no cover
        pass
    _NTOP[0] = ntop
    return ntop


def _ntop_here(packed: bytes) -> str:
    """``inet_ntop`` for IPv6, in Python."""
    return _ipv6_text_here(int.from_bytes(packed))


def _load_pton() -> Callable[[str], bytes]:
    pton: Callable[[str], bytes] = _pton_here
    try:
        import _socket  # noqa: PLC0415 -- deferred: see _PTON

        native = partial(_socket.inet_pton, _socket.AF_INET6)
    except (ImportError, AttributeError):  # pragma: no cover -- platforms without sockets
        pass
    else:
        if all(_packs_alike(native, text) for text in _PTON_PROBES):
            pton = native
    _PTON[0] = pton
    return pton


def _packs_alike(native: Callable[[str], bytes], text: str) -> bool:
    """Whether ``native`` packs ``text`` as :func:`_pton_here` does, or refuses it alike."""
    try:
        ours: bytes | None = _pton_here(text)
    except OSError:
        ours = None
    try:
        theirs: bytes | None = native(text)
    except OSError:
        theirs = None
    return ours == theirs


def _parse_address(address: str, original: str) -> tuple[int, int]:
    """Parse address text into ``(version, value)``; errors quote ``original``.

    Accepts exactly what ``ipaddress`` accepts (without zone ids), faster: IPv4 and plain IPv6
    are parsed here, IPv6 with an embedded dotted quad by ``ipaddress``.
    """
    if ":" in address:
        if "." in address:
            try:
                return 6, int(ipaddress.IPv6Address(address))
            except ValueError:
                pass
        else:
            value = _ipv6_value(address)
            if value is not None:
                return 6, value
    else:
        value = _ipv4_value(address)
        if value is not None:
            return 4, value
    raise InvalidPrefixError(f"{quote(original)} is not a valid IPv4 or IPv6 address or prefix")


def _typed(value: object) -> str:
    """A value's type name and quoted text, for messages about a value of the wrong type."""
    return f"{type(value).__name__} {quote(value)}"


def _check_lengths(prefixlen_diff: object, new_prefix: object) -> None:
    """The length arguments of :meth:`Prefix.subnets` and :meth:`Prefix.supernet`."""
    if type(prefixlen_diff) is not int:
        raise InvalidPrefixError(f"prefixlen_diff must be an integer, not {_typed(prefixlen_diff)}")
    if new_prefix is not None:
        if type(new_prefix) is not int:
            raise InvalidPrefixError(f"new_prefix must be an integer, not {_typed(new_prefix)}")
        if prefixlen_diff != 1:
            raise InvalidPrefixError("give prefixlen_diff or new_prefix, not both")


def prefix_items(value: object, what: str) -> list[Any]:
    """The items of an argument that takes a collection of prefixes, addresses or interfaces.

    A single value counts as one item: text (iterable, but one prefix), a :class:`Prefix`, an
    ``ipaddress`` network, address or interface, any ``netaddr`` object (an ``IPNetwork``
    iterates its addresses), and a non-iterable object of this library (an ``Interface``).
    Anything else iterable gives its items, unchecked: each is read where it is used, by a
    reader that checks it at run time (:meth:`Prefix.coerce`, ``Interface.parse``). The items
    are ``Any``: a typed caller already passed :data:`PrefixLike` items (or ``netaddr`` ones),
    and an untyped caller's are checked by those readers.
    Runtime complexity: O(number of items).

    >>> prefix_items("10.0.0.0/8", "pools"), prefix_items(("10.0.0.0/8", "::/0"), "pools")
    (['10.0.0.0/8'], ['10.0.0.0/8', '::/0'])
    >>> prefix_items(None, "reserved")
    Traceback (most recent call last):
    ...
    TypeError: reserved must be a prefix or an address, or an iterable of them, not NoneType 'None'

    Args:
        value: the argument as given.
        what: the argument's name, for the message.

    Returns:
        The items, in order.

    Raises:
        TypeError: ``value`` is neither a single value nor iterable.
    """
    kind = type(value)
    if isinstance(value, (list, tuple)):  # the usual, first: the Iterable ABC check is slow
        return list(value)
    if isinstance(value, _SINGLE) or kind.__module__.startswith("netaddr"):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    if kind.__module__.startswith("ipv6alloc."):
        return [value]
    raise TypeError(
        f"{what} must be a prefix or an address, or an iterable of them, not {_typed(value)}"
    )


def _interface_message(value: object) -> str:
    return (
        f"{quote(value)} is an interface (address with subnet); "
        "pass its .network or its .ip instead"
    )
