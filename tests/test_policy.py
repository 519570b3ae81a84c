"""Tests of the mask policies: the reference table, SafePolicy, the length policies, providers."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc._errors import (
    ConfigurationError,
    InvalidPrefixError,
    Ipv6AllocError,
    PolicyError,
)
from ipv6alloc._interface import Decision, Interface, Policy
from ipv6alloc._policy import (
    ExtraBitsPolicy,
    FixedPolicy,
    PodsPolicy,
    SafePolicy,
    TalosPolicy,
)
from ipv6alloc._prefix import Prefix
from ipv6alloc._provider import ProviderPolicy

# An address with bits set everywhere, so that every prefix length cuts through set bits.
ADDRESS = "2001:db8:1234:5678:9abc:def0:1357:9bdf"


def network(address: str, prefixlen: int) -> Prefix:
    """The /prefixlen holding ``address``, computed by ``ipaddress`` (an independent oracle)."""
    return Prefix.from_network(ipaddress.ip_interface(f"{address}/{prefixlen}").network)


# -- the reference table, written from docs (domain: "How the reference tool decides") --------

# P -> (pool length, pod prefix length), or None when the reference refuses or skips the node.
TALOS_TABLE: dict[int, tuple[int, int] | None] = {
    **dict.fromkeys(range(64), (64, 80)),  # < 64: the /64 holding the address, /80
    **{p: (p, p + 16) for p in range(64, 100)},  # 64-99: P+16
    **{p: (p, p + 8) for p in range(100, 106)},  # 100-105: P+8
    **{p: (p, p + 4) for p in range(106, 112)},  # 106-111: P+4
    **{p: (p, p + 2) for p in range(112, 119)},  # 112-118: P+2
    119: (119, 120),  # 119: /120
    **{p: (p, p) for p in range(120, 124)},  # 120-123: the whole subnet
    **dict.fromkeys(range(124, 129)),  # 124-127: too small; 128: skipped
}


def test_table_covers_every_length() -> None:
    assert sorted(TALOS_TABLE) == list(range(129))


@pytest.mark.parametrize("p", range(129))
def test_talos_table_row(p: int) -> None:
    row = TALOS_TABLE[p]
    if row is None:
        with pytest.raises(PolicyError):
            TalosPolicy().choose(f"{ADDRESS}/{p}")
        return
    pool_len, pod_len = row
    d = TalosPolicy().choose(f"{ADDRESS}/{p}")
    assert d.pool == network(ADDRESS, pool_len)
    assert d.prefixlen == pod_len
    assert d.reserved == ()
    assert d.policy == "talos"
    assert d.interface == Interface.parse(f"{ADDRESS}/{p}")


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0, 65536),
        (63, 65536),
        (64, 65536),
        (99, 65536),
        (100, 256),
        (105, 256),
        (106, 16),
        (111, 16),
        (112, 4),
        (118, 4),
        (119, 2),
        (120, 1),
        (123, 1),
    ],
)
def test_talos_prefixes_per_subnet(p: int, expected: int) -> None:
    assert TalosPolicy().choose(f"{ADDRESS}/{p}").num_prefixes == expected


@pytest.mark.parametrize("p", [124, 125, 126, 127])
def test_talos_too_small_message(p: int) -> None:
    text = f"2001:db8::1/{p}"
    with pytest.raises(PolicyError) as info:
        TalosPolicy().choose(text)
    assert str(info.value) == (
        f"'{text}' is a /{p}: CIDRv6 is too small (the reference table needs a /123 or shorter)"
    )


def test_talos_128_is_skipped() -> None:
    with pytest.raises(PolicyError) as info:
        TalosPolicy().choose("2001:db8::1/128")
    assert str(info.value) == (
        "'2001:db8::1/128' is a /128: it has no room for pods (the reference tool skips such nodes)"
    )


# The seed article's five nodes: node address, on-link length, the IPv6 podCIDR shown there.
SEED = [
    ("2001:a:b:2875::7952", 64, "2001:a:b:2875::/80"),
    ("2a00:a:0:1c4::64", 64, "2a00:a:0:1c4::/80"),
    ("2a09:a:f:42f6::1", 64, "2a09:a:f:42f6::/80"),
    ("2a02:a:152:202::100", 121, "2a02:a:152:202::100/121"),
    ("2a02:a:153:201::100", 121, "2a02:a:153:201::100/121"),
]


@pytest.mark.parametrize(("address", "p", "pod"), SEED)
def test_talos_seed_nodes(address: str, p: int, pod: str) -> None:
    d = TalosPolicy().choose(f"{address}/{p}")
    first = Prefix.parse(pod)
    # The seed's podCIDR is the pool's first block of the decided length.
    assert d.prefixlen == first.prefixlen
    assert d.pool.value == first.value
    assert d.pool == network(address, p)


def test_talos_seed_reason() -> None:
    d = TalosPolicy().choose("2001:a:b:2875::7952/64")
    assert d.reason == (
        "2001:a:b:2875::7952/64 is a /64: pods get /80 blocks from it (P+16, the reference table)"
    )
    d = TalosPolicy().choose("2a02:a:152:202::100/121")
    assert d.reason == (
        "2a02:a:152:202::100/121 is a /121: pods get the whole subnet as one /121 block "
        "(the reference table)"
    )
    d = TalosPolicy().choose("2001:db8:0:5::1/56")
    assert d.reason == (
        "2001:db8:0:5::1/56 is a /56, shorter than /64: pods get /80 blocks from "
        "2001:db8:0:5::/64, the /64 holding the address (the reference table)"
    )


def test_talos_never_reserves() -> None:
    d = TalosPolicy().choose("2001:db8::7/64", reserved=["2001:db8::1", "2001:db8::7"])
    assert d.reserved == ()


def test_talos_validates_reserved() -> None:
    with pytest.raises(InvalidPrefixError, match=r"'nope' is not a valid"):
        TalosPolicy().choose("2001:db8::7/64", reserved=["nope"])


# -- Interface ---------------------------------------------------------------------------------


def test_interface_parse_forms() -> None:
    expected = Interface(int(ipaddress.IPv6Address("2001:db8::7")), 64)
    assert Interface.parse("2001:db8::7/64") == expected
    assert Interface.parse("2001:DB8:0::7/64") == expected
    assert Interface.parse(ipaddress.IPv6Interface("2001:db8::7/64")) == expected
    assert Interface.parse(expected) is expected
    netaddr: Any = pytest.importorskip("netaddr")
    assert Interface.parse(netaddr.IPNetwork("2001:db8::7/64")) == expected


def test_interface_text_and_parts() -> None:
    i = Interface.parse("2A02:A:152:202:0::100/121")
    assert str(i) == "2a02:a:152:202::100/121"
    assert repr(i) == "Interface('2a02:a:152:202::100/121')"
    assert i.subnet == Prefix.parse("2a02:a:152:202::100/121")
    assert i.address_prefix == Prefix.parse("2a02:a:152:202::100/128")
    i = Interface.parse("2001:db8::ffff/112")
    assert i.subnet == Prefix.parse("2001:db8::/112")
    assert Interface.parse("::/0").subnet == Prefix.parse("::/0")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2001:db8::7", "'2001:db8::7' has no prefix length (expected the node's address/len)"),
        ("10.0.0.1/24", "'10.0.0.1/24' is IPv4; provider subnets must be IPv6"),
        (
            ipaddress.IPv4Interface("10.0.0.1/24"),
            "'10.0.0.1/24' is IPv4; provider subnets must be IPv6",
        ),
        (ipaddress.IPv4Address("10.0.0.1"), "'10.0.0.1' is IPv4; provider subnets must be IPv6"),
        ("fe80::1%eth0/64", "'fe80::1%eth0/64' has a zone id; a subnet cannot have one"),
        ("fe80::1%eth0", "'fe80::1%eth0' has a zone id; a subnet cannot have one"),
        (
            ipaddress.IPv6Interface("fe80::1%eth0/64"),
            "'fe80::1%eth0/64' has a zone id; a subnet cannot have one",
        ),
        (
            "2001:db8::7/064",
            (
                "'2001:db8::7/064' has an invalid prefix length '064' (expected 0-128 without "
                "leading zeros)"
            ),
        ),
        (
            "2001:db8::7/129",
            (
                "'2001:db8::7/129' has an invalid prefix length '129' (expected 0-128 without "
                "leading zeros)"
            ),
        ),
        (
            "2001:db8::7/",
            "'2001:db8::7/' has an invalid prefix length '' (expected 0-128 without leading zeros)",
        ),
        (
            " 2001:db8::7/64",
            "' 2001:db8::7/64' is not a valid IPv6 address with a prefix length",
        ),
        ("bogus/64", "'bogus/64' is not a valid IPv6 address with a prefix length"),
        (
            "::ffff:10.0.0.1/120",
            "'::ffff:10.0.0.1/120' is an IPv4-mapped address; provider subnets must be IPv6",
        ),
        (
            ipaddress.IPv6Address("2001:db8::7"),
            "'2001:db8::7' has no prefix length (expected the node's address/len)",
        ),
        (
            ipaddress.IPv6Network("2001:db8::/64"),
            (
                "'2001:db8::/64' is a network; expected the node's address with its prefix length "
                "(address/len)"
            ),
        ),
        (
            Prefix.parse("2001:db8::/64"),
            (
                "'2001:db8::/64' is a network; expected the node's address with its prefix length "
                "(address/len)"
            ),
        ),
        (Prefix.parse("10.0.0.0/8"), "'10.0.0.0/8' is IPv4; provider subnets must be IPv6"),
        (42, "expected an interface (address/len), got int '42'"),
        (None, "expected an interface (address/len), got NoneType 'None'"),
    ],
)
def test_interface_parse_errors(value: object, message: str) -> None:
    with pytest.raises(InvalidPrefixError) as info:
        Interface.parse(value)  # type: ignore[arg-type]
    assert str(info.value) == message


#: Text that looks like an interface: hex digits, colons, dots, a slash, a length.
INTERFACE_TEXT = st.text(alphabet="0123456789abcdefABCDEF:.%/x ", max_size=45) | st.builds(
    "{}/{}".format,
    st.ip_addresses(v=6).map(str) | st.ip_addresses(v=4).map(str),
    st.integers(-1, 130).map(str) | st.sampled_from(["064", "", "+64", " 64"]),
)


@given(INTERFACE_TEXT)
def test_interface_text_is_read_as_ipaddress_reads_it(text: str) -> None:
    """The oracle: ``ipaddress.IPv6Interface``, minus what a subnet may not be."""
    _, slash, length = text.partition("/")
    try:
        expected: ipaddress.IPv6Interface | None = ipaddress.IPv6Interface(text)
    except ValueError:
        expected = None
    if expected is not None and (
        not slash
        or expected.scope_id
        or not re.fullmatch(r"0|[1-9][0-9]{0,2}", length)
        or int(expected.ip) >> 32 == 0xFFFF
    ):
        expected = None  # no length, a zone id, a length ipaddress reads laxly, IPv4-mapped
    try:
        got: Interface | None = Interface.parse(text)
    except InvalidPrefixError:
        got = None
    if expected is None:
        assert got is None, text
    else:
        assert got is not None, text
        assert (got.address, got.prefixlen) == (int(expected.ip), expected.network.prefixlen)


def test_an_interface_built_directly_is_never_ipv4_mapped() -> None:
    message = "'::ffff:10.0.0.1/120' is an IPv4-mapped address; provider subnets must be IPv6"
    with pytest.raises(InvalidPrefixError, match=re.escape(message)):
        Interface(0xFFFF_0A00_0001, 120)


def test_interface_quotes_long_input() -> None:
    text = "2001:db8:1234:5678:9abc:def0:1357:9bdf/12x"
    with pytest.raises(InvalidPrefixError, match=re.escape("'2001:db8:1234:5678:9abc:def0:1357:")):
        Interface.parse(text)


def test_interface_fields_checked() -> None:
    with pytest.raises(InvalidPrefixError, match=r"address value '-1' is out of range for IPv6"):
        Interface(-1, 64)
    with pytest.raises(InvalidPrefixError, match=r"address value .* is out of range for IPv6"):
        Interface(1 << 128, 64)
    with pytest.raises(InvalidPrefixError, match=r"prefix length '129' is out of range 0-128"):
        Interface(1, 129)
    with pytest.raises(InvalidPrefixError, match=r"prefix length 'True' is out of range"):
        Interface(1, True)


def test_interface_orders_and_hashes() -> None:
    a = Interface.parse("2001:db8::1/64")
    b = Interface.parse("2001:db8::2/64")
    assert a < b
    assert len({a, Interface.parse("2001:db8::1/64"), b}) == 2


# -- Decision ----------------------------------------------------------------------------------


def test_decision_num_prefixes_and_fields() -> None:
    d = FixedPolicy(72).choose("2001:db8::7/64")
    assert d.num_prefixes == 256
    assert d.policy == "fixed"
    assert d.reserved == (Prefix.parse("2001:db8::/128"), Prefix.parse("2001:db8::7/128"))


def test_decision_checks_its_fields() -> None:
    iface = Interface.parse("2001:db8::7/64")
    pool = Prefix.parse("2001:db8::/64")
    r7 = Prefix.parse("2001:db8::7/128")
    r0 = Prefix.parse("2001:db8::/128")
    assert Decision(iface, pool, 80, "ok", (r0, r7), "custom").num_prefixes == 65536
    with pytest.raises(PolicyError, match=r"decision pool '10.0.0.0/8' must be IPv6"):
        Decision(iface, Prefix.parse("10.0.0.0/8"), 24, "x", (), "custom")
    with pytest.raises(PolicyError, match=r"decision prefix length '48' must be between 64"):
        Decision(iface, pool, 48, "x", (), "custom")
    with pytest.raises(PolicyError, match=r"does not hold the node address '2001:db8::7'"):
        Decision(iface, Prefix.parse("2001:db8:1::/64"), 80, "x", (), "custom")
    with pytest.raises(PolicyError, match=r"must be sorted and unique, '2001:db8::/128'"):
        Decision(iface, pool, 80, "x", (r7, r0), "custom")
    with pytest.raises(PolicyError, match=r"must be sorted and unique"):
        Decision(iface, pool, 80, "x", (r7, r7), "custom")
    with pytest.raises(PolicyError, match=r"reserved entry '2001:db8::/80' must be an IPv6 /128"):
        Decision(iface, pool, 80, "x", (Prefix.parse("2001:db8::/80"),), "custom")
    with pytest.raises(PolicyError, match=r"'2001:db9::/128' lies outside the pool"):
        Decision(iface, pool, 80, "x", (Prefix.parse("2001:db9::/128"),), "custom")


# -- SafePolicy --------------------------------------------------------------------------------


@pytest.mark.parametrize("p", range(120))
def test_safe_follows_the_table_up_to_119(p: int) -> None:
    # Low bits 0x017: the node is in the lower /120 of a /119, so the upper /120 stays free.
    address = "2001:db8:1234:5678:9abc:def0:1357:9a17"
    row = TALOS_TABLE[p]
    assert row is not None
    d = SafePolicy().choose(f"{address}/{p}")
    assert d.pool == network(address, row[0])
    assert d.prefixlen == row[1]
    assert d.policy == "safe"
    anycast = Prefix.from_address(d.pool.network_address)
    assert d.reserved == tuple(sorted({Prefix.from_address(address), anycast}))


def test_safe_seed_example() -> None:
    d = SafePolicy().choose("2a02:a:152:202::100/121")
    assert d.pool == Prefix.parse("2a02:a:152:202::100/121")
    assert d.prefixlen == 122
    assert d.reserved == (Prefix.parse("2a02:a:152:202::100/128"),)
    assert d.reason == (
        "2a02:a:152:202::100/121 is a /121, which the reference table hands out whole: pods get "
        "the upper /122 half 2a02:a:152:202::140/122 instead, because the lower half holds the "
        "node address and the subnet-router anycast address"
    )


def test_safe_seed_64_reason() -> None:
    d = SafePolicy().choose("2001:a:b:2875::7952/64")
    assert d.reserved == (
        Prefix.parse("2001:a:b:2875::/128"),
        Prefix.parse("2001:a:b:2875::7952/128"),
    )
    assert d.reason == (
        "2001:a:b:2875::7952/64 is a /64: pods get /80 blocks from it (P+16, the reference "
        "table), except blocks holding one of its 2 reserved addresses"
    )


@pytest.mark.parametrize(
    ("p", "min_pod_addresses", "expected"),
    [
        (120, 16, 121),
        (121, 16, 122),
        (122, 16, 123),
        (123, 16, 124),
        (124, 8, 125),
        (125, 4, 126),
        (126, 2, 127),
        (126, 1, 127),
    ],
)
def test_safe_halves_small_subnets(p: int, min_pod_addresses: int, expected: int) -> None:
    # Node at the subnet's second address: lower half is reserved, upper half is free.
    subnet = Prefix.parse(f"2001:db8::/{p}")
    d = SafePolicy(min_pod_addresses).choose(f"2001:db8::1/{p}")
    assert d.pool == subnet
    assert d.prefixlen == expected
    assert d.reserved == (Prefix.parse("2001:db8::/128"), Prefix.parse("2001:db8::1/128"))
    verdict = "hands out whole" if p < 124 else "refuses as too small"
    upper = Prefix._trusted(6, subnet.value + subnet.num_addresses // 2, expected)
    assert d.reason == (
        f"2001:db8::1/{p} is a /{p}, which the reference table {verdict}: pods get the upper "
        f"/{expected} half {upper} instead, because the lower half holds the node address and "
        "the subnet-router anycast address"
    )


@pytest.mark.parametrize(("p", "half"), [(124, 8), (125, 4), (126, 2)])
def test_safe_min_pod_addresses_limit(p: int, half: int) -> None:
    with pytest.raises(PolicyError) as info:
        SafePolicy().choose(f"2001:db8::1/{p}")
    assert str(info.value) == (
        f"'2001:db8::1/{p}' is a /{p}: its /{p + 1} halves hold {half} addresses each, fewer "
        "than min_pod_addresses=16"
    )
    assert SafePolicy(half).choose(f"2001:db8::1/{p}").prefixlen == p + 1


def test_safe_min_pod_addresses_applies_to_table_lengths() -> None:
    with pytest.raises(PolicyError) as info:
        SafePolicy(1 << 64).choose("2001:db8::7/64")
    assert str(info.value) == (
        "'2001:db8::7/64' is a /64: its /80 pod prefixes (the reference table) hold "
        "281474976710656 addresses, fewer than min_pod_addresses=18446744073709551616"
    )
    assert SafePolicy(1 << 48).choose("2001:db8::7/64").prefixlen == 80


def test_safe_node_in_upper_half_leaves_no_half() -> None:
    with pytest.raises(PolicyError) as info:
        SafePolicy().choose("2a02:a:152:202::17f/121")
    assert str(info.value) == (
        "'2a02:a:152:202::17f/121': both /122 halves of 2a02:a:152:202::100/121 hold a reserved "
        "address (the node address, the subnet-router anycast address or a caller's), so no pod "
        "prefix is free"
    )


def test_safe_119_with_node_in_upper_half() -> None:
    with pytest.raises(PolicyError, match=r"both /120 halves of 2001:db8::/119 hold a reserved"):
        SafePolicy().choose("2001:db8::1ff/119")


def test_safe_caller_reserved() -> None:
    d = SafePolicy().choose(
        "2001:db8::1/120",
        reserved=[
            "2001:db8::2",  # inside, lower half
            ipaddress.IPv6Address("2001:db8::3"),  # inside, lower half
            Prefix.parse("2001:db8::2/128"),  # duplicate
            "2001:db9::1",  # outside the pool: ignored
            "10.0.0.1",  # IPv4: ignored
        ],
    )
    assert [str(r) for r in d.reserved] == [
        "2001:db8::/128",
        "2001:db8::1/128",
        "2001:db8::2/128",
        "2001:db8::3/128",
    ]
    assert d.reason.endswith(
        "because the lower half holds the node address, the subnet-router anycast address and "
        "2 other reserved addresses"
    )
    with pytest.raises(PolicyError, match=r"both /121 halves of 2001:db8::/120 hold a reserved"):
        SafePolicy().choose("2001:db8::1/120", reserved=["2001:db8::80"])


def test_safe_node_is_the_anycast_address_with_caller_reserved() -> None:
    d = SafePolicy().choose("2001:db8::/122", reserved=["2001:db8::5"])
    assert d.reason.endswith(
        "the lower half holds the node address, the subnet-router anycast address and 1 other "
        "reserved address"
    )


def test_safe_node_in_upper_half_of_lower_subnet() -> None:
    d = SafePolicy().choose("2001:db8::1/121", reserved=[])
    assert d.prefixlen == 122


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2001:db8::1/127",
            "'2001:db8::1/127' is a /127: too small for pods (its halves are single addresses)",
        ),
        (
            "2001:db8::1/128",
            (
                "'2001:db8::1/128' is a /128: it has no room for pods (the reference tool skips "
                "such nodes)"
            ),
        ),
    ],
)
def test_safe_refuses_127_and_128(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        SafePolicy(1).choose(text)
    assert str(info.value) == message


@pytest.mark.parametrize("value", [0, 3, 24, (1 << 64) * 2, -16, True, "16", 16.0])
def test_safe_config_errors(value: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"min_pod_addresses must be"):
        SafePolicy(value)


def test_safe_config_messages() -> None:
    with pytest.raises(ConfigurationError) as info:
        SafePolicy(24)
    assert str(info.value) == "min_pod_addresses must be a power of two, not '24'"
    with pytest.raises(ConfigurationError) as info:
        SafePolicy(0)
    assert str(info.value) == "min_pod_addresses must be an integer from 1 to 2**64, not '0'"


def test_safe_repr_and_name() -> None:
    assert repr(SafePolicy()) == "SafePolicy()"
    assert repr(SafePolicy(4)) == "SafePolicy(min_pod_addresses=4)"
    assert SafePolicy().name == "safe"
    assert SafePolicy(16) == SafePolicy()


# -- reserved argument -------------------------------------------------------------------------


def test_reserved_takes_a_single_address_as_one() -> None:
    single = SafePolicy().choose("2001:db8::7/64", reserved="2001:db8::1")
    assert single == SafePolicy().choose("2001:db8::7/64", reserved=["2001:db8::1"])
    assert [str(r) for r in single.reserved] == [
        "2001:db8::/128",
        "2001:db8::1/128",
        "2001:db8::7/128",
    ]
    one_prefix = Prefix.parse("2001:db8::1/128")
    assert SafePolicy().choose("2001:db8::7/64", reserved=one_prefix) == single  # type: ignore[arg-type]
    with pytest.raises(TypeError) as type_info:
        SafePolicy().choose("2001:db8::7/64", reserved=1)  # type: ignore[arg-type]
    assert str(type_info.value) == (
        "reserved must be a prefix or an address, or an iterable of them, not int '1'"
    )


def test_reserved_entries_are_addresses() -> None:
    with pytest.raises(InvalidPrefixError) as info:
        SafePolicy().choose("2001:db8::7/64", reserved=["2001:db8::/120"])
    assert str(info.value) == (
        "reserved entry '2001:db8::/120' is a network; reserved entries are addresses"
    )


# -- FixedPolicy, ExtraBitsPolicy, PodsPolicy --------------------------------------------------


def test_fixed_carves_long_subnets_without_a_cap() -> None:
    d = FixedPolicy(80).choose("2001:db8::7/48")
    assert d.pool == Prefix.parse("2001:db8::/48")
    assert d.prefixlen == 80
    assert d.num_prefixes == 1 << 32
    assert d.reason == (
        "2001:db8::7/48 is a /48: pods get /80 blocks from it (fixed /80), except blocks "
        "holding one of its 2 reserved addresses"
    )


def test_fixed_clamps() -> None:
    d = FixedPolicy(64, min_prefixlen=96).choose("2001:db8::7/64")
    assert d.prefixlen == 96
    assert "(fixed /64, clamped to /96)" in d.reason


def test_fixed_too_short_message() -> None:
    with pytest.raises(PolicyError) as info:
        FixedPolicy(80).choose("2001:db8::7/96")
    assert str(info.value) == (
        "'2001:db8::7/96' is a /96: a /80 pod prefix (fixed /80) does not fit in it; pod "
        "prefixes must be /96 or longer"
    )


def test_fixed_whole_subnet_message() -> None:
    with pytest.raises(PolicyError) as info:
        FixedPolicy(121).choose("2a02:a:152:202::100/121")
    assert str(info.value) == (
        "'2a02:a:152:202::100/121' is a /121: a /121 pod prefix (fixed /121) would be the whole "
        "subnet, which holds the node address; use a length longer than /121"
    )


def test_length_policies_refuse_128() -> None:
    for policy in (FixedPolicy(128), ExtraBitsPolicy(1), PodsPolicy(1)):
        with pytest.raises(PolicyError, match=r"^'2001:db8::1/128' is a /128: it has no room"):
            policy.choose("2001:db8::1/128")


def test_length_policies_need_a_free_block() -> None:
    with pytest.raises(PolicyError, match=r"both /127 halves of 2001:db8::/126 hold a reserved"):
        FixedPolicy(127).choose("2001:db8::2/126")
    with pytest.raises(PolicyError, match=r"all 4 /128 blocks of 2001:db8::/126 hold a reserved"):
        FixedPolicy(128).choose("2001:db8::2/126", reserved=["2001:db8::1", "2001:db8::3"])
    assert FixedPolicy(128).choose("2001:db8::2/126").reserved == (
        Prefix.parse("2001:db8::/128"),
        Prefix.parse("2001:db8::2/128"),
    )


def test_extra_bits() -> None:
    assert ExtraBitsPolicy(16).choose("2001:db8::7/64").prefixlen == 80
    assert ExtraBitsPolicy(16).choose("2001:db8::7/48").pool == Prefix.parse("2001:db8::/48")
    d = ExtraBitsPolicy(16).choose("2001:db8::7/120")
    assert d.prefixlen == 128
    assert "(P+16 = /136, clamped to /128)" in d.reason
    d = ExtraBitsPolicy(4, min_prefixlen=80).choose("2001:db8::7/64")
    assert d.prefixlen == 80
    assert "(P+4 = /68, clamped to /80)" in d.reason
    with pytest.raises(PolicyError) as info:
        ExtraBitsPolicy(8, max_prefixlen=64).choose("2001:db8::7/96")
    assert str(info.value) == (
        "'2001:db8::7/96' is a /96: a /64 pod prefix (P+8 = /104, clamped to /64) does not fit "
        "in it; pod prefixes must be /96 or longer"
    )


@pytest.mark.parametrize(
    ("max_pods", "expected"),
    [
        (1, 128),
        (2, 127),
        (3, 126),
        (4, 126),
        (110, 121),
        (128, 121),
        (129, 120),
        (256, 120),
        (1 << 16, 112),
        ((1 << 16) + 1, 111),
        (1 << 128, 0),
    ],
)
def test_pods_length(max_pods: int, expected: int) -> None:
    p = PodsPolicy(max_pods, min_prefixlen=0)
    if expected > 64:
        assert p.choose("2001:db8::7/64").prefixlen == expected
    else:
        with pytest.raises(PolicyError, match=rf"a /{expected} pod prefix"):
            p.choose("2001:db8::7/64")


def test_pods_clamps_and_explains() -> None:
    d = PodsPolicy(110, max_prefixlen=112).choose("2001:db8::7/64")
    assert d.prefixlen == 112
    assert "(/121 holds 110 pods, clamped to /112)" in d.reason
    d = PodsPolicy(110).choose("2001:db8::7/64")
    assert d.reason == (
        "2001:db8::7/64 is a /64: pods get /121 blocks from it (/121 holds 110 pods), except "
        "blocks holding one of its 2 reserved addresses"
    )


TEXT_64: Any = "64"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: FixedPolicy(129), "prefixlen must be an integer from 0 to 128, not '129'"),
        (lambda: FixedPolicy(-1), "prefixlen must be an integer from 0 to 128, not '-1'"),
        (lambda: FixedPolicy(True), "prefixlen must be an integer from 0 to 128, not 'True'"),
        (
            lambda: FixedPolicy(80, min_prefixlen=90, max_prefixlen=70),
            "min_prefixlen '90' must not be greater than max_prefixlen '70'",
        ),
        (
            lambda: FixedPolicy(80, max_prefixlen=200),
            "max_prefixlen must be an integer from 0 to 128, not '200'",
        ),
        (
            lambda: FixedPolicy(80, min_prefixlen=TEXT_64),
            "min_prefixlen must be an integer from 0 to 128, not '64'",
        ),
        (lambda: ExtraBitsPolicy(0), "bits must be an integer from 1 to 128, not '0'"),
        (lambda: ExtraBitsPolicy(129), "bits must be an integer from 1 to 128, not '129'"),
        (lambda: PodsPolicy(0), "max_pods must be an integer from 1 to 2**128, not '0'"),
        (
            lambda: PodsPolicy((1 << 128) + 1),
            (
                "max_pods must be an integer from 1 to 2**128, not "
                "'340282366920938463463374607431768211457'"
            ),
        ),
    ],
)
def test_length_policy_config_errors(make: Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        make()
    assert str(info.value) == message


def test_length_policy_repr_and_name() -> None:
    assert repr(FixedPolicy(80)) == "FixedPolicy(80)"
    assert repr(FixedPolicy(80, min_prefixlen=64, max_prefixlen=96)) == (
        "FixedPolicy(80, min_prefixlen=64, max_prefixlen=96)"
    )
    assert repr(ExtraBitsPolicy(16, max_prefixlen=120)) == "ExtraBitsPolicy(16, max_prefixlen=120)"
    assert repr(PodsPolicy(110)) == "PodsPolicy(110)"
    assert repr(TalosPolicy()) == "TalosPolicy()"
    names = [p.name for p in (FixedPolicy(80), ExtraBitsPolicy(8), PodsPolicy(8), TalosPolicy())]
    assert names == ["fixed", "extra-bits", "pods", "talos"]


# -- ProviderPolicy ----------------------------------------------------------------------------


def hetzner() -> ProviderPolicy:
    return ProviderPolicy(
        {  # keys of mixed types: text and Prefix
            "2a01:4f8::/29": FixedPolicy(80),
            "2a01:4f8:c0c::/48": PodsPolicy(256),
            Prefix.parse("2a02:a::/32"): SafePolicy(),
        },
        default=TalosPolicy(),
    )


def test_provider_longest_match_wins() -> None:
    policy = hetzner()
    d = policy.choose("2a01:4f8:c0c:1::1/64")
    assert d.prefixlen == 120
    assert d.policy == "provider(2a01:4f8:c0c::/48)/pods"
    assert d.reason.startswith("rule 2a01:4f8:c0c::/48: 2a01:4f8:c0c:1::1/64 is a /64")
    d = policy.choose("2a01:4f8:1:2::1/64")
    assert d.prefixlen == 80
    assert d.policy == "provider(2a01:4f8::/29)/fixed"
    assert d.reason == (
        "rule 2a01:4f8::/29: 2a01:4f8:1:2::1/64 is a /64: pods get /80 blocks from it "
        "(fixed /80), except blocks holding one of its 2 reserved addresses"
    )
    assert policy.rule_for("2a01:4f8:c0c:1::1/64") == Prefix.parse("2a01:4f8:c0c::/48")
    assert policy.rule_for("2001:db8::1/64") is None


def test_provider_rule_must_contain_the_whole_subnet() -> None:
    # A /40 subnet is not inside the /48 rule, only inside the /29 one.
    d = hetzner().choose("2a01:4f8:c0c::1/40")
    assert d.policy == "provider(2a01:4f8::/29)/fixed"
    # The rule's own prefix as subnet matches it.
    assert hetzner().choose("2a01:4f8:c0c::1/48").policy == "provider(2a01:4f8:c0c::/48)/pods"


def test_provider_default() -> None:
    d = hetzner().choose("2001:db8::7/64")
    assert d.policy == "provider(default)/talos"
    assert d.reason == (
        "no rule matched, default policy: 2001:db8::7/64 is a /64: pods get /80 blocks from it "
        "(P+16, the reference table)"
    )
    assert ProviderPolicy([]).choose("2001:db8::7/64").policy == "provider(default)/safe"


def test_provider_passes_reserved_and_prefixes_errors() -> None:
    d = hetzner().choose("2a02:a:152:202::100/121", reserved=["2a02:a:152:202::101"])
    assert d.policy == "provider(2a02:a::/32)/safe"
    assert Prefix.parse("2a02:a:152:202::101/128") in d.reserved
    with pytest.raises(PolicyError) as info:
        hetzner().choose("2a01:4f8:1::1/96")
    assert str(info.value) == (
        "rule 2a01:4f8::/29: '2a01:4f8:1::1/96' is a /96: a /80 pod prefix (fixed /80) does not "
        "fit in it; pod prefixes must be /96 or longer"
    )
    assert isinstance(info.value.__cause__, PolicyError)


def test_provider_accepts_pairs_and_typed_mappings() -> None:
    rules: dict[str, Policy] = {"2001:db8::/32": FixedPolicy(96)}
    assert ProviderPolicy(rules).choose("2001:db8::7/64").prefixlen == 96
    pairs: list[tuple[str, Policy]] = [("2001:db8::/32", FixedPolicy(96))]
    policy = ProviderPolicy(pairs, TalosPolicy())
    assert policy.rules == ((Prefix.parse("2001:db8::/32"), FixedPolicy(96)),)
    assert policy.default == TalosPolicy()
    assert policy.name == "provider"


def test_provider_config_errors() -> None:
    with pytest.raises(ConfigurationError) as info:
        ProviderPolicy([("2001:db8::/32", TalosPolicy()), ("2001:DB8::/32", SafePolicy())])
    assert str(info.value) == "rule '2001:db8::/32' appears twice"
    with pytest.raises(ConfigurationError) as info:
        ProviderPolicy({"10.0.0.0/8": TalosPolicy()})
    assert str(info.value) == "rule '10.0.0.0/8' is IPv4; provider subnets must be IPv6"
    bad: Any = object()
    with pytest.raises(ConfigurationError, match=r"^the policy of rule 2001:db8::/32 must be a"):
        ProviderPolicy({"2001:db8::/32": bad})
    with pytest.raises(ConfigurationError, match=r"^default must be a policy with a choose"):
        ProviderPolicy({}, default=bad)
    with pytest.raises(InvalidPrefixError, match=r"'2001:db8::1/32' has host bits set"):
        ProviderPolicy({"2001:db8::1/32": TalosPolicy()})


def test_provider_repr() -> None:
    assert repr(ProviderPolicy({"2001:db8::/32": FixedPolicy(80)}, TalosPolicy())) == (
        "ProviderPolicy({'2001:db8::/32': FixedPolicy(80)}, default=TalosPolicy())"
    )


# -- every error is both the library's and a ValueError ----------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: TalosPolicy().choose("2001:db8::1/126"),
        lambda: SafePolicy().choose("2001:db8::1/128"),
        lambda: Interface.parse("2001:db8::1"),
        lambda: SafePolicy(3),
        lambda: FixedPolicy(80).choose("2001:db8::1/96"),
        lambda: ProviderPolicy([("10.0.0.0/8", TalosPolicy())]),
    ],
)
def test_errors_are_library_errors_and_value_errors(call: Any) -> None:
    with pytest.raises(Ipv6AllocError) as info:
        call()
    assert isinstance(info.value, ValueError)


# -- properties ---------------------------------------------------------------------------------


POLICIES: list[Policy] = [
    TalosPolicy(),
    SafePolicy(),
    SafePolicy(1),
    FixedPolicy(80),
    FixedPolicy(120, min_prefixlen=100),
    ExtraBitsPolicy(16),
    ExtraBitsPolicy(4, max_prefixlen=124),
    PodsPolicy(110),
    ProviderPolicy({"2000::/3": FixedPolicy(96), "2001:db8::/32": PodsPolicy(8)}, SafePolicy()),
]


@st.composite
def interfaces(draw: st.DrawFn) -> Interface:
    p = draw(st.integers(0, 128))
    base = draw(
        st.one_of(
            st.integers(0, (1 << 128) - 1),
            st.sampled_from([0x20010DB8 << 96, 0x2A01_04F8_0C0C << 80, (1 << 128) - 1]),
        )
    )
    shift = 128 - p
    subnet = base >> shift << shift
    offset = draw(st.one_of(st.integers(0, (1 << shift) - 1), st.sampled_from([0, 1])))
    return Interface(subnet + (offset & ((1 << shift) - 1)), p)


@given(
    iface=interfaces(),
    policy=st.sampled_from(POLICIES),
    extra=st.lists(st.integers(0, 255), max_size=3),
)
def test_every_decision_is_consistent(iface: Interface, policy: Policy, extra: list[int]) -> None:
    size = iface.subnet.num_addresses
    reserved = [Prefix._trusted(6, iface.subnet.value + e % size, 128) for e in extra]
    reserved += [Prefix._trusted(6, iface.address ^ e, 128) for e in extra]
    try:
        d = policy.choose(iface, reserved)
    except PolicyError:
        return
    d._check()  # what a hand-built Decision is checked for; the library's own skip it
    assert d.interface == iface
    assert d.pool.version == 6
    assert d.pool.prefixlen <= d.prefixlen <= 128
    assert d.pool.value <= iface.address <= d.pool.last
    assert list(d.reserved) == sorted(set(d.reserved))
    assert all(r.prefixlen == 128 and r.subnet_of(d.pool) for r in d.reserved)
    assert d.num_prefixes == 1 << (d.prefixlen - d.pool.prefixlen)
    assert d.reason
    assert d.policy.endswith(("talos", "safe", "fixed", "extra-bits", "pods"))
    # Pure: the same inputs give the same decision.
    assert policy.choose(iface, reserved) == d
    if d.policy.endswith("talos"):
        assert d.reserved == ()
    else:
        # Reserving policies keep the node address out and leave at least one block free.
        assert iface.address_prefix in d.reserved
        taken = {r.value >> (128 - d.prefixlen) for r in d.reserved}
        assert len(taken) < d.num_prefixes


def test_a_decision_is_a_frozen_value_whatever_writes_its_reason() -> None:
    import copy
    import dataclasses
    import pickle

    lazy = SafePolicy().choose("2001:db8::7/64")  # the reason is written when read
    text = Decision(
        lazy.interface, lazy.pool, lazy.prefixlen, lazy.reason, lazy.reserved, lazy.policy
    )
    assert lazy == text
    assert hash(lazy) == hash(text)
    assert lazy.reason.startswith("2001:db8::7/64 is a /64: pods get /80 blocks")
    for twin in (pickle.loads(pickle.dumps(lazy)), copy.deepcopy(lazy), copy.copy(lazy)):
        assert twin == lazy
        assert twin.reason == lazy.reason
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.prefixlen = 96
    with pytest.raises(dataclasses.FrozenInstanceError):
        del lazy.pool
    other = lazy.replace(reason="by hand", policy="custom")
    assert (other.reason, other.policy, other.prefixlen) == ("by hand", "custom", 80)
    assert other != lazy
    assert "reason='by hand'" in repr(other)
    with pytest.raises(PolicyError, match="a decision's reason must be text, not '42'"):
        Decision(lazy.interface, lazy.pool, 80, 42, (), "custom")  # type: ignore[arg-type]
    # A composite policy's reason is written lazily too, from the rule and the inner reason.
    rule = ProviderPolicy({"2001:db8::/32": FixedPolicy(96)}).choose("2001:db8::7/64")
    assert rule.reason.startswith("rule 2001:db8::/32: 2001:db8::7/64 is a /64: pods get /96")
