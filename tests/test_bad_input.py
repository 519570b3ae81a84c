"""Bad input at every public entry point of the core: the right error, a short message.

The rule: a value of the wrong type gives ``TypeError`` (or the library's ``ValueError`` subclass
for that argument), a value of the right type that is wrong gives one of the library's
``ValueError`` or ``LookupError`` subclasses. Never another exception (``AttributeError``,
``IndexError``, a bare ``ValueError`` from ``int`` to ``str`` conversion...), never a
``PoolExhaustedError`` (which says "retry later"), and never a message that repeats a huge input.
A rejected call changes nothing.
"""

from __future__ import annotations

import ipaddress
import math
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc import (
    ConfigurationError,
    ExtraBitsPolicy,
    FixedPolicy,
    Interface,
    InvalidPrefixError,
    Ipv6AllocError,
    PodsPolicy,
    PoolExhaustedError,
    Prefix,
    PrefixAllocator,
    ProviderPolicy,
    SafePolicy,
    SnapshotError,
    TalosPolicy,
)
from ipv6alloc._prefix import prefix_items

if TYPE_CHECKING:
    from collections.abc import Callable

HUGE = 10**5000  # beyond int -> str conversion (sys.get_int_max_str_digits())
LONG = "2001:db8::" + "f" * 100_000

#: One value of each kind of garbage, by name: wrong types, out-of-range numbers, huge inputs.
GARBAGE: dict[str, object] = {
    "none": None,
    "true": True,
    "false": False,
    "float": 1.5,
    "nan": math.nan,
    "inf": math.inf,
    "negative": -1,
    "big-int": 2**200,
    "huge-int": HUGE,
    "bytes": b"10.0.0.0/8",
    "list": [1, 2],
    "dict": {"a": 1},
    "set": {1},
    "object": object(),
    "long-text": "x" * 100_000,
    "long-address": LONG,
    "long-length": "2001:db8::/" + "1" * 100_000,
    "long-colons": ":" * 100_000,
    "long-dots": "1." * 50_000,
    "nul": "\x00",
    "surrogate": "\ud800/64",
    "empty": "",
}
#: Values that are valid for some arguments (None for ``pool=``, ``version=``, ``default=``).
NOT_NONE = {name: value for name, value in GARBAGE.items() if value is not None}


def outcome(call: Callable[[], object]) -> Exception | None:
    """The error ``call`` raises, or None."""
    try:
        call()
    except Exception as error:
        return error
    return None


def by_the_rule(error: Exception) -> bool:
    """Whether ``error`` is a TypeError or a ValueError/LookupError of ours, briefly put."""
    lib_error = isinstance(error, Ipv6AllocError) and isinstance(error, ValueError | LookupError)
    return (isinstance(error, TypeError) or lib_error) and len(str(error)) < 300


def rejected(call: Callable[[], object]) -> Exception:
    """Run ``call``, which must fail by the rule above; return the error."""
    error = outcome(call)
    if error is None:
        pytest.fail(f"accepted: {call}")
    assert by_the_rule(error), f"{type(error).__name__}: {str(error)[:300]}"
    return error


# -- 1. Prefix ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ((6, 0, True), "prefix length must be an integer, not bool 'True'"),
        ((6, 0, 64.0), "prefix length must be an integer, not float '64.0'"),
        ((6, False, 0), "address value must be an integer, not bool 'False'"),
        ((6, "0", 0), "address value must be an integer, not str '0'"),
        ((True, 0, 0), "IP version must be 4 or 6, not bool 'True'"),
        ((6.0, 0, 0), "IP version must be 4 or 6, not float '6.0'"),
        ((None, 0, 0), "IP version must be 4 or 6, not NoneType 'None'"),
        ((HUGE, 0, 0), "IP version must be 4 or 6, not '0x"),
    ],
)
def test_prefix_fields_must_be_ints(fields: tuple[Any, Any, Any], message: str) -> None:
    with pytest.raises(InvalidPrefixError, match=f"^{message}") as info:
        Prefix(*fields)
    assert len(str(info.value)) < 300


