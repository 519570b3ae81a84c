"""Reading snapshots: typed accessors that turn malformed input into :class:`SnapshotError`."""

from __future__ import annotations

from collections.abc import Mapping

from ._errors import SnapshotError, quote

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SNAPSHOT_FORMAT", "field", "items", "mapping", "text"]

#: The ``format`` value of :meth:`~ipv6alloc.PrefixAllocator.snapshot` output.
SNAPSHOT_FORMAT = "ipv6alloc.PrefixAllocator/1"


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
