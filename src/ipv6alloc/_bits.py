"""Bit math on plain integers: the arithmetic every other module builds on.

An address is an ``int``; a block is ``(start, prefixlen)`` inside an address space of ``width``
bits (32 for IPv4, 128 for IPv6). Nothing here knows about text or ``ipaddress``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "WIDTH",
    "align_up",
    "blocks_in_range",
    "largest_block_prefixlen",
]

#: Address width in bits, by IP version.
WIDTH = {4: 32, 6: 128}


def align_up(value: int, shift: int) -> int:
    """Round ``value`` up to a multiple of ``2**shift``.

    Runtime complexity: O(1).

    >>> align_up(5, 2), align_up(8, 2), align_up(0, 7)
    (8, 8, 0)
    """
    return -((-value) >> shift) << shift


def largest_block_prefixlen(start: int, end: int, width: int) -> int:
    """Prefix length of the largest aligned block inside the range ``[start, end)``.

    The range must not be empty. Runtime complexity: O(1).

    >>> largest_block_prefixlen(0, 256, 32)
    24
    >>> largest_block_prefixlen(1, 256, 32)  # [1, 256) holds 128/25 but no /24
    25
    >>> largest_block_prefixlen(3, 5, 32)  # only single addresses are aligned inside
    32
    """
    shift = (end - start).bit_length() - 1
    if (-((-start) >> shift) << shift) + (1 << shift) > end:  # align_up(start, shift), inlined
        shift -= 1
    return width - shift


def blocks_in_range(start: int, end: int, width: int) -> Iterator[tuple[int, int]]:
    """Yield the maximal aligned blocks ``(start, prefixlen)`` that exactly cover ``[start, end)``.

    This is the CIDR decomposition of a range, lowest block first. Runtime complexity:
    O(width) blocks at most, each found in O(1).

    >>> list(blocks_in_range(1, 8, 32))
    [(1, 32), (2, 31), (4, 30)]
    """
    while start < end:
        # The block may grow as long as start stays aligned and the block stays inside.
        shift = (start & -start).bit_length() - 1 if start else width
        room = (end - start).bit_length() - 1
        shift = min(shift, room)
        yield start, width - shift
        start += 1 << shift
