"""The allocator's invariant check: every fact its indexes must agree on, verified in O(n log n).

Tests call it after every mutation; it recomputes each pool's free space from scratch and compares
it with the pool's gap index.
"""

from __future__ import annotations

from ._index import require

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from ._allocator import PrefixAllocator
    from ._state import Family, Pool

__all__ = ["check_allocator"]


def check_allocator(allocator: PrefixAllocator) -> None:
    """Check every invariant of ``allocator``; raises AssertionError on the first broken one.

    The checks are real raises (:func:`~ipv6alloc._index.require`), not ``assert`` statements:
    they run under ``python -O`` too.

    A pending run (see :class:`~ipv6alloc._state.Run`) is checked as it stands, not settled:
    its blocks are only in the run (and ``owners``) yet.
    """
    run_blocks = _check_run(allocator)
    for version, fam in allocator._families.items():
        fam.blocks._check()
        fam.reserved_starts._check()
        fam.nested_keys._check()
        fam.pool_keys._check()
        width = fam.width
        lengths = dict(fam.blocks)
        starts = list(lengths)
        require(set(fam.owners) <= set(starts) | run_blocks, "owners only of allocations")
        require(None not in fam.owners.values(), "no owner is None (None is no owner)")
        ends = [s + (1 << (width - lengths[s])) for s in starts]
        for s, e in zip(starts[1:], ends, strict=False):
            require(e <= s, "allocations never overlap")
        _check_reservations(fam)
        # Pools. Which pool holds what is worked out here by brute force: fam.innermost() would
        # answer from, and update, the recent pool the checker is meant to check.
        pools = [pool for pool in allocator._order if pool.version == version]
        home = {s: _smallest_holding(pools, s, e) for s, e in zip(starts, ends, strict=True)}
        for s, e in zip(starts, ends, strict=True):
            require(fam.reservation_overlapping(s, e) is None, "no allocation is reserved")
            require(home[s] is not None, "allocations lie in pools")
        require(sorted(fam.pool_lens, reverse=True) == fam.pool_lens, "pool lengths longest first")
        require(set(fam.pool_lens) == set(fam.pools), "pool lengths are those of the pools")
        require(
            sorted(p.start << 8 | p.prefixlen for p in pools) == list(fam.pool_keys),
            "pool keys are those of the pools",
        )
        recent = fam.recent
        require(
            recent is None or fam.pools[recent.prefixlen].get(recent.start) is recent,
            "the recent pool is a pool",
        )
        for pool in pools:
            require(fam.pools[pool.prefixlen][pool.start] is pool, "pools indexed by length")
            pool._check()
            require(pool.start <= pool.cursor < pool.end, "the cursor lies in its pool")
            outer = _smallest_holding(pools, pool.start, pool.end, besides=pool)
            require(pool.parent is outer, "parent is the innermost enclosing pool")
            require(
                {id(c) for c in pool.children or ()} == {id(q) for q in pools if q.parent is pool},
                "children are the pools whose parent it is",
            )
            require(pool.children is None or bool(pool.children), "no pool keeps an empty dict")
            require(
                isinstance(pool.lengths, int) or len(pool.lengths) > 1,
                "a pool's lengths are one int, or a dict once they differ",
            )
            own = [(s, e) for s, e in zip(starts, ends, strict=True) if home[s] is pool]
            require(pool.allocated_prefixes == len(own), "count is the pool's own allocations")
            require(
                pool.allocated_addresses == sum(e - s for s, e in own),
                "allocated is the addresses of the pool's own allocations",
            )
            by_len: dict[int, int] = {}
            for s, _ in own:
                by_len[lengths[s]] = by_len.get(lengths[s], 0) + 1
            require(by_len == pool.by_prefixlen, "by_prefixlen counts the pool's allocations")
            expected: list[tuple[int, int]] = []
            taken = sorted(
                own
                + [(c.start, c.end) for c in pool.children or ()]
                + list(fam.reserved_ranges(pool.start, pool.end))
            )
            cursor = pool.start
            for lo, hi in taken:
                if lo > cursor:
                    expected.append((cursor, lo))
                cursor = max(cursor, hi)
            if cursor < pool.end:
                expected.append((cursor, pool.end))
            if list(pool) != expected:  # require(), with the message built only on failure
                raise AssertionError(f"gaps of {pool.prefix} are the free space")