PREFIX_ENTRIES: dict[str, Callable[[Any], object]] = {
    "Prefix(version)": lambda x: Prefix(x, 0, 0),
    "Prefix(value)": lambda x: Prefix(6, x, 0),
    "Prefix(prefixlen)": lambda x: Prefix(6, 0, x),
    "parse": Prefix.parse,
    "from_address": Prefix.from_address,
    "from_network": Prefix.from_network,
    "coerce": Prefix.coerce,
    "overlaps": lambda x: Prefix.parse("2001:db8::/64").overlaps(x),
    "subnet_of": lambda x: Prefix.parse("2001:db8::/64").subnet_of(x),
    "supernet_of": lambda x: Prefix.parse("2001:db8::/64").supernet_of(x),
    "supernet(diff)": lambda x: Prefix.parse("2001:db8::/64").supernet(x),
    "supernet(new)": lambda x: Prefix.parse("2001:db8::/64").supernet(new_prefix=x),
    "subnets(diff)": lambda x: next(Prefix.parse("2001:db8::/64").subnets(x)),
    "subnets(new)": lambda x: next(Prefix.parse("2001:db8::/64").subnets(new_prefix=x)),
}


@pytest.mark.parametrize("value", list(NOT_NONE.values()), ids=list(NOT_NONE))
@pytest.mark.parametrize("entry", list(PREFIX_ENTRIES.values()), ids=list(PREFIX_ENTRIES))
def test_prefix_entry_points_reject_garbage(entry: Callable[[Any], object], value: object) -> None:
    rejected(lambda: entry(value))


@pytest.mark.parametrize("entry", ["parse", "from_address", "from_network", "coerce"])
def test_prefix_readers_reject_none(entry: str) -> None:
    rejected(lambda: PREFIX_ENTRIES[entry](None))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Prefix.from_address(None), "expected an address, got NoneType 'None'"),  # type: ignore[arg-type]
        (lambda: Prefix.from_address(167772161), "expected an address, got int '167772161'"),  # type: ignore[arg-type]
        (lambda: Prefix.from_network([1]), r"expected a network, got list '\[1\]'"),
        (lambda: Prefix.coerce(b"::/0"), "expected a prefix or an address, got bytes"),  # type: ignore[arg-type]
        (lambda: Prefix.coerce(HUGE), "expected a prefix or an address, got int '0x"),  # type: ignore[arg-type]
        (
            lambda: Prefix.parse("::/0").supernet(new_prefix=True),
            "new_prefix must be an integer, not bool 'True'",
        ),
        (
            lambda: next(Prefix.parse("::/0").subnets(1.5)),  # type: ignore[arg-type]
            "prefixlen_diff must be an integer, not float '1.5'",
        ),
    ],
)
def test_prefix_messages(call: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidPrefixError, match=f"^{message}"):
        call()


@pytest.mark.parametrize("value", list(GARBAGE.values()), ids=list(GARBAGE))
def test_contains_answers_false_for_garbage(value: object) -> None:
    # ``x in prefix`` never raises for a value that is not a prefix (tests/test_prefix.py pins it).
    assert value not in Prefix.parse("::/0")  # type: ignore[operator]


# -- 2. allocate(version=...) -------------------------------------------------------------------


def test_version_must_be_4_6_or_none() -> None:
    a = PrefixAllocator(["10.0.0.0/8", "2001:db8::/32"])
    with pytest.raises(TypeError, match=r"^version must be 4, 6 or None, not str '6'$"):
        a.allocate(80, version="6")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^version must be 4, 6 or None, not bool 'True'$"):
        a.allocate(80, version=True)
    with pytest.raises(InvalidPrefixError, match=r"^IP version must be 4 or 6, not '5'$"):
        a.allocate(80, version=5)
    with pytest.raises(InvalidPrefixError, match=r"^IP version must be 4 or 6, not '5'$"):
        a.allocate(80, pool="2001:db8::/32", version=5)
    assert len(a) == 0
    a._check()


def test_version_is_checked_while_a_run_is_open() -> None:
    a = PrefixAllocator(["2001:db8::/32"])
    for _ in range(3):
        a.allocate(80, version=6)
    assert a._run is not None  # the next request like these would take the hot path
    with pytest.raises(TypeError, match=r"^version must be 4, 6 or None, not float '6.0'$"):
        a.allocate(80, version=6.0)  # type: ignore[arg-type]
    assert a.allocate(80, version=6) == Prefix.parse("2001:db8:0:0:3::/80")
    a._check()


