"""Hypothesis strategies for property tests of code that uses ipv6alloc.

This module needs ``hypothesis`` (the ``ipv6alloc[hypothesis]`` extra). The core package never
imports it, so ``import ipv6alloc`` stays free of test dependencies.

Every strategy validates its arguments when called and raises
``hypothesis.errors.InvalidArgument`` for impossible ones, as Hypothesis' own strategies do.

Example: every /80 carved from a node's /64 lies inside it::

    >>> from hypothesis import given, settings
    >>> from ipv6alloc import PrefixAllocator
    >>> from ipv6alloc.strategies import prefixes
    >>> @settings(max_examples=20, database=None)
    ... @given(prefixes(version=6, min_prefixlen=64, max_prefixlen=64))
    ... def test_pod_prefix_inside_subnet(subnet):
    ...     allocator = PrefixAllocator([subnet])
    ...     assert allocator.allocate(80).subnet_of(subnet)
    >>> test_pod_prefix_inside_subnet()
"""

from __future__ import annotations

import ipaddress
from typing import TypeAlias

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._allocator import Placement, PrefixAllocator
from ._bits import WIDTH
from ._prefix import Prefix, PrefixLike, address_text

__all__ = [
    "addresses",
    "allocators",
    "interfaces",
    "prefix_texts",
    "prefixes",
]

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address


def _check_version(version: int | None) -> None:
    if version is not None and version not in WIDTH:
        raise InvalidArgument(f"version must be 4, 6 or None, not {version!r}")


def _check_length(name: str, value: object, width: int) -> None:
    # ``value`` is typed as an int, but callers in plain Python may pass anything.
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= width:
        raise InvalidArgument(f"{name} must be an int in 0-{width}, not {value!r}")


def addresses(
    version: int | None = None, *, within: PrefixLike | None = None
) -> st.SearchStrategy[Address]:
    """Generate ``ipaddress`` addresses of either or one IP version, optionally inside a prefix.

    Args:
        version: 4 or 6 for one IP version; None for both.
        within: Only addresses inside this prefix (its version wins; ``version`` must agree).

    Returns:
        A strategy of ``ipaddress.IPv4Address`` / ``ipaddress.IPv6Address`` objects.

    Raises:
        InvalidArgument: bad ``version``, or ``version`` disagrees with ``within``.
    """
    _check_version(version)
    if within is None:
        if version is None:
            return st.ip_addresses()
        return st.ip_addresses(v=4 if version == 4 else 6)
    network = Prefix.coerce(within)
    if version is not None and version != network.version:
        raise InvalidArgument(f"version={version} disagrees with within={str(network)!r}")
    return st.ip_addresses(network=network.to_network())


@st.composite
def _prefixes(
    draw: st.DrawFn,
    versions: tuple[int, ...],
    min_prefixlen: int,
    max_prefixlen: int | None,
    within: Prefix | None,
) -> Prefix:
    version = draw(st.sampled_from(versions))
    width = WIDTH[version]
    if within is not None:
        low, base = max(min_prefixlen, within.prefixlen), within.value
    else:
        low, base = min_prefixlen, 0
    top = width if max_prefixlen is None else max_prefixlen
    outer = within.prefixlen if within is not None else 0
    prefixlen = draw(st.integers(min_value=low, max_value=top))
    # The network bits below the enclosing prefix, then shifted into place: host bits stay 0.
    index = draw(st.integers(min_value=0, max_value=(1 << (prefixlen - outer)) - 1))
    return Prefix(version, base + (index << (width - prefixlen)), prefixlen)


def prefixes(
    version: int | None = None,
    min_prefixlen: int = 0,
    max_prefixlen: int | None = None,
    within: PrefixLike | None = None,
) -> st.SearchStrategy[Prefix]:
    """Generate valid :class:`~ipv6alloc.Prefix` objects (host bits zero).

    Args:
        version: 4 or 6 for one IP version; None for both.
        min_prefixlen: Shortest prefix length to generate.
        max_prefixlen: Longest prefix length (default: 32 or 128, per version). Must not exceed
            32 when IPv4 prefixes can be generated.
        within: Only prefixes inside this one (itself included when the lengths allow it).
            Its version wins; ``version`` must agree with it.

    Returns:
        A strategy of :class:`~ipv6alloc.Prefix`.

    Raises:
        InvalidArgument: the arguments admit no prefix at all.

    >>> prefixes(within="10.0.0.0/8", max_prefixlen=4)
    Traceback (most recent call last):
    ...
    hypothesis.errors.InvalidArgument: no prefix of length 8-4 fits within='10.0.0.0/8'
    """
    _check_version(version)
    outer: Prefix | None = None
    if within is not None:
        outer = Prefix.coerce(within)
        if version is not None and version != outer.version:
            raise InvalidArgument(f"version={version} disagrees with within={str(outer)!r}")
        versions: tuple[int, ...] = (outer.version,)
    else:
        versions = (4, 6) if version is None else (version,)
    width = min(WIDTH[v] for v in versions)
    _check_length("min_prefixlen", min_prefixlen, width)
    _check_length("max_prefixlen", max_prefixlen, width)
    low = min_prefixlen if outer is None else max(min_prefixlen, outer.prefixlen)
    high = width if max_prefixlen is None else max_prefixlen
    if low > high:
        where = "" if outer is None else f" fits within={str(outer)!r}"
        raise InvalidArgument(f"no prefix of length {low}-{high}{where}")
    return _prefixes(versions, min_prefixlen, max_prefixlen, outer)