def _check_run(allocator: PrefixAllocator) -> set[int]:
    """Check the pending run, if any; return the starts of the blocks it handed out."""
    run = allocator._run
    if run is None:
        return set()
    pool, fam = run.pool, run.family
    require(pool in allocator._order, "a run belongs to a pool of the allocator")
    require(allocator._families[pool.version] is fam, "a run belongs to its pool's family")
    require(run.version == fam.version, "a run has its family's version")
    require(run.owners is fam.owners, "a run records owners in its family")
    require(run.size == 1 << (fam.width - run.prefixlen), "the run's size is its block's")
    require(pool.prefixlen <= run.prefixlen, "the run's blocks fit its pool")
    require(run.base % run.size == 0, "the run's blocks are aligned")
    require((run.next - run.base) % run.size == 0, "the run hands out whole blocks")
    require(run.base <= run.next <= run.limit, "the run stays inside its gap")
    require(pool.containing(run.base, run.limit) is not None, "the run lies in one gap")
    # The claim a run rests on: the same request would take ``run.base`` now.
    if allocator._next_fit:
        require(pool.cursor == run.base, "next-fit: the cursor points at the run")
    else:
        found = pool.find(run.prefixlen, pool.start)
        require(found is not None, "lowest: the run's first block is free")
        require(found is not None and found[0] == run.base, "lowest: nothing free below the run")
    if run.pool_arg is None:  # pools tried in order: those before this one have no room
        for other in allocator._order:
            if other is pool:
                break
            wanted = run.version_arg is None or run.version_arg == other.version
            if wanted and other.prefixlen <= run.prefixlen <= other.width:
                require(
                    other.find(run.prefixlen, other.start) is None,
                    "an earlier pool that could serve the run's request has no room",
                )
    require(run.starts == list(range(run.base, run.next, run.size)), "the run lists its blocks")
    require(not fam.blocks.any_in(run.base, run.limit), "run blocks are not indexed yet")
    return set(run.starts)


def _smallest_holding(
    pools: list[Pool], start: int, end: int, besides: Pool | None = None
) -> Pool | None:
    """The smallest pool (other than ``besides``) holding ``[start, end)``, by brute force.

    Pools nest or lie apart, so that is the innermost one.
    """
    holding = [q for q in pools if q is not besides and q.start <= start and end <= q.end]
    return min(holding, key=lambda q: q.end - q.start, default=None)


def _check_reservations(fam: Family) -> None:
    """Check a family's reservations: maximal ranges, nested ones and counts.

    The maximal reserved ranges are exactly the union of the given reservations, and every
    other given one is listed as nested.
    """
    require(all(c > 0 for c in fam.extra_counts.values()), "extra counts are positive")
    keys = fam.reservation_keys()
    require(len(set(keys)) == len(keys), "each reservation is maximal or nested, once")
    require(
        all(fam.times_reserved(k >> 8, k & 0xFF) for k in fam.extra_counts),
        "extra counts are those of reservations",
    )
    merged: list[tuple[int, int]] = []
    inside: list[int] = []
    for key in keys:
        lo, hi = key >> 8, (key >> 8) + (1 << (fam.width - (key & 0xFF)))
        if merged and lo < merged[-1][1]:
            inside.append(key)  # nested in the previous one (prefixes never partly overlap)
            continue
        merged.append((lo, hi))
    require(
        merged == [(s, fam.reserved_end(s)) for s in fam.reserved_starts], "maximal reservations"
    )
    require(
        set(fam.reserved_len) == set(fam.reserved_starts),
        "each maximal reservation has its length",
    )
    require(inside == list(fam.nested_keys), "nested reservations")
