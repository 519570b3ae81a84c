"""What the allocator says when it refuses: the messages of its errors, built in one place.

Each message states the rule and quotes the values (see :mod:`ipv6alloc._errors`); the allocator
calls these only on its error paths.
"""

from __future__ import annotations

from ._bits import WIDTH
from ._errors import InvalidPrefixError, quote
from ._prefix import Prefix, address_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._state import Family, Pool

__all__ = [
    "block_text",
    "check_length",
    "check_owner",
    "conflict",
    "owner_text",
    "unhashable",
]

_trusted = Prefix._trusted


def unhashable(owner: object) -> TypeError:
    return TypeError(
        f"owner must be hashable, not {type(owner).__name__} {quote(owner, use_repr=True)}"
    )


def check_owner(owner: object) -> None:
    """Raise TypeError for an owner that cannot be stored (before anything changes)."""
    try:
        hash(owner)
    except TypeError:
        raise unhashable(owner) from None


def check_length(pool: Pool, prefixlen: int) -> None:
    """Raise InvalidPrefixError for a length that does not fit the pool."""
    width = WIDTH[pool.version]
    if not pool.prefixlen <= prefixlen <= width:
        raise InvalidPrefixError(
            f"prefix length {quote(prefixlen)} does not fit pool {quote(pool.prefix)} "
            f"(expected {pool.prefixlen}-{width})"
        )


def block_text(fam: Family, start: int) -> str:
    """The allocation starting at ``start``, as text."""
    return f"{address_text(fam.version, start)}/{fam.blocks.get(start)}"


def owner_text(fam: Family, start: int) -> str:
    """`` (owner ...)`` for an allocation with an owner, else nothing."""
    owner = fam.owners.get(start)
    return "" if owner is None else f" (owner {quote(owner)})"


def conflict(fam: Family, pool: Pool, p: Prefix) -> str:
    """Say what a prefix that is not free in its pool overlaps."""
    start, end = p.value, p.value + p.num_addresses
    a = fam.allocation_overlapping(start, end)
    if a is not None:
        return f"{quote(p)} overlaps allocation {quote(block_text(fam, a))}{owner_text(fam, a)}"
    r = fam.reservation_overlapping(start, end)
    if r is not None:
        text = str(_trusted(fam.version, r, fam.reserved_len[r]))  # a maximal one is a prefix
        return f"{quote(p)} overlaps reservation {quote(text)}"
    for child in fam.children_in(pool, start, end, p.prefixlen):
        return f"{quote(p)} overlaps pool {quote(child.prefix)}"
    return f"{quote(p)} is not free in pool {quote(pool.prefix)}"  # pragma: no cover
