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
    key = start << 8 | length
    count = fam.reserve_counts.get(key, 0) + 1
    fam.reserve_counts[key] = count
    if count > 1:
        return
    r = fam.reservation_overlapping(start, end)
    if r is not None and r <= start and fam.reserved_end[r] >= end:
        fam.nested_keys.add(key)
        return  # inside a reserved range already
    # Without an overlapping range (r is None), none starts inside either.
    if r is not None and fam.reserved_starts.any_in(start, end):
        width = fam.width
        for inner in list(fam.reserved_starts.irange(start, end)):  # now nested in this one
            size = fam.reserved_end.pop(inner) - inner
            fam.reserved_starts.remove(inner)
            fam.nested_keys.add(inner << 8 | (width + 1 - size.bit_length()))
    fam.reserved_starts.add(start)
    fam.reserved_end[start] = end
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
    count = fam.reserve_counts.get(key, 0)
    if not count:
        raise NotAllocatedError(f"{quote(p)} is not reserved")
    if count > 1:
        fam.reserve_counts[key] = count - 1
        return
    del fam.reserve_counts[key]
    end = start + p.num_addresses
    if fam.reserved_end.get(start) != end:
        fam.nested_keys.remove(key)
        return  # it lay inside another reservation: nothing becomes free
    fam.reserved_starts.remove(start)
    del fam.reserved_end[start]
    # The outermost reservations it covered become maximal again (shorter prefixes
    # come first among those of one start).
    covered_to = start
    for k in list(fam.nested_keys.irange(start << 8, end << 8)):
        lo = k >> 8
        if lo >= covered_to:
            hi = lo + (1 << (fam.width - (k & 0xFF)))
            fam.nested_keys.remove(k)
            fam.reserved_starts.add(lo)
            fam.reserved_end[lo] = hi
            covered_to = hi
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