# -- 3. owners ----------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", [[1], {"node": 1}, {1}, (1, [2])], ids=repr)
def test_owner_must_be_hashable(owner: Any) -> None:
    a = PrefixAllocator(["2001:db8::/32"])
    b = PrefixAllocator(["2001:db8::/32"])
    message = rf"^owner must be hashable, not {type(owner).__name__} ['\"]"
    with pytest.raises(TypeError, match=message):
        a.allocate(80, owner=owner)  # the slow path
    for _ in range(3):
        a.allocate(80)
        b.allocate(80)
    assert a._run is not None
    with pytest.raises(TypeError, match=message):
        a.allocate(80, owner=owner)  # the hot path
    with pytest.raises(TypeError, match=message):
        a.occupy("2001:db8:1::/48", owner=owner)
    a._check()
    assert a.snapshot() == b.snapshot()  # nothing changed
    assert a.allocate(80) == b.allocate(80)


def test_unhashable_owner_message_is_short() -> None:
    error = rejected(lambda: PrefixAllocator(["10.0.0.0/8"]).allocate(24, owner=[0] * 100_000))  # type: ignore[arg-type]
    assert str(error) == "owner must be hashable, not list '" + "[0" + ", 0" * 12 + ", ...'"


# -- 4. one value where a collection is expected ------------------------------------------------


@pytest.mark.parametrize(
    "single",
    [
        "10.0.0.0/30",
        Prefix.parse("10.0.0.0/30"),
        ipaddress.ip_network("10.0.0.0/30"),
        netaddr.IPNetwork("10.0.0.0/30"),
    ],
    ids=type,
)
def test_a_single_pool_is_one_pool(single: Any) -> None:
    # Small: read as a collection, a network would give one /32 pool per address.
    assert PrefixAllocator(single).pools == (Prefix.parse("10.0.0.0/30"),)
    a = PrefixAllocator(["10.0.0.0/30"], reserved=single)
    assert a.reserved() == (Prefix.parse("10.0.0.0/30"),)


@pytest.mark.parametrize(
    "single",
    ["10.0.0.1", ipaddress.ip_address("10.0.0.1"), netaddr.IPAddress("10.0.0.1")],
    ids=type,
)
def test_a_single_reserved_address_is_one(single: Any) -> None:
    assert PrefixAllocator(reserved=single).reserved() == (Prefix.parse("10.0.0.1/32"),)


def test_an_interface_is_one_item_and_refused_as_a_pool() -> None:
    with pytest.raises(InvalidPrefixError, match=r"^'10.0.0.1/8' is an interface"):
        PrefixAllocator(ipaddress.ip_interface("10.0.0.1/8"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "what", "message"),
    [
        (
            None,
            "pools",
            "pools must be a prefix or an address, or an iterable of them, not NoneType 'None'",
        ),
        (
            5,
            "reserved",
            "reserved must be a prefix or an address, or an iterable of them, not int '5'",
        ),
    ],
)
def test_a_non_iterable_collection_is_a_type_error(value: Any, what: str, message: str) -> None:
    with pytest.raises(TypeError) as info:
        PrefixAllocator(**{what: value})
    assert str(info.value) == message


def test_prefix_items() -> None:
    interface = Interface.parse("2001:db8::7/64")
    ip_set = netaddr.IPSet(["10.0.0.0/30"])
    singles = [
        "::/0",
        b"::/0",
        Prefix.parse("::/0"),
        ipaddress.ip_network("::/0"),
        ipaddress.ip_interface("::1/64"),
        netaddr.IPNetwork("10.0.0.0/30"),
        ip_set,
        interface,
    ]
    for single in singles:
        assert prefix_items(single, "x") == [single]
    assert prefix_items(("a", "b"), "x") == ["a", "b"]
    assert prefix_items(iter(["a"]), "x") == ["a"]
    assert prefix_items({"a": 1}, "x") == ["a"]
    with pytest.raises(TypeError, match=r"^cluster_cidrs must be a prefix or an address, or an "):
        prefix_items(object(), "cluster_cidrs")


