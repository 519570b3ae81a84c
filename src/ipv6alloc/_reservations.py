"""Reservations, and space given back to a pool: the allocator's work beneath its lock.

This is what :meth:`~ipv6alloc.PrefixAllocator.reserve`, ``unreserve`` and ``remove_pool`` do
once the allocator has settled the family (see ``PrefixAllocator._family``).
Reservations as given are counted; the maximal reserved ranges (their union) are indexed apart
from those nested inside one, so that undoing one finds what becomes maximal again. Space that
comes back to a pool is refilled only between the pool's direct children in that block (see
:func:`refill`), never by visiting what is nested deeper.
"""

from __future__ import annotations

from ._errors import NotAllocatedError, PrefixConflictError, quote
from ._messages import block_text, owner_text

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._prefix import Prefix
    from ._state import Family, Pool

__all__ = ["between", "refill", "reserve", "unreserve"]


def reserve(fam: Family, p: Prefix) -> None:
    """Reserve ``p`` in ``fam`` (see :meth:`~ipv6alloc.PrefixAllocator.reserve`).

    Runtime complexity: O(log n) approximate, plus the reservations it covers.
    """
    start, length = p.value, p.prefixlen
    end = start + (1 << (fam.width - length))
    a = fam.allocation_overlapping(start, end)
    if a is not None:
        raise PrefixConflictError(
            f"cannot reserve {quote(p)}: it overlaps allocation "
            f"{quote(block_text(fam, a))}{owner_text(fam, a)}"
        )
    r = fam.reservation_overlapping(start, end)
    if r is not None and r <= start and fam.reserved_end(r) >= end:  # inside a reserved range
        key = start << 8 | length
        if (r == start and fam.reserved_len[r] == length) or fam.is_nested(key):
            fam.extra_counts[key] = fam.extra_counts.get(key, 0) + 1
        else:
            fam.nested_keys.add(key)
        return
    # Without an overlapping range (r is None), none starts inside either.
    if r is not None and fam.reserved_starts.any_in(start, end):
        for inner in list(fam.reserved_starts.irange(start, end)):  # now nested in this one
            fam.nested_keys.add(inner << 8 | fam.reserved_len.pop(inner))
            fam.reserved_starts.remove(inner)
    fam.reserved_starts.add(start)
    fam.reserved_len[start] = length
    # Out of the gaps of every pool it touches: the innermost holding it, and those inside.
    pool = fam.innermost(start, length)
    if pool is not None:
        pool.carve(start, end)
    for nested in fam.pools_inside(start, end, length):
        nested.carve(nested.start, nested.end)
    return


def unreserve(fam: Family, p: Prefix) -> None:
    """Undo one reservation of exactly ``p`` (see :meth:`~ipv6alloc.PrefixAllocator.unreserve`).

    Runtime complexity: O(log n) approximate, plus the reservations it covered.
    """
    start, length = p.value, p.prefixlen
    key = start << 8 | length
    maximal = fam.reserved_len.get(start) == length
    if not maximal and not fam.is_nested(key):
        raise NotAllocatedError(f"{quote(p)} is not reserved")
    extra = fam.extra_counts.get(key)
    if extra is not None:
        if extra > 1:
            fam.extra_counts[key] = extra - 1
        else:
            del fam.extra_counts[key]
        return
    if not maximal:
        fam.nested_keys.remove(key)
        return  # it lay inside another reservation: nothing becomes free
    end = start + p.num_addresses
    fam.reserved_starts.remove(start)
    del fam.reserved_len[start]
    # The outermost reservations it covered become maximal again (shorter prefixes
    # come first among those of one start).
    covered_to = start
    for k in list(fam.nested_keys.irange(start << 8, end << 8)):
        lo = k >> 8
        if lo >= covered_to:
            fam.nested_keys.remove(k)
            fam.reserved_starts.add(lo)
            fam.reserved_len[lo] = k & 0xFF
            covered_to = fam.reserved_end(lo)
    pool = fam.innermost(start, length)
    if pool is not None:
        refill(fam, pool, start, end)
    for inner in fam.pools_inside(start, end, length):
        refill(fam, inner, inner.start, inner.end)


def refill(fam: Family, pool: Pool, start: int, end: int) -> None:
    """Return to ``pool``'s gaps what is free in the block ``[start, end)``, gapless now.

    Only the pool's direct children in the block are looked at, then the reservations and
    the pool's own allocations between them (what lies inside a child is the child's):
    O(log n) plus those, never the allocations or pools nested deeper.
    """
    width = fam.width
    prefixlen = width + 1 - (end - start).bit_length()
    for lo, hi in between(fam.children_in(pool, start, end, prefixlen), start, end):
        taken = list(fam.reserved_ranges(lo, hi))
        if fam.allocation_overlapping(lo, hi) is not None:
            taken.extend(
                (a, a + (1 << (width - length))) for a, length in fam.blocks.irange(lo, hi)
            )
            taken.sort()
        cursor = lo
        for a, b in taken:
            if a > cursor:
                pool.fill(cursor, a)
            cursor = max(cursor, b)
        if cursor < hi:
            pool.fill(cursor, hi)


def between(pools: list[Pool], start: int, end: int) -> list[tuple[int, int]]:
    """The ranges of ``[start, end)`` between ``pools`` (sorted, disjoint, inside it)."""
    ranges = []
    cursor = start
    for q in pools:
        if q.start > cursor:
            ranges.append((cursor, q.start))
        cursor = q.end
    if cursor < end:
        ranges.append((cursor, end))
    return ranges
