"""Reading snapshots: typed accessors that turn malformed input into :class:`SnapshotError`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import SnapshotError, quote

__all__ = ["SNAPSHOT_FORMAT", "field", "items", "mapping", "text"]

#: The ``format`` value of :meth:`~ipv6alloc.PrefixAllocator.snapshot` output.
SNAPSHOT_FORMAT = "ipv6alloc.PrefixAllocator/1"


def items(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise SnapshotError(f"snapshot field {quote(key)} must be a list")
    return value


def mapping(item: object, where: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise SnapshotError(f"each item of {quote(where)} must be a mapping, not {quote(item)}")
    return item


def field(item: object, key: str, kind: type[str]) -> str:
    value = mapping(item, key).get(key)
    if not isinstance(value, kind):
        raise SnapshotError(f"snapshot field {quote(key)} must be text, not {quote(value)}")
    return value


def text(item: object, where: str) -> str:
    if not isinstance(item, str):
        raise SnapshotError(f"each item of {quote(where)} must be text, not {quote(item)}")
    return item