def prefix_texts(
    version: int | None = None,
    min_prefixlen: int = 0,
    max_prefixlen: int | None = None,
    within: PrefixLike | None = None,
) -> st.SearchStrategy[str]:
    """Generate canonical prefix text (RFC 5952 for IPv6), as the Kubernetes API stores it.

    Same arguments as :func:`prefixes`; the text parses back to an equal prefix.

    Args:
        version: 4 or 6 for one IP version; None for both.
        min_prefixlen: Shortest prefix length to generate.
        max_prefixlen: Longest prefix length (default: 32 or 128, per version).
        within: Only prefixes inside this one.

    Returns:
        A strategy of ``str`` such as ``"2001:db8::/64"``.

    Raises:
        InvalidArgument: the arguments admit no prefix at all.
    """
    return prefixes(version, min_prefixlen, max_prefixlen, within).map(str)


@st.composite
def _interfaces(draw: st.DrawFn, min_prefixlen: int, max_prefixlen: int) -> str:
    value = draw(st.integers(min_value=0, max_value=(1 << 128) - 1))
    prefixlen = draw(st.integers(min_value=min_prefixlen, max_value=max_prefixlen))
    return f"{address_text(6, value)}/{prefixlen}"


def interfaces(min_prefixlen: int = 48, max_prefixlen: int = 128) -> st.SearchStrategy[str]:
    """Generate IPv6 interface text ``"address/prefixlen"``, like a node's on-link subnet.

    The address is canonical text and its host bits are usually set (it is the node's own
    address), so the text is *not* a valid prefix: read it with
    ``ipaddress.IPv6Interface(text)``.

    Args:
        min_prefixlen: Shortest on-link prefix length (default 48).
        max_prefixlen: Longest on-link prefix length (default 128, a /128-only node).

    Returns:
        A strategy of ``str`` such as ``"2001:db8:0:1::7952/64"``.

    Raises:
        InvalidArgument: lengths outside 0-128 or ``min_prefixlen > max_prefixlen``.
    """
    _check_length("min_prefixlen", min_prefixlen, 128)
    _check_length("max_prefixlen", max_prefixlen, 128)
    if min_prefixlen > max_prefixlen:
        raise InvalidArgument(
            f"min_prefixlen={min_prefixlen} exceeds max_prefixlen={max_prefixlen}"
        )
    return _interfaces(min_prefixlen, max_prefixlen)


@st.composite
def _allocators(
    draw: st.DrawFn,
    *,
    versions: tuple[int, ...],
    min_pool_prefixlen: int | None,
    max_pool_prefixlen: int | None,
    max_pools: int,
    placements: tuple[Placement, ...],
) -> PrefixAllocator:
    count = draw(st.integers(min_value=1, max_value=max_pools))
    pools: list[Prefix] = []
    for _ in range(count):
        version = draw(st.sampled_from(versions))
        width = WIDTH[version]
        low = width // 2 if min_pool_prefixlen is None else min(min_pool_prefixlen, width)
        high = width if max_pool_prefixlen is None else min(max_pool_prefixlen, width)
        low = min(low, high)
        # Sometimes nest the pool inside an earlier one of the same version.
        parents = [p for p in pools if p.version == version and p.prefixlen < high]
        parent = draw(st.none() | st.sampled_from(parents)) if parents else None
        pool = draw(prefixes(version, low, high, within=parent))
        if pool not in pools:
            pools.append(pool)
    placement = draw(st.sampled_from(placements))
    return PrefixAllocator(pools, placement=placement)


def allocators(
    version: int | None = None,
    *,
    min_pool_prefixlen: int | None = None,
    max_pool_prefixlen: int | None = None,
    max_pools: int = 3,
    placement: Placement | None = None,
) -> st.SearchStrategy[PrefixAllocator]:
    """Generate empty :class:`~ipv6alloc.PrefixAllocator` objects with random pools.

    Each allocator is new (they are mutable); its pools are distinct and some pools are nested
    inside earlier ones. Use ``allocator.pools`` to see what was drawn.

    Args:
        version: 4 or 6 for pools of one IP version; None for both.
        min_pool_prefixlen: Shortest pool length (default: half the address width, /16 or /64).
            Clipped to the address width.
        max_pool_prefixlen: Longest pool length (default: the address width). Clipped to the
            address width.
        max_pools: At most this many pools (at least one).
        placement: ``"lowest"`` or ``"next-fit"``; None draws either.

    Returns:
        A strategy of :class:`~ipv6alloc.PrefixAllocator`.

    Raises:
        InvalidArgument: bad ``version`` or lengths, ``max_pools < 1`` or an unknown placement.
    """
    _check_version(version)
    _check_length("min_pool_prefixlen", min_pool_prefixlen, 128)
    _check_length("max_pool_prefixlen", max_pool_prefixlen, 128)
    count: object = max_pools  # typed as an int, but plain Python may pass anything
    if not isinstance(count, int) or count < 1:
        raise InvalidArgument(f"max_pools must be an int >= 1, not {max_pools!r}")
    if (
        min_pool_prefixlen is not None
        and max_pool_prefixlen is not None
        and min_pool_prefixlen > max_pool_prefixlen
    ):
        raise InvalidArgument(
            f"min_pool_prefixlen={min_pool_prefixlen} exceeds "
            f"max_pool_prefixlen={max_pool_prefixlen}"
        )
    if placement is not None and placement not in ("lowest", "next-fit"):
        raise InvalidArgument(f"placement must be 'lowest', 'next-fit' or None, not {placement!r}")
    versions = (4, 6) if version is None else (version,)
    placements: tuple[Placement, ...] = (
        ("lowest", "next-fit") if placement is None else (placement,)
    )
    return _allocators(
        versions=versions,
        min_pool_prefixlen=min_pool_prefixlen,
        max_pool_prefixlen=max_pool_prefixlen,
        max_pools=max_pools,
        placements=placements,
    )
