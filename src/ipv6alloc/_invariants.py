"""The allocator's invariant check: every fact its indexes must agree on, verified in O(n log n).

Tests call it after every mutation; it recomputes each pool's free space from scratch and compares
it with the pool's gap index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._allocator import PrefixAllocator

__all__ = ["check_allocator"]


def check_allocator(allocator: PrefixAllocator) -> None:
    """Assert every invariant of ``allocator``; raises AssertionError on the first broken one."""
    for version, fam in allocator._families.items():
        fam.starts._check()
        fam.resv._check()
        fam.given_keys._check()
        fam.pool_keys._check()
        width = fam.width
        starts = list(fam.starts)
        assert set(starts) == set(fam.lengths), "allocation index matches lengths"
        assert set(fam.owners) <= set(fam.lengths), "owners only of allocations"
        assert None not in fam.owners.values()
        ends = [s + (1 << (width - fam.lengths[s])) for s in starts]
        for s, e in zip(starts[1:], ends, strict=False):
            assert e <= s, "allocations never overlap"
        # Reservations: the maximal ranges are exactly the union of the given ones.
        assert {s << 8 | n for s, n in fam.given} == set(fam.given_keys)
        assert all(c > 0 for c in fam.given.values())
        merged: list[tuple[int, int]] = []
        for key in fam.given_keys:
            lo, hi = key >> 8, (key >> 8) + (1 << (width - (key & 0xFF)))
            if merged and lo < merged[-1][1]:
                continue  # nested in the previous one (prefixes never partly overlap)
            merged.append((lo, hi))
        assert merged == [(s, fam.resv_end[s]) for s in fam.resv], "maximal reservations"
        assert set(fam.resv_end) == set(fam.resv)
        for s, e in zip(starts, ends, strict=True):
            assert fam.reservation_overlapping(s, e) is None, "no allocation is reserved"
            assert fam.innermost(s, fam.lengths[s]) is not None, "allocations lie in pools"
        # Pools.
        pools = [pool for pool in allocator._order if pool.prefix.version == version]
        assert sorted(fam.pool_lens, reverse=True) == fam.pool_lens
        assert set(fam.pool_lens) == set(fam.pools)
        assert sorted(p.start << 8 | p.prefix.prefixlen for p in pools) == list(fam.pool_keys)
        for pool in pools:
            assert fam.pools[pool.prefix.prefixlen][pool.start] is pool
            pool.gaps._check()
            assert pool.start <= pool.cursor < pool.end
            outer = (
                fam.innermost(pool.start, pool.prefix.prefixlen - 1)
                if (pool.prefix.prefixlen)
                else None
            )
            assert pool.parent is outer, "parent is the innermost enclosing pool"
            assert {id(c) for c in pool.children} == {id(q) for q in pools if q.parent is pool}
            own = [
                (s, e)
                for s, e in zip(starts, ends, strict=True)
                if fam.innermost(s, fam.lengths[s]) is pool
            ]
            assert pool.count == len(own)
            assert pool.allocated == sum(e - s for s, e in own)
            by_len: dict[int, int] = {}
            for s, _ in own:
                by_len[fam.lengths[s]] = by_len.get(fam.lengths[s], 0) + 1
            assert by_len == pool.by_len
            expected: list[tuple[int, int]] = []
            taken = sorted(
                own
                + [(c.start, c.end) for c in pool.children]
                + list(fam.reserved_ranges(pool.start, pool.end))
            )
            cursor = pool.start
            for lo, hi in taken:
                if lo > cursor:
                    expected.append((cursor, lo))
                cursor = max(cursor, hi)
            if cursor < pool.end:
                expected.append((cursor, pool.end))
            assert list(pool.gaps) == expected, f"gaps of {pool.prefix} are the free space"