# -- 5. interfaces and policies -----------------------------------------------------------------

POLICY_ENTRIES: dict[str, Callable[[Any], object]] = {
    "Interface.parse": Interface.parse,
    "Interface(address)": lambda x: Interface(x, 64),
    "Interface(prefixlen)": lambda x: Interface(0, x),
    "TalosPolicy.choose": lambda x: TalosPolicy().choose(x),
    "SafePolicy": SafePolicy,
    "SafePolicy.choose": lambda x: SafePolicy().choose(x),
    "SafePolicy.choose(reserved)": lambda x: SafePolicy().choose("2001:db8::7/64", x),
    "SafePolicy.choose(reserved=[x])": lambda x: SafePolicy().choose("2001:db8::7/64", [x]),
    "FixedPolicy": FixedPolicy,
    "FixedPolicy(min)": lambda x: FixedPolicy(80, min_prefixlen=x),
    "FixedPolicy(max)": lambda x: FixedPolicy(80, max_prefixlen=x),
    "FixedPolicy.choose": lambda x: FixedPolicy(80).choose(x),
    "ExtraBitsPolicy": ExtraBitsPolicy,
    "ExtraBitsPolicy(min)": lambda x: ExtraBitsPolicy(8, min_prefixlen=x),
    "ExtraBitsPolicy.choose": lambda x: ExtraBitsPolicy(8).choose(x),
    "PodsPolicy": PodsPolicy,
    "PodsPolicy(max)": lambda x: PodsPolicy(8, max_prefixlen=x),
    "PodsPolicy.choose": lambda x: PodsPolicy(8).choose(x, ["2001:db8::1", x]),
    "ProviderPolicy": ProviderPolicy,
    "ProviderPolicy(rule prefix)": lambda x: ProviderPolicy([(x, SafePolicy())]),
    "ProviderPolicy(rule policy)": lambda x: ProviderPolicy({"2001:db8::/32": x}),
    "ProviderPolicy(pair)": lambda x: ProviderPolicy([x]),
    "ProviderPolicy.choose": lambda x: ProviderPolicy({}).choose(x),
    "ProviderPolicy.rule_for": lambda x: ProviderPolicy({}).rule_for(x),
}


@pytest.mark.parametrize("value", list(GARBAGE.values()), ids=list(GARBAGE))
@pytest.mark.parametrize("entry", list(POLICY_ENTRIES.values()), ids=list(POLICY_ENTRIES))
def test_policy_entry_points_reject_garbage(entry: Callable[[Any], object], value: object) -> None:
    rejected(lambda: entry(value))


