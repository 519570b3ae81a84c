"""Shared test set-up: Hypothesis profiles and a fixture that shrinks the index chunks.

Profiles (pick one with the ``HYPOTHESIS_PROFILE`` environment variable):

- ``dev`` (default): few examples, for the edit-test loop.
- ``ci``: more examples and longer state machine runs; the whole suite stays under a minute on
  two cores. Failures print a reproduction blob.
"""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

from ipv6alloc import _index

if TYPE_CHECKING:
    from collections.abc import Iterator

settings.register_profile(
    "dev",
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
)
settings.register_profile(
    "ci",
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: Chunk size used by :func:`small_load`: chunks split above 16 items and merge below 2, so a
#: few dozen items already exercise splits and merges.
SMALL_LOAD = 8
#: Gaps a pool's gap index keeps flat under :func:`small_load`: it turns chunked after three.
SMALL_FLAT = 3


@pytest.fixture
def small_load(monkeypatch: pytest.MonkeyPatch) -> int:
    """Make the sorted indexes split and merge chunks after a handful of items.

    The indexes read their sizes from class attributes at call time (``SortedInts.load``,
    ``BlockIndex.load``, ``GapIndex.load`` and ``GapIndex.flat_gaps``), so patching the classes
    affects every index, including those inside an allocator (a pool is a ``GapIndex``
    subclass, which inherits them), for the duration of one test: gap indexes turn from flat
    to chunked after a few gaps, then split and merge.
    """
    for cls in (_index.SortedInts, _index.BlockIndex, _index.GapIndex):
        monkeypatch.setattr(cls, "load", SMALL_LOAD)
    monkeypatch.setattr(_index.GapIndex, "flat_gaps", SMALL_FLAT)
    return SMALL_LOAD


@pytest.fixture
def collect_garbage() -> Iterator[None]:
    """Collect garbage when the test ends, while warnings are still errors.

    Tests that talk over loopback use it: a socket left open (a client's pool, a stream) then
    fails the test that left it, not a later test that happens to trigger a collection.
    """
    yield
    gc.collect()
