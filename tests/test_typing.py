"""Static types of the public API, checked by mypy (``assert_type``) and run by pytest."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import assert_type

import pytest

import ipv6alloc
from ipv6alloc import (
    Allocation,
    AllocatorStatistics,
    Assignment,
    Decision,
    Node,
    NodeAllocator,
    Prefix,
    PrefixAllocator,
    RestoreResult,
    SafePolicy,
)


def test_prefix_types() -> None:
    p = Prefix.parse("2001:db8::/64")
    assert_type(p, Prefix)
    assert_type(p.prefixlen, int)
    assert_type(p.value, int)
    assert_type(list(p.subnets()), list[Prefix])
    assert_type(p.supernet(), Prefix)
    assert_type(p.overlaps("2001:db8::/48"), bool)
    assert p.subnet_of("2001:db8::/32")


def test_allocator_types() -> None:
    a = PrefixAllocator(["2001:db8::/48"])
    got = a.allocate(64, owner="n1")
    assert_type(got, Prefix)
    assert_type(a.lookup(got), Allocation | None)
    assert_type(a.owner_of(got), Hashable)
    assert_type(a.allocations(), tuple[Allocation, ...])
    assert_type(a.statistics(), AllocatorStatistics)
    assert_type(a.pool_of(got), Prefix | None)
    assert a.owner_of(got) == "n1"


def test_node_allocator_types() -> None:
    alloc = NodeAllocator(["10.0.0.0/16"], node_mask={4: 24})
    assignment = alloc.assign(Node.create("n1"))
    assert_type(assignment, Assignment)
    assert_type(assignment.pod_cidrs, tuple[Prefix, ...])
    assert_type(alloc.restore("n2", ["10.0.9.0/24"]), RestoreResult)
    decision = SafePolicy().choose("2001:db8::7/64")
    assert_type(decision, Decision)
    assert str(assignment.pod_cidrs[0]) == "10.0.0.0/24"


def test_package_is_typed() -> None:
    from importlib.resources import files

    assert files(ipv6alloc).joinpath("py.typed").is_file()


# -- what mypy refuses ---------------------------------------------------------------------------

#: Calls mypy must reject: each line marked ``# error`` must get an error, and no other line.
_WRONG_CALLS = """\
from ipv6alloc import Interface, Node, Prefix, PrefixAllocator, SafePolicy

PrefixAllocator([42])  # error
PrefixAllocator(["2001:db8::/48"]).allocate(64, pool=[1, 2])  # error
Prefix.coerce(3.5)  # error
Interface.parse(7)  # error
Node.create("n", subnets=[1])  # error
Node.create("n", addresses=[b"::1"])  # error
Prefix.parse("::/0").overlaps(0)  # error
SafePolicy().choose("2001:db8::7/64", reserved=[1])  # error
SafePolicy().choose(Prefix.parse("2001:db8::/64"))  # error
"""

#: The same entry points called right: every accepted form, netaddr objects included (``Any`` to
#: mypy, since netaddr ships no type information). mypy must accept all of it.
_RIGHT_CALLS = """\
import ipaddress

import netaddr

from ipv6alloc import (
    AddressLike,
    Interface,
    InterfaceLike,
    Node,
    Prefix,
    PrefixAllocator,
    PrefixLike,
    SafePolicy,
)

prefixes: list[PrefixLike] = [
    "2001:db8::/48",
    Prefix.parse("10.0.0.0/8"),
    ipaddress.ip_network("10.1.0.0/16"),
    ipaddress.IPv6Network("2001:db9::/48"),
    ipaddress.IPv4Address("10.2.0.1"),
    ipaddress.IPv6Address("2001:dba::1"),
    netaddr.IPNetwork("2001:dbb::/48"),
]
a = PrefixAllocator(prefixes, reserved=["2001:db8::/64", netaddr.IPAddress("2001:db8::1")])
a.allocate(64, pool="2001:db8::/48")
a.allocate(64, pool=netaddr.IPNetwork("2001:db8::/48"))
Prefix.coerce("10.0.0.1")
Prefix.coerce(netaddr.IPAddress("10.0.0.1"))
interfaces: list[InterfaceLike] = [
    "2001:db8::7/64",
    Interface.parse("2001:db8::7/64"),
    ipaddress.IPv6Interface("2001:db8::7/64"),
    netaddr.IPNetwork("2001:db8::7/64"),
]
addresses: list[AddressLike] = ["2001:db8::1", ipaddress.IPv6Address("2001:db8::2")]
Node.create("n", subnets=interfaces, addresses=addresses)
Node.create("n", subnets="2001:db8::7/64", addresses="2001:db8::7")
SafePolicy().choose(netaddr.IPNetwork("2001:db8::7/64"), reserved=addresses)
"""

_ERROR_LINE = re.compile(r"^(?P<file>[^:]+\.py):(?P<line>\d+): error: ")


def test_mypy_rejects_wrong_argument_types(tmp_path: Path) -> None:
    """The ``...Like`` aliases are real unions: mypy refuses an int, a float or a list of ints.

    One mypy run (``--strict``, the project's configuration, a fresh cache in a temporary
    directory) over two small modules: every marked line of the wrong calls has an error, and
    the right calls have none.
    """
    pytest.importorskip("mypy")
    config = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if not config.is_file():  # pragma: no cover -- tests run outside the source tree
        pytest.skip("the project's pyproject.toml is not available")
    wrong, right = tmp_path / "wrong_calls.py", tmp_path / "right_calls.py"
    wrong.write_text(_WRONG_CALLS)
    right.write_text(_RIGHT_CALLS)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "mypy_cache"),
            "--no-pretty",
            "--no-error-summary",
            "--show-error-codes",
            str(wrong),
            str(right),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    errors: dict[str, set[int]] = {wrong.name: set(), right.name: set()}
    for line in result.stdout.splitlines():
        match = _ERROR_LINE.match(line)
        if match:
            errors.setdefault(Path(match["file"]).name, set()).add(int(match["line"]))
    output = result.stdout + result.stderr
    expected = {
        n for n, text in enumerate(_WRONG_CALLS.splitlines(), 1) if text.endswith("# error")
    }
    assert len(expected) == 9
    assert errors == {wrong.name: expected, right.name: set()}, output
    assert result.returncode == 1, output