@pytest.mark.parametrize("value", list(NOT_NONE.values()), ids=list(NOT_NONE))
def test_provider_default_rejects_garbage(value: object) -> None:
    rejected(lambda: ProviderPolicy({}, default=value))  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: FixedPolicy(True),
            ConfigurationError,
            "prefixlen must be an integer from 0 to 128, not 'True'",
        ),
        (
            lambda: PodsPolicy(HUGE),
            ConfigurationError,
            r"max_pods must be an integer from 1 to 2\*\*128, not '0x",
        ),
        (
            lambda: ProviderPolicy("2001:db8::/32"),  # type: ignore[arg-type]
            TypeError,
            "rules must be a mapping or an iterable of \\(prefix, policy\\) pairs, not str",
        ),
        (
            lambda: ProviderPolicy(["2001:db8::/32"]),  # type: ignore[list-item]
            TypeError,
            r"each rule must be a \(prefix, policy\) pair, not str '2001:db8::/32'",
        ),
        (
            lambda: ProviderPolicy({"2001:db8::/32": HUGE}),  # type: ignore[dict-item]
            ConfigurationError,
            "the policy of rule 2001:db8::/32 must be a policy with a choose\\(\\) method, not '0x",
        ),
    ],
)
def test_policy_messages(call: Callable[[], object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{message}"):
        call()


# -- 6. PrefixAllocator -------------------------------------------------------------------------


def allocator() -> PrefixAllocator:
    """Two pools, a reservation, an owned allocation and an open run (the hot path is live)."""
    a = PrefixAllocator(["10.0.0.0/8", "2001:db8::/32"], reserved=["2001:db8:ffff::/48"])
    a.occupy("10.1.0.0/16", owner="n1")
    for _ in range(3):
        a.allocate(64)
    assert a._run is not None
    return a


_FORMAT = "ipv6alloc.PrefixAllocator/1"


def _snapshot(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": _FORMAT,
        "placement": "lowest",
        "pools": [{"prefix": "10.0.0.0/8", "cursor": "10.0.0.0"}],
        "reserved": [],
        "allocations": [{"prefix": "10.0.0.0/24", "owner": None}],
    }
    data.update(fields)
    return data


ALLOCATOR_ENTRIES: dict[str, Callable[[PrefixAllocator, Any], object]] = {
    "PrefixAllocator(pools)": lambda _, x: PrefixAllocator(x),
    "PrefixAllocator([x])": lambda _, x: PrefixAllocator([x]),
    "PrefixAllocator(reserved)": lambda _, x: PrefixAllocator(reserved=x),
    "PrefixAllocator(placement)": lambda _, x: PrefixAllocator(placement=x),
    "add_pool": PrefixAllocator.add_pool,
    "remove_pool": PrefixAllocator.remove_pool,
    "allocate(prefixlen)": PrefixAllocator.allocate,
    "allocate(prefixlen, pool=)": lambda a, x: a.allocate(x, pool="2001:db8::/32"),
    "allocate(pool=)": lambda a, x: a.allocate(64, pool=x),
    "allocate(version=)": lambda a, x: a.allocate(64, version=x),
    "occupy": PrefixAllocator.occupy,
    "release": PrefixAllocator.release,
    "reserve": PrefixAllocator.reserve,
    "unreserve": PrefixAllocator.unreserve,
    "lookup": PrefixAllocator.lookup,
    "pool_of": PrefixAllocator.pool_of,
    "owner_of": PrefixAllocator.owner_of,
    "free_blocks": PrefixAllocator.free_blocks,
    "cursor": PrefixAllocator.cursor,
    "from_snapshot": lambda _, x: PrefixAllocator.from_snapshot(x),
    "from_snapshot(format)": lambda _, x: PrefixAllocator.from_snapshot(_snapshot(format=x)),
    "from_snapshot(placement)": lambda _, x: PrefixAllocator.from_snapshot(_snapshot(placement=x)),
    "from_snapshot(pools)": lambda _, x: PrefixAllocator.from_snapshot(_snapshot(pools=x)),
    "from_snapshot(pool)": lambda _, x: PrefixAllocator.from_snapshot(
        _snapshot(pools=[{"prefix": x, "cursor": "10.0.0.0"}])
    ),
    "from_snapshot(cursor)": lambda _, x: PrefixAllocator.from_snapshot(
        _snapshot(pools=[{"prefix": "10.0.0.0/8", "cursor": x}])
    ),
    "from_snapshot(reserved)": lambda _, x: PrefixAllocator.from_snapshot(_snapshot(reserved=x)),
    "from_snapshot(reserved=[x])": lambda _, x: PrefixAllocator.from_snapshot(
        _snapshot(reserved=[x])
    ),
    "from_snapshot(allocations)": lambda _, x: PrefixAllocator.from_snapshot(
        _snapshot(allocations=x)
    ),
    "from_snapshot(allocation)": lambda _, x: PrefixAllocator.from_snapshot(
        _snapshot(allocations=[{"prefix": x, "owner": None}])
    ),
    "from_snapshot(allocation item)": lambda _, x: PrefixAllocator.from_snapshot(
        _snapshot(allocations=[x])
    ),
}
#: Entry points for which None is a valid argument.
NONE_IS_VALID = {"allocate(pool=)", "allocate(version=)"}

#: Owners that are not JSON scalars; a snapshot must refuse them.
BAD_OWNERS = {"list": [1], "dict": {"a": 1}, "bytes": b"n1", "huge-list": [HUGE], "tuple": ("n",)}


@pytest.mark.parametrize("value", list(GARBAGE.values()), ids=list(GARBAGE))
@pytest.mark.parametrize("entry", list(ALLOCATOR_ENTRIES), ids=list(ALLOCATOR_ENTRIES))
def test_allocator_entry_points_reject_garbage(entry: str, value: object) -> None:
    if value is None and entry in NONE_IS_VALID:
        return
    a, b = allocator(), allocator()
    error = rejected(lambda: ALLOCATOR_ENTRIES[entry](a, value))
    assert not isinstance(error, PoolExhaustedError)
    a._check()  # the pending run is checked as it stands
    assert a.snapshot() == b.snapshot(), "a rejected call changes nothing"


@pytest.mark.parametrize("owner", list(BAD_OWNERS.values()), ids=list(BAD_OWNERS))
def test_snapshot_owners_must_be_json_scalars(owner: object) -> None:
    data = _snapshot(allocations=[{"prefix": "10.0.0.0/24", "owner": owner}])
    error = rejected(lambda: PrefixAllocator.from_snapshot(data))
    assert isinstance(error, SnapshotError)
    assert str(error).endswith(" is not a JSON scalar")


def test_allocate_pool_list_is_refused() -> None:
    with pytest.raises(InvalidPrefixError, match=r"^expected a prefix or an address, got list"):
        allocator().allocate(64, pool=[1, 2])  # type: ignore[arg-type]


def test_prefixlen_huge_int_message() -> None:
    with pytest.raises(InvalidPrefixError, match=r"^prefix length '0x[0-9a-f]+\.\.\.' must be an"):
        allocator().allocate(HUGE)


# -- Hypothesis: arbitrary simple objects -------------------------------------------------------

SIMPLE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.binary(),
    st.lists(st.integers()),
    st.dictionaries(st.text(), st.integers()),
)


@given(SIMPLE)
def test_coerce_and_interface_parse_on_anything(value: object) -> None:
    for read in (Prefix.coerce, Interface.parse):
        error = outcome(lambda: read(value))  # type: ignore[arg-type]  # noqa: B023 -- called at once
        assert error is None or by_the_rule(error), f"{type(error).__name__}: {error}"


@given(SIMPLE)
def test_allocator_on_anything(value: object) -> None:
    a = PrefixAllocator(["10.0.0.0/8", "2001:db8::/32"])
    valid_length = type(value) is int and 0 <= value <= 128
    calls: list[Callable[[], object]] = [
        lambda: a.allocate(value),  # type: ignore[arg-type]
        lambda: a.allocate(64, pool=value),  # type: ignore[arg-type]
        lambda: a.allocate(64, version=value),  # type: ignore[arg-type]
        lambda: a.allocate(64, owner=value),
        lambda: a.reserve(value),  # type: ignore[arg-type]
        lambda: a.occupy(value),  # type: ignore[arg-type]
        lambda: a.occupy("10.9.0.0/16", owner=value),
    ]
    for call in calls:
        error = outcome(call)
        if isinstance(error, PoolExhaustedError):
            assert valid_length  # only a well-formed request may find the pools full
        else:
            assert error is None or by_the_rule(error), f"{type(error).__name__}: {error}"
    a._check()


# -- 7. the invariant checks work under python -O -----------------------------------------------

_OPTIMIZED = textwrap.dedent(
    """
    import sys
    assert False, "asserts are stripped under -O: this line must not fail"
    from ipv6alloc import PrefixAllocator

    def caught(call):
        try:
            call()
        except AssertionError as error:
            return str(error)
        return "nothing raised"

    a = PrefixAllocator(["10.0.0.0/16"])
    a.allocate(24)
    a._check()
    pool = next(iter(a._order))
    pool.allocated_prefixes += 1
    print(caught(a._check))
    pool.allocated_prefixes -= 1
    a._families[4].blocks._len += 1  # an index's own _check
    print(caught(a._check))
    a._families[4].blocks._len -= 1
    a._check()
    fam = a._families[4]
    fam.pools.clear()
    fam.pool_lens.clear()
    fam.recent = None
    print(caught(lambda: a.release("10.0.0.0/24")))
    print(sys.flags.optimize)
    """
)


def test_invariant_checks_run_under_python_dash_o() -> None:
    out = subprocess.run(
        [sys.executable, "-O", "-c", _OPTIMIZED], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [
        "count is the pool's own allocations",
        "the length counts the blocks",
        "allocation 10.0.0.0/24 lies in no pool",
        "1",
    ]
