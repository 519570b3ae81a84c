"""CIDR text read as the API server reads ``spec.podCIDRs``: sloppy parsing, then strict checks.

``parseCIDR`` in ``k8s.io/apimachinery/pkg/util/validation/ip.go`` (kubernetes/kubernetes) first
parses with ``netutils.ParseCIDRSloppy`` (``k8s.io/utils/net``: Go 1.16's ``net.ParseCIDR``,
which takes IPv4 octets and prefix lengths with leading zeros); failing that, the value is not
a CIDR at all. With strict validation (the ``StrictIPCIDRValidation`` feature gate, on by
default since Kubernetes 1.36) it then parses again with Go's ``netip.ParsePrefix`` and rejects,
in this order, leading zeros, an IPv4-mapped IPv6 address and host bits set beyond the prefix
length. IPv6 text that is merely not canonical (upper case, uncompressed) passes either way.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final

__all__ = [
    "INVALID_CIDR",
    "SloppyCIDR",
    "family",
    "parse_sloppy",
    "strict_problem",
]

#: The message of a value that is not a CIDR at all.
INVALID_CIDR: Final = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
#: Go's ``dtoi`` gives up at this value ("big").
_BIG: Final = 0xFFFFFF
_MAPPED_PREFIX: Final = 0xFFFF


@dataclass(frozen=True, slots=True)
class SloppyCIDR:
    """A CIDR as ``ParseCIDRSloppy`` reads it.

    Attributes:
        version: 4 or 6 (an IPv4-mapped IPv6 address is version 6).
        address: The address as an integer, host bits included.
        prefixlen: The prefix length.
    """

    version: int
    address: int
    prefixlen: int


def _decimal(text: str) -> int | None:
    """Go's ``dtoi`` over the whole text: digits only, leading zeros allowed."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    value = 0
    for char in text:
        value = value * 10 + ord(char) - 48
        if value >= _BIG:
            return None
    return value


def _ipv4(text: str, *, strict: bool) -> int | None:
    fields = text.split(".")
    if len(fields) != 4:
        return None
    value = 0
    for field in fields:
        if strict and (len(field) > 3 or (len(field) > 1 and field[0] == "0")):
            return None
        octet = _decimal(field)
        if octet is None or octet > 255:
            return None
        value = value << 8 | octet
    return value


def _ipv6(text: str, *, strict: bool) -> int | None:
    if not text or not text.isascii() or "%" in text or text.count(":") < 2:
        return None
    head, _, last = text.rpartition(":")
    if "." in last:  # an embedded IPv4 address ends the text
        embedded = _ipv4(last, strict=strict)
        if embedded is None:
            return None
        text = f"{head}:{embedded >> 16:x}:{embedded & 0xFFFF:x}"
    groups = text.split(":")
    normal: list[str] = []
    for group in groups:
        if not group:
            normal.append(group)
            continue
        if any(char not in "0123456789abcdefABCDEF" for char in group):
            return None
        if (strict and len(group) > 4) or int(group, 16) > 0xFFFF:
            return None
        normal.append(f"{int(group, 16):x}")
    try:
        return int(ipaddress.IPv6Address(":".join(normal)))
    except ValueError:
        return None


def _parse(text: str, *, strict: bool) -> SloppyCIDR | None:
    address_text, slash, mask = text.partition("/")
    if not slash:
        return None
    version, bits = 4, 32
    address = _ipv4(address_text, strict=strict)
    if address is None:
        version, bits = 6, 128
        address = _ipv6(address_text, strict=strict)
    prefixlen = _decimal(mask)
    if address is None or prefixlen is None or prefixlen > bits:
        return None
    if strict and len(mask) > 1 and mask[0] == "0":
        return None
    return SloppyCIDR(version, address, prefixlen)


def parse_sloppy(text: str) -> SloppyCIDR | None:
    """``netutils.ParseCIDRSloppy``: the CIDR, or None when ``text`` is not one.

    >>> parse_sloppy("010.0.0.1/024")
    SloppyCIDR(version=4, address=167772161, prefixlen=24)
    >>> parse_sloppy("2001:db8::/64").prefixlen, parse_sloppy("10.0.0.0/33")
    (64, None)
    """
    return _parse(text, strict=False)


def _mapped(cidr: SloppyCIDR) -> bool:
    """Whether the address is an IPv4-mapped IPv6 address (``::ffff:a.b.c.d``)."""
    return cidr.version == 6 and cidr.address >> 32 == _MAPPED_PREFIX


def family(cidr: SloppyCIDR) -> int:
    """The family ``netutils.IsIPv6`` sees: an IPv4-mapped IPv6 address counts as IPv4."""
    return 4 if _mapped(cidr) else cidr.version


def strict_problem(text: str) -> str | None:
    """What strict validation rejects in a value ``parse_sloppy`` accepted, or None.

    >>> strict_problem("10.0.0.1/24")
    'must not have bits set beyond the prefix length'
    >>> strict_problem("10.0.0.0/024"), strict_problem("::ffff:10.0.0.0/104")
    ('must not have leading 0s in IP or prefix length', 'must not have an IPv4-mapped IPv6 address')
    >>> strict_problem("2001:DB8:0:0::/64") is None
    True
    """
    cidr = _parse(text, strict=True)
    if cidr is None:
        return "must not have leading 0s in IP or prefix length"
    if _mapped(cidr):
        return "must not have an IPv4-mapped IPv6 address"
    bits = 32 if cidr.version == 4 else 128
    if cidr.address & ((1 << (bits - cidr.prefixlen)) - 1):
        return "must not have bits set beyond the prefix length"
    return None
