"""Snapshots of a :class:`~ipv6alloc.PrefixAllocator`: writing them, and reading them back.

The typed accessors turn malformed input into :class:`SnapshotError` naming the field; the node
layer's snapshots (:mod:`ipv6alloc._node_snapshot`) read their fields with them too.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import (
    ConfigurationError,
    InvalidPrefixError,
    NotInPoolError,
    PrefixConflictError,
    SnapshotError,
    quote,
)
from ._prefix import Prefix, address_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

    from ._allocator import PrefixAllocator

__all__ = ["SNAPSHOT_FORMAT", "check_format", "dump", "field", "items", "load", "mapping", "text"]

#: The ``format`` value of :meth:`~ipv6alloc.PrefixAllocator.snapshot` output.
SNAPSHOT_FORMAT = "ipv6alloc.PrefixAllocator/1"


def check_format(data: object, expected: str) -> None:
    """Refuse what is not a mapping with ``"format": expected``."""
    if not isinstance(data, Mapping):
        raise SnapshotError(f"a snapshot is a mapping, not {type(data).__name__}")
    if data.get("format") != expected:
        raise SnapshotError(
            f"unknown snapshot format {quote(data.get('format'))} (expected {quote(expected)})"
        )


def items(data: Mapping[str, Any], key: str) -> list[Any]:
    """The list field ``key`` of the snapshot."""
    value = data.get(key)
    if not isinstance(value, list):
        raise SnapshotError(f"snapshot field {quote(key)} must be a list")
    return value


def mapping(item: object, where: str) -> Mapping[str, Any]:
    """One item of the list ``where``, which must be a mapping."""
    if not isinstance(item, Mapping):
        raise SnapshotError(f"each item of {quote(where)} must be a mapping, not {quote(item)}")
    return item


def field(item: object, key: str, where: str) -> str:
    """The text field ``key`` of one item of the list ``where``."""
    value = mapping(item, where).get(key)
    if not isinstance(value, str):
        raise SnapshotError(f"snapshot field {quote(key)} must be text, not {quote(value)}")
    return value


def text(item: object, where: str) -> str:
    """One item of the list ``where``, which must be text."""
    if not isinstance(item, str):
        raise SnapshotError(f"each item of {quote(where)} must be text, not {quote(item)}")
    return item


def dump(alloc: PrefixAllocator) -> dict[str, Any]:
    """The snapshot of ``alloc`` (see :meth:`~ipv6alloc.PrefixAllocator.snapshot`).

    The caller holds the allocator's lock and has settled its pending run.
    """
    allocations = []
    for item in alloc.allocations():
        if item.owner is not None and not isinstance(item.owner, str | int | float):
            raise SnapshotError(
                f"owner {quote(item.owner, use_repr=True)} of {quote(item.prefix)} is "
                "not a JSON scalar (str, int, float, bool or None)"
            )
        allocations.append({"prefix": str(item.prefix), "owner": item.owner})
    return {
        "format": SNAPSHOT_FORMAT,
        "placement": alloc._placement,
        "pools": [
            {
                "prefix": str(pool.prefix),
                "cursor": address_text(pool.version, pool.cursor),
            }
            for pool in alloc._order
        ],
        "reserved": [str(p) for p in alloc.reserved()],
        "allocations": allocations,
    }


def load(cls: type[PrefixAllocator], data: Mapping[str, Any]) -> PrefixAllocator:
    """Rebuild an allocator (see :meth:`~ipv6alloc.PrefixAllocator.from_snapshot`)."""
    check_format(data, SNAPSHOT_FORMAT)
    try:
        pools = items(data, "pools")
        allocator = cls(
            [field(item, "prefix", "pools") for item in pools],
            placement=data.get("placement"),  # type: ignore[arg-type]  # checked by __init__
            reserved=[text(item, "reserved") for item in items(data, "reserved")],
        )
        for item in items(data, "allocations"):
            owner = mapping(item, "allocations").get("owner")
            if owner is not None and not isinstance(owner, str | int | float):
                raise SnapshotError(f"owner {quote(owner, use_repr=True)} is not a JSON scalar")
            prefix = Prefix.parse(field(item, "prefix", "allocations"))
            held = allocator.lookup(prefix)
            if held is not None and held.prefix == prefix:
                raise SnapshotError(f"allocation {quote(prefix)} is listed twice")
            allocator.occupy(prefix, owner=owner)
        for item in pools:
            pool = allocator._pool(Prefix.parse(field(item, "prefix", "pools")))
            cursor = Prefix.from_address(field(item, "cursor", "pools"))
            if not pool.start <= cursor.value < pool.end:
                raise SnapshotError(
                    f"cursor {quote(cursor.network_address)} lies outside pool {quote(pool.prefix)}"
                )
            pool.cursor = cursor.value
    except SnapshotError:
        raise
    except (ConfigurationError, InvalidPrefixError, PrefixConflictError, NotInPoolError) as e:
        raise SnapshotError(f"invalid snapshot: {e}") from e
    return allocator
