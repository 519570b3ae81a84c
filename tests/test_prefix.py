"""The Prefix value type, checked against the stdlib ``ipaddress`` and ``netaddr`` as oracles.

Also the public strategies that generate prefixes, addresses and interface text.
"""

from __future__ import annotations

import _socket
import dataclasses
import ipaddress
import re
from unittest import mock

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ipv6alloc import InvalidPrefixError, Ipv6AllocError, Prefix, _prefix
from ipv6alloc.strategies import addresses, interfaces, prefix_texts, prefixes

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Prefixes that often overlap or share an address: small regions of both families, plus
#: anywhere. IPv4 0.0.0.0/28 and IPv6 ::/124 have the same integers, to catch mixed families.
dense_prefixes = st.one_of(
    prefixes(),
    prefixes(within="10.0.0.0/28"),
    prefixes(within="0.0.0.0/28"),
    prefixes(within="::/124"),
    prefixes(within="2001:db8::/124"),
    prefixes(version=6, max_prefixlen=4),
    prefixes(version=4, max_prefixlen=3),
)


def net(p: Prefix) -> Network:
    """The oracle: the stdlib's reading of the prefix's text."""
    return ipaddress.ip_network(str(p), strict=True)


def canonical(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """RFC 5952 text per the stdlib, with IPv4-mapped addresses dotted (RFC 5952 section 5).

    Python 3.11's ``ipaddress`` prints ``::ffff:a00:1``; 3.13 prints ``::ffff:10.0.0.1``.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return address.compressed


#: IPv6 values rich in zero groups, IPv4-mapped values, and anything at all.
ipv6_values = st.one_of(
    st.integers(0, 2**128 - 1),
    st.integers(0, 2**32 - 1).map(lambda v: 0xFFFF << 32 | v),
    st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8]), min_size=8, max_size=8).map(
        lambda groups: sum(g << (112 - 16 * i) for i, g in enumerate(groups))
    ),
)


def invalid(text: str) -> str:
    """Parse ``text``, expecting a failure, and return the message."""
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.parse(text)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, Ipv6AllocError)
    return str(info.value)


# -- parsing: what is accepted ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "version", "value", "prefixlen"),
    [
        ("0.0.0.0/0", 4, 0, 0),
        ("10.0.0.0/8", 4, 10 << 24, 8),
        ("255.255.255.255/32", 4, 2**32 - 1, 32),
        ("192.168.0.128/25", 4, (192 << 24) | (168 << 16) | 128, 25),
        ("::/0", 6, 0, 0),
        ("::1/128", 6, 1, 128),
        ("2001:db8::/32", 6, 0x20010DB8 << 96, 32),
        ("2001:DB8:0:0:1:0:0:1/128", 6, (0x20010DB8 << 96) | (1 << 48) | 1, 128),
        ("2001:0db8:0000::/48", 6, 0x20010DB8 << 96, 48),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 6, 2**128 - 1, 128),
        ("fe80::/10", 6, 0xFE80 << 112, 10),
    ],
)
def test_parse_reads_version_value_and_length(
    text: str, version: int, value: int, prefixlen: int
) -> None:
    p = Prefix.parse(text)
    assert (p.version, p.value, p.prefixlen) == (version, value, prefixlen)
    assert p == Prefix(version, value, prefixlen)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        # RFC 5952 section 4: lowercase, no leading zeros, "::" for the longest run of two or
        # more zero fields, the first one when runs tie, never for a single zero field.
        ("2001:DB8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001/128", "2001:db8::1/128"),
        ("2001:db8:0:1:1:1:1:1/128", "2001:db8:0:1:1:1:1:1/128"),
        ("2001:0:0:1:0:0:0:1/128", "2001:0:0:1::1/128"),
        ("2001:db8:0:0:0:0:2:1/128", "2001:db8::2:1/128"),
        ("0:0:0:0:0:0:0:0/0", "::/0"),
        ("FE80:0:0:0:0:0:0:0/10", "fe80::/10"),
        ("2001:DB8:ABCD:12::/64", "2001:db8:abcd:12::/64"),
        ("0:0:0:0:0:0:0:1/128", "::1/128"),
        ("::FFFF:0A00:0001/128", "::ffff:10.0.0.1/128"),  # IPv4-mapped: dotted, section 5
        ("::ffff:0:0/96", "::ffff:0.0.0.0/96"),
        ("::a00:1/128", "::a00:1/128"),  # IPv4-compatible (deprecated) is not mapped
        ("1:0:0:2:0:0:0:0/128", "1:0:0:2::/128"),
        ("0:0:1:0:0:0:0:0/48", "0:0:1::/48"),
        ("1:0:0:0:0:0:0:0/16", "1::/16"),
        ("10.0.0.0/8", "10.0.0.0/8"),
    ],
)
def test_str_is_canonical_rfc5952(text: str, canonical: str) -> None:
    assert str(Prefix.parse(text)) == canonical
    assert repr(Prefix.parse(text)) == f"Prefix({canonical!r})"


# -- parsing: what is rejected, with which message ----------------------------------------------


def test_host_bits_are_rejected_naming_the_prefix() -> None:
    assert invalid("10.0.0.1/24") == "'10.0.0.1/24' has host bits set (the prefix is '10.0.0.0/24')"
    assert (
        invalid("2001:DB8::1/64")
        == "'2001:DB8::1/64' has host bits set (the prefix is '2001:db8::/64')"
    )
    assert invalid("::1/0") == "'::1/0' has host bits set (the prefix is '::/0')"


def test_zone_id_is_rejected() -> None:
    assert invalid("fe80::%eth0/64") == "'fe80::%eth0/64' has a zone id; a prefix cannot have one"
    assert invalid("fe80::1%1/128") == "'fe80::1%1/128' has a zone id; a prefix cannot have one"


@pytest.mark.parametrize(
    ("text", "length", "width"),
    [
        ("10.0.0.0/33", "33", 32),
        ("::/129", "129", 128),
        ("10.0.0.0/1000", "1000", 32),
        ("10.0.0.0/-1", "-1", 32),
        ("10.0.0.0/+8", "+8", 32),
        ("10.0.0.0/064", "064", 32),
        ("2001:db8::/064", "064", 128),
        ("::/00", "00", 128),
        ("10.0.0.0/08", "08", 32),
        ("10.0.0.0/", "", 32),
        ("10.0.0.0/8 ", "8 ", 32),
        ("10.0.0.0/ 8", " 8", 32),
        ("10.0.0.0/8\n", "8\n", 32),
        ("10.0.0.0/255.0.0.0", "255.0.0.0", 32),
        ("10.0.0.0/8/8", "8/8", 32),
        ("10.0.0.0/\uff18", "\uff18", 32),  # a fullwidth digit eight
    ],
)
def test_bad_prefix_length_is_rejected(text: str, length: str, width: int) -> None:
    assert invalid(text) == (
        f"{text!r} has an invalid prefix length {length!r} "
        f"(expected 0-{width} without leading zeros)"
    )


@pytest.mark.parametrize(
    "text",
    [
        "/24",
        "foo/24",
        "10.0.0/24",
        "10.0.0.256/32",
        "010.0.0.0/8",
        "10.0.0.01/32",
        "1.2.3.4.5/32",
        " 10.0.0.0/8",
        "10.0.0.0 /8",
        "2001:db8:::/48",
        "2001:db8::g/128",
        " 2001:db8::/32",
        "2001:db8:: /32",
        "[2001:db8::]/32",
        "1:2:3:4:5:6:7:8:9/128",
        "12345::/16",
    ],
)
def test_bad_address_is_rejected(text: str) -> None:
    assert invalid(text) == f"{text!r} is not a valid IPv4 or IPv6 address or prefix"


@pytest.mark.parametrize("text", ["", "10.0.0.0", "2001:db8::", "nonsense"])
def test_missing_length_is_rejected(text: str) -> None:
    assert invalid(text) == f"{text!r} has no prefix length (expected address/len)"


def test_parse_refuses_non_text() -> None:
    with pytest.raises(InvalidPrefixError, match=r"^expected prefix text, got int$"):
        Prefix.parse(42)  # type: ignore[arg-type]


@st.composite
def ipv6_like_texts(draw: st.DrawFn) -> str:
    """Text that looks like IPv6 and often is not: 0-10 groups of 0-5 hex digits, ``::``."""
    groups = draw(st.lists(st.text("0123456789abcdefABCDEF", max_size=5), max_size=10))
    text = ":".join(groups)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "::" + text[at:]
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["g", " ", ":", "0", "\x00", "\u0660"])) + text[at:]
    return text


@pytest.mark.parametrize("packer", ["inet_pton", "python"])
@given(text=ipv6_like_texts())
def test_ipv6_text_is_read_exactly_as_ipaddress_reads_it(packer: str, text: str) -> None:
    try:
        expected: int | None = int(ipaddress.IPv6Address(text))
    except ValueError:
        expected = None
    # Packed by the C library's inet_pton (where it agrees on the probes), or in Python.
    pton = _prefix._pton_here if packer == "python" else _prefix._load_pton()
    with mock.patch.object(_prefix, "_PTON", [pton]):
        if expected is None:
            with pytest.raises(InvalidPrefixError, match="is not a valid IPv4 or IPv6 address"):
                Prefix.from_address(text)
        else:
            assert Prefix.from_address(text).value == expected


def test_a_c_library_that_writes_ipv6_text_otherwise_is_not_used() -> None:
    real = _socket.inet_ntop

    def upper(family: int, packed: bytes) -> str:  # upper case, unlike RFC 5952
        return real(family, packed).upper()

    with mock.patch.object(_prefix, "_NTOP", [None]):
        assert _prefix._load_ntop() is not _prefix._ntop_here, "this machine's libc agrees"
    with (
        mock.patch.object(_socket, "inet_ntop", upper),
        mock.patch.object(_prefix, "_NTOP", [None]),
    ):
        assert _prefix._load_ntop() is _prefix._ntop_here
        assert str(Prefix.parse("2001:DB8::ABC/128")) == "2001:db8::abc/128"


def test_a_c_library_that_reads_ipv6_text_otherwise_is_not_used() -> None:
    real = _socket.inet_pton

    def lax(family: int, text: str) -> bytes:  # reads ":::" as "::", unlike ipaddress
        return real(family, "::" if text == ":::" else text)

    with mock.patch.object(_prefix, "_PTON", [None]):
        assert _prefix._load_pton() is not _prefix._pton_here, "this machine's libc agrees"
    with mock.patch.object(_socket, "inet_pton", lax), mock.patch.object(_prefix, "_PTON", [None]):
        assert _prefix._load_pton() is _prefix._pton_here
        with pytest.raises(InvalidPrefixError, match="is not a valid IPv4 or IPv6 address"):
            Prefix.from_address(":::")
        assert Prefix.from_address("1::").value == 1 << 112


def test_long_bad_input_is_quoted_cut_after_40_characters() -> None:
    text = "x" * 50 + "/64"
    assert invalid(text) == "'" + "x" * 40 + "...' is not a valid IPv4 or IPv6 address or prefix"


@given(
    version=st.sampled_from([4, 6]),
    data=st.data(),
)
def test_parse_accepts_exactly_what_strict_ipaddress_accepts(
    version: int, data: st.DataObject
) -> None:
    width = 32 if version == 4 else 128
    value = data.draw(st.integers(0, 2**width - 1) | st.sampled_from([0, 2**width - 1]))
    prefixlen = data.draw(st.integers(0, width))
    if data.draw(st.booleans()):
        value = value >> (width - prefixlen) << (width - prefixlen)
    address = ipaddress.ip_address(value) if version == 4 else ipaddress.IPv6Address(value)
    text = f"{address}/{prefixlen}"
    try:
        expected: Network | None = ipaddress.ip_network(text, strict=True)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(InvalidPrefixError, match=r"has host bits set \(the prefix is '"):
            Prefix.parse(text)
    else:
        p = Prefix.parse(text)
        assert (p.version, p.value, p.prefixlen) == (
            expected.version,
            int(expected.network_address),
            expected.prefixlen,
        )
        assert str(p) == f"{canonical(expected.network_address)}/{expected.prefixlen}"


@pytest.mark.parametrize("writer", ["inet_ntop", "python"])
@given(value=ipv6_values)
def test_ipv6_text_is_rfc5952(writer: str, value: int) -> None:
    address = ipaddress.IPv6Address(value)
    p = Prefix(6, value, 128)
    # Written by the C library's inet_ntop (where it agrees on the probes), or in Python.
    ntop = _prefix._ntop_here if writer == "python" else _prefix._load_ntop()
    with mock.patch.object(_prefix, "_NTOP", [ntop]):
        assert str(p) == f"{canonical(address)}/128"
    assert Prefix.parse(str(p)) == p
    assert Prefix.from_address(str(p.network_address)) == p


# -- construction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((5, 0, 0), "IP version must be 4 or 6, not '5'"),
        ((4, 0, 33), "prefix length '33' is out of range 0-32 for IPv4"),
        ((6, 0, -1), "prefix length '-1' is out of range 0-128 for IPv6"),
        ((4, 2**32, 32), "address value '4294967296' is out of range for IPv4"),
        ((6, -1, 128), "address value '-1' is out of range for IPv6"),
        ((4, 1, 24), "'0.0.0.1/24' has host bits set"),
        ((6, 1 << 64, 0), "'0:0:0:1::/0' has host bits set"),  # 4-zero run wins
    ],
)
def test_constructor_validates(args: tuple[int, int, int], message: str) -> None:
    with pytest.raises(InvalidPrefixError) as info:
        Prefix(*args)
    assert str(info.value) == message


def test_prefix_is_frozen_slotted_and_hashable() -> None:
    p = Prefix.parse("2001:db8::/64")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.prefixlen = 48  # type: ignore[misc]
    assert not hasattr(p, "__dict__")
    assert {p, Prefix.parse("2001:db8::/64"), Prefix(6, p.value, 64)} == {p}
    assert p != Prefix.parse("2001:db8::/65")
    text: object = "2001:db8::/64"
    assert p != text, "a prefix is not equal to its text"


def test_properties_match_by_hand() -> None:
    p = Prefix.parse("10.1.0.0/16")
    assert p.max_prefixlen == 32
    assert p.num_addresses == 65536
    assert p.last == (10 << 24) + (1 << 16) + 65535
    assert p.network_address == ipaddress.IPv4Address("10.1.0.0")
    assert p.broadcast_address == ipaddress.IPv4Address("10.1.255.255")
    q = Prefix.parse("::/0")
    assert q.max_prefixlen == 128
    assert q.num_addresses == 2**128
    assert q.network_address == ipaddress.IPv6Address("::")
    assert q.broadcast_address == ipaddress.IPv6Address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
    # A low IPv6 value is still an IPv6 address.
    assert Prefix.parse("::/96").network_address == ipaddress.IPv6Address("::")


@given(dense_prefixes)
def test_properties_match_ipaddress(p: Prefix) -> None:
    n = net(p)
    assert p.version == n.version
    assert p.max_prefixlen == n.max_prefixlen
    assert p.num_addresses == n.num_addresses
    assert p.last == int(n.broadcast_address)
    assert p.network_address == n.network_address
    assert p.broadcast_address == n.broadcast_address
    assert type(p.network_address) is type(n.network_address)


# -- conversions --------------------------------------------------------------------------------


@given(dense_prefixes)
def test_round_trip_with_ipaddress(p: Prefix) -> None:
    n = p.to_network()
    assert n == net(p)
    assert Prefix.from_network(n) == p
    assert Prefix.coerce(n) == p
    assert Prefix.parse(str(n)) == p
    assert Prefix.parse(str(p)) == p


@given(dense_prefixes)
def test_round_trip_with_netaddr(p: Prefix) -> None:
    n = netaddr.IPNetwork(str(p))
    assert (n.version, n.value, n.prefixlen) == (p.version, p.value, p.prefixlen)
    assert Prefix.coerce(n) == p
    assert Prefix.from_network(n) == p
    address = netaddr.IPAddress(p.value, version=p.version)
    assert Prefix.coerce(address) == Prefix(p.version, p.value, p.max_prefixlen)


def test_netaddr_network_with_host_bits_is_rejected() -> None:
    with pytest.raises(
        InvalidPrefixError,
        match=r"^'10\.0\.0\.1/24' has host bits set \(the prefix is '10\.0\.0\.0/24'\)$",
    ):
        Prefix.coerce(netaddr.IPNetwork("10.0.0.1/24"))


@given(addresses())
def test_from_address_is_the_full_length_prefix(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    width = 32 if address.version == 4 else 128
    expected = Prefix(address.version, int(address), width)
    assert Prefix.from_address(address) == expected
    assert Prefix.from_address(str(address)) == expected
    assert Prefix.coerce(address) == expected
    assert Prefix.coerce(str(address)) == expected


def test_coerce_returns_a_prefix_unchanged() -> None:
    p = Prefix.parse("10.0.0.0/8")
    assert Prefix.coerce(p) is p


def test_coerce_reads_text_with_and_without_length() -> None:
    assert Prefix.coerce("2001:db8::7") == Prefix(6, (0x20010DB8 << 96) | 7, 128)
    assert Prefix.coerce("10.1.2.3") == Prefix(4, (10 << 24) | (1 << 16) | (2 << 8) | 3, 32)
    assert Prefix.coerce("10.1.0.0/16") == Prefix(4, (10 << 24) | (1 << 16), 16)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "expected a prefix or an address, got int '42'"),
        (True, "expected a prefix or an address, got bool 'True'"),
        (1.5, "expected a prefix or an address, got float '1.5'"),
        (None, "expected a prefix or an address, got NoneType 'None'"),
        (b"10.0.0.0/8", "expected a prefix or an address, got bytes \"b'10.0.0.0/8'\""),
        ((10, 8), "expected a prefix or an address, got tuple '(10, 8)'"),
    ],
)
def test_coerce_refuses_non_prefix_objects(value: object, message: str) -> None:
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.coerce(value)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize(
    "interface", [ipaddress.ip_interface("10.0.0.1/24"), ipaddress.ip_interface("2001:db8::1/64")]
)
def test_interfaces_are_refused_with_advice(
    interface: ipaddress.IPv4Interface | ipaddress.IPv6Interface,
) -> None:
    expected = (
        f"'{interface}' is an interface (address with subnet); pass its .network or its .ip instead"
    )
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.coerce(interface)
    assert str(info.value) == expected
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.from_address(interface)
    assert str(info.value) == expected


def test_from_address_refuses_zone_ids() -> None:
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.from_address(ipaddress.IPv6Address("fe80::1%eth0"))
    assert str(info.value) == "'fe80::1%eth0' has a zone id; expected an address"
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.coerce("fe80::1%eth0")
    assert str(info.value) == "'fe80::1%eth0' has a zone id; expected an address"


def test_from_network_refuses_zone_ids_like_parse() -> None:
    # Prefix.parse("fe80::%eth0/64") refuses the zone id; the same network as an ipaddress
    # object must not slip through by dropping it.
    scoped = ipaddress.IPv6Network("fe80::%eth0/64")
    with pytest.raises(InvalidPrefixError, match=r"^'fe80::%eth0/64' has a zone id"):
        Prefix.from_network(scoped)
    with pytest.raises(InvalidPrefixError, match=r"^'fe80::%eth0/64' has a zone id"):
        Prefix.coerce(scoped)


def test_from_address_refuses_prefix_text() -> None:
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.from_address("10.0.0.0/24")
    assert str(info.value) == "'10.0.0.0/24' is not a valid IPv4 or IPv6 address or prefix"


# -- ordering -----------------------------------------------------------------------------------


@given(st.lists(dense_prefixes, max_size=12))
def test_order_equals_ipaddress_network_order(items: list[Prefix]) -> None:
    by_prefix = [str(p) for p in sorted(items)]
    by_oracle = [str(n) for n in sorted(map(net, items), key=ipaddress.get_mixed_type_key)]
    assert by_prefix == by_oracle


@given(dense_prefixes, dense_prefixes)
def test_comparisons_match_ipaddress(a: Prefix, b: Prefix) -> None:
    na, nb = net(a), net(b)
    assert (a == b) == (na == nb)
    assert (hash(a) == hash(b)) or a != b
    if a.version == b.version:
        # Same version here; mypy cannot see that the two unions agree.
        assert (a < b) == (na < nb)  # type: ignore[operator]
        assert (a <= b) == (na <= nb)  # type: ignore[operator]
        assert (a > b) == (na > nb)  # type: ignore[operator]
    else:
        assert (a < b) == (a.version == 4)


def test_order_by_hand() -> None:
    texts = ["::/0", "10.0.0.0/8", "10.0.0.0/16", "9.0.0.0/8", "0.0.0.0/0", "::/1", "::1/128"]
    assert [str(p) for p in sorted(map(Prefix.parse, texts))] == [
        "0.0.0.0/0",
        "9.0.0.0/8",
        "10.0.0.0/8",
        "10.0.0.0/16",
        "::/0",
        "::/1",
        "::1/128",
    ]


# -- relations ----------------------------------------------------------------------------------


@given(dense_prefixes, dense_prefixes)
def test_relations_match_ipaddress(a: Prefix, b: Prefix) -> None:
    na, nb = net(a), net(b)
    if a.version != b.version:
        assert not a.overlaps(b)
        assert not a.subnet_of(b)
        assert not a.supernet_of(b)
        assert b not in a
        return
    assert a.overlaps(b) == na.overlaps(nb)
    assert a.overlaps(str(b)) == na.overlaps(nb)
    assert a.subnet_of(b) == na.subnet_of(nb)  # type: ignore[arg-type]
    assert a.supernet_of(b) == na.supernet_of(nb)  # type: ignore[arg-type]
    assert (b in a) == nb.subnet_of(na)  # type: ignore[arg-type]
    assert (str(b) in a) == nb.subnet_of(na)  # type: ignore[arg-type]
    assert (nb in a) == nb.subnet_of(na)  # type: ignore[arg-type]


@given(dense_prefixes, addresses())
def test_address_membership_matches_ipaddress(
    p: Prefix, address: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> None:
    inside = address.version == p.version and address in net(p)
    assert (address in p) == inside
    assert (str(address) in p) == inside


def test_membership_of_garbage_is_false() -> None:
    p = Prefix.parse("10.0.0.0/8")
    assert "10.0.0.1/8" not in p  # host bits: not a prefix
    assert "not an address" not in p
    assert 167772161 not in p  # type: ignore[operator]
    assert "10.0.0.1" in p
    assert "::ffff:10.0.0.1" not in p


def test_relations_by_hand() -> None:
    p = Prefix.parse("2001:db8::/64")
    assert p.overlaps("2001:db8::/48")
    assert p.overlaps("2001:db8::/80")
    assert p.overlaps(p)
    assert not p.overlaps("2001:db8:0:1::/64")
    assert p.subnet_of(p)
    assert p.supernet_of(p)
    assert not p.subnet_of("2001:db8::/80")
    assert Prefix.parse("0.0.0.0/0").supernet_of("255.255.255.255/32")
    assert not Prefix.parse("0.0.0.0/0").supernet_of("::/128")


# -- subnets and supernet -----------------------------------------------------------------------


@given(dense_prefixes, st.integers(0, 4))
def test_subnets_match_ipaddress(p: Prefix, diff: int) -> None:
    if p.prefixlen + diff > p.max_prefixlen:
        with pytest.raises(InvalidPrefixError):
            list(p.subnets(diff))
        return
    expected = [str(n) for n in net(p).subnets(prefixlen_diff=diff)]
    assert [str(s) for s in p.subnets(diff)] == expected
    assert [str(s) for s in p.subnets(new_prefix=p.prefixlen + diff)] == expected


def test_subnets_are_lazy_on_huge_prefixes() -> None:
    first = next(Prefix.parse("2001:db8::/32").subnets(new_prefix=128))
    assert first == Prefix.parse("2001:db8::/128")


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("10.0.0.0/24", {"new_prefix": 23}, "new prefix length '23' must be between 24 and 32"),
        ("10.0.0.0/24", {"prefixlen_diff": 9}, "new prefix length '33' must be between 24 and 32"),
        ("::/120", {"prefixlen_diff": -1}, "new prefix length '119' must be between 120 and 128"),
    ],
)
def test_subnets_refuse_impossible_lengths(text: str, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidPrefixError) as info:
        list(Prefix.parse(text).subnets(**kwargs))
    assert str(info.value) == message


@given(dense_prefixes, st.integers(0, 130))
def test_supernet_matches_ipaddress(p: Prefix, new: int) -> None:
    if new > p.prefixlen:
        with pytest.raises(
            InvalidPrefixError,
            match=rf"^new prefix length '{new}' must be between 0 and {p.prefixlen}$",
        ):
            p.supernet(new_prefix=new)
        return
    expected = net(p).supernet(new_prefix=new)
    assert str(p.supernet(new_prefix=new)) == str(expected)
    assert p.supernet(p.prefixlen - new) == p.supernet(new_prefix=new)
    assert p.subnet_of(p.supernet(new_prefix=new))


def test_supernet_by_hand() -> None:
    assert Prefix.parse("2001:db8:0:5::/64").supernet() == Prefix.parse("2001:db8:0:4::/63")
    assert Prefix.parse("10.0.1.0/24").supernet(new_prefix=16) == Prefix.parse("10.0.0.0/16")
    with pytest.raises(InvalidPrefixError) as info:
        Prefix.parse("::/0").supernet()
    assert str(info.value) == "new prefix length '-1' must be between 0 and 0"


# -- the public strategies ----------------------------------------------------------------------


@given(st.data())
def test_prefixes_respect_their_arguments(data: st.DataObject) -> None:
    version = data.draw(st.sampled_from([4, 6]))
    width = 32 if version == 4 else 128
    low = data.draw(st.integers(0, width))
    high = data.draw(st.integers(low, width))
    p = data.draw(prefixes(version, low, high))
    assert p.version == version
    assert low <= p.prefixlen <= high
    assert net(p).prefixlen == p.prefixlen  # strict parse: host bits are zero


@given(st.data())
def test_prefixes_within_lie_inside(data: st.DataObject) -> None:
    outer = data.draw(dense_prefixes)
    p = data.draw(prefixes(within=outer))
    assert net(p).subnet_of(net(outer))  # type: ignore[arg-type]
    q = data.draw(prefixes(within=str(outer), min_prefixlen=0, max_prefixlen=outer.max_prefixlen))
    assert q.subnet_of(outer)


@given(prefix_texts())
def test_prefix_texts_are_canonical(text: str) -> None:
    n = ipaddress.ip_network(text, strict=True)
    assert text == f"{canonical(n.network_address)}/{n.prefixlen}"
    assert str(Prefix.parse(text)) == text


@given(prefix_texts(version=4, min_prefixlen=24, max_prefixlen=26, within="10.0.0.0/16"))
def test_prefix_texts_pass_their_arguments_on(text: str) -> None:
    n = ipaddress.IPv4Network(text)
    assert 24 <= n.prefixlen <= 26
    assert n.subnet_of(ipaddress.IPv4Network("10.0.0.0/16"))


@given(addresses(6, within="2001:db8::/120"), addresses(4), addresses())
def test_addresses_respect_their_arguments(
    inside: ipaddress.IPv4Address | ipaddress.IPv6Address,
    v4: ipaddress.IPv4Address | ipaddress.IPv6Address,
    either: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    assert inside in ipaddress.IPv6Network("2001:db8::/120")
    assert isinstance(v4, ipaddress.IPv4Address)
    assert isinstance(either, ipaddress.IPv4Address | ipaddress.IPv6Address)


@given(interfaces(), interfaces(120, 123))
def test_interfaces_are_ipv6_interface_text(text: str, small: str) -> None:
    interface = ipaddress.IPv6Interface(text)
    assert text == f"{canonical(interface.ip)}/{interface.network.prefixlen}"
    assert 48 <= interface.network.prefixlen <= 128
    assert 120 <= ipaddress.IPv6Interface(small).network.prefixlen <= 123


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: prefixes(version=5), "version must be 4, 6 or None, not 5"),
        (
            lambda: prefixes(version=4, max_prefixlen=33),
            "max_prefixlen must be an int in 0-32, not 33",
        ),
        (lambda: prefixes(max_prefixlen=64), "max_prefixlen must be an int in 0-32, not 64"),
        (
            lambda: prefixes(version=6, min_prefixlen=-1),
            "min_prefixlen must be an int in 0-128, not -1",
        ),
        (
            lambda: prefixes(version=6, min_prefixlen=65, max_prefixlen=64),
            "no prefix of length 65-64",
        ),
        (
            lambda: prefixes(version=6, within="10.0.0.0/8"),
            "version=6 disagrees with within='10.0.0.0/8'",
        ),
        (
            lambda: prefix_texts(within="10.0.0.0/8", max_prefixlen=4),
            "no prefix of length 8-4 fits within='10.0.0.0/8'",
        ),
        (lambda: addresses(version=4, within="::/0"), "version=4 disagrees with within='::/0'"),
        (lambda: interfaces(129), "min_prefixlen must be an int in 0-128, not 129"),
        (lambda: interfaces(64, 48), "min_prefixlen=64 exceeds max_prefixlen=48"),
    ],
)
def test_strategies_refuse_impossible_arguments(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(InvalidArgument, match=f"^{re.escape(message)}$"):
        build()


def test_subnets_and_supernet_refuse_both_arguments() -> None:
    p = Prefix.parse("10.0.0.0/16")
    with pytest.raises(InvalidPrefixError, match=r"give prefixlen_diff or new_prefix, not both"):
        list(p.subnets(prefixlen_diff=2, new_prefix=20))
    with pytest.raises(InvalidPrefixError, match=r"give prefixlen_diff or new_prefix, not both"):
        p.supernet(prefixlen_diff=2, new_prefix=8)


_ADDRESS_CHARS = "0123456789abcdefABCDEF:.x "


@given(
    st.one_of(
        st.text(alphabet=_ADDRESS_CHARS, max_size=45),
        st.integers(0, 2**128 - 1).map(lambda v: str(ipaddress.IPv6Address(v))),
        st.integers(0, 2**32 - 1).map(lambda v: str(ipaddress.IPv4Address(v))),
        st.lists(
            st.sampled_from(["0", "00", "01", "9", "255", "256", ""]), min_size=3, max_size=5
        ).map(".".join),
    )
)
def test_address_parsing_accepts_exactly_what_ipaddress_accepts(text: str) -> None:
    try:
        expected: tuple[int, int] | None = (
            (6, int(ipaddress.IPv6Address(text))) if ":" in text
            else (4, int(ipaddress.IPv4Address(text)))
        )  # fmt: skip
    except ValueError:
        expected = None
    try:
        got: tuple[int, int] | None = (
            Prefix.from_address(text).version,
            Prefix.from_address(text).value,
        )
    except InvalidPrefixError:
        got = None
    assert got == expected


def test_trusted_prefixes_are_real_frozen_prefixes() -> None:
    made = Prefix._trusted(6, 0x20010DB8 << 96, 32)
    assert type(made) is Prefix
    assert made == Prefix(6, 0x20010DB8 << 96, 32)
    assert hash(made) == hash(Prefix.parse("2001:db8::/32"))
    assert str(made) == "2001:db8::/32"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.value = 0  # type: ignore[misc]
