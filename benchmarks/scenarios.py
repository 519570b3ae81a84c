"""The scenarios S1-S6 of ``docs/performance.md``: same data for every contender, timed alike.

Each scenario has a ``prepare(n, seed)`` that builds its data (seeded, outside the timing) and a
``run(contender, data, deadline)`` that drives one contender through it and returns an
:class:`Outcome`. Runs check the clock between chunks of :data:`CHUNK` operations and raise
:class:`DidNotFinishError` once ``deadline`` (a ``time.perf_counter()`` value) has passed.

- S1 carve: N /80s from one /48 (2**32 slots).
- S2 home ground: the /80s of one /64, in order (all 65,536 of them in the full run).
- S3 churn: N mixed-size prefixes (/80 to /124, uniform) from a /48, release a random half,
  allocate N/2 more mixed sizes.
- S4 heterogeneous cluster: N nodes, each with its own provider subnet (/64, /96, /112 and
  /121 in turn, each under its own /64); each node's address is reserved, then it gets a pod
  prefix from its subnet (/80, /112, /116, /122) and an IPv4 prefix from 10.0.0.0/8.
- S5 rebuild: a fresh allocator takes back N nodes' existing pod prefixes (an IPv6 /80 scattered
  in a /48 and an IPv4 prefix scattered in 10.0.0.0/8), as after a controller restart.
- S6 import: the time of ``import ipv6alloc`` in a fresh interpreter against the standard
  library modules such a core needs (and of the first use of its allocators, see
  :data:`IMPORTS`).

S4 and S5 start from the text a controller reads from Node objects and every contender parses
it: ipv6alloc with its own parser, the peers with ``ipaddress``. IPv4 prefixes are /24s while N
is at most 65,536 (the /24s of a /8); beyond, the longest length that gives every node one
(/25 for 10**5 nodes, /28 for 10**6), so that every node stays dual-stack.
"""

from __future__ import annotations

import ipaddress
import random
import subprocess
import sys
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .peers import Peer, Pool, load

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = [
    "CHUNK",
    "IMPORTS",
    "SCENARIOS",
    "STDLIB_FLOOR",
    "Block",
    "Carve",
    "Churn",
    "Cluster",
    "DidNotFinishError",
    "Memory",
    "Outcome",
    "Restore",
    "Scenario",
    "measure_import",
    "measure_memory",
    "v4_prefixlen",
]

#: Operations between two looks at the clock.
CHUNK = 64

#: 2001:db8::/32, the documentation prefix (RFC 3849).
_DOC = 0x20010DB8 << 96
#: S4 node kinds: provider subnet length, pod prefix length, subnet offset in the node's /64,
#: node address offset in the subnet.
_KINDS = (
    (64, 80, 0, 0x7952),
    (96, 112, 5 << 32, 0x64),
    (112, 116, 7 << 16, 0x100),
    (121, 122, 0x100, 0),
)

T = TypeVar("T")
W = TypeVar("W")

#: A prefix as plain ints: ``(version, value, prefixlen)``.
Block = tuple[int, int, int]


class DidNotFinishError(Exception):
    """The run passed its deadline."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run did: its time and, for checks, what it holds at the end.

    Attributes:
        seconds: Wall time of the timed part.
        ops: Operations (or nodes, for S4 and S5) in the timed part.
        pools: The pools the run carved from.
        blocks: Every block held at the end (allocated or occupied).
        reserved: Addresses that had to stay out of every allocation (S4's node addresses).
    """

    seconds: float
    ops: int
    pools: tuple[Block, ...]
    blocks: tuple[Block, ...]
    reserved: tuple[Block, ...] = ()


@dataclass(frozen=True, slots=True)
class Scenario(Generic[W]):
    """One scenario: how to build its data and how to run a contender through it."""

    name: str
    title: str
    #: What ``ops`` counts: ``"op"`` (allocator operations) or ``"node"``.
    unit: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    prepare: Callable[[int, int], W] = field(repr=False)
    run: Callable[[str, W, float], Outcome] = field(repr=False)


def _chunks(items: Sequence[T], deadline: float) -> Iterator[Sequence[T]]:
    """Slices of :data:`CHUNK` items; raises :class:`DidNotFinishError` past the deadline."""
    for low in range(0, len(items), CHUNK):
        if perf_counter() > deadline:
            raise DidNotFinishError
        yield items[low : low + CHUNK]
    if perf_counter() > deadline:
        raise DidNotFinishError


def _pool(text: str) -> Pool:
    network = ipaddress.ip_network(text)
    return Pool(network.version, int(network.network_address), network.prefixlen)


def _text(version: int, value: int, prefixlen: int) -> str:
    if version == 4:
        return str(ipaddress.IPv4Network((value, prefixlen)))
    return str(ipaddress.IPv6Network((value, prefixlen)))


def _as_block(pool: Pool) -> Block:
    return pool.version, pool.value, pool.prefixlen


def v4_prefixlen(n: int) -> int:
    """IPv4 prefix length giving each of ``n`` nodes a block of 10.0.0.0/8: /24 or longer.

    >>> v4_prefixlen(65_536), v4_prefixlen(100_000), v4_prefixlen(1_000_000)
    (24, 25, 28)
    """
    return max(24, 8 + (n - 1).bit_length())


# -- S1 and S2: carve one length from one pool -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Carve:
    """Allocate ``n`` blocks of ``prefixlen`` from ``pool``."""

    pool: Pool
    prefixlen: int
    n: int


def prepare_s1(n: int, seed: int) -> Carve:
    del seed
    return Carve(Pool(6, _DOC, 48), 80, n)


def prepare_s2(n: int, seed: int) -> Carve:
    del seed
    return Carve(Pool(6, _DOC, 64), 80, n)


def run_carve(contender: str, work: Carve, deadline: float) -> Outcome:
    peer = load(contender)(work.pool, work.prefixlen, work.n)
    allocate = peer.allocate
    prefixlen = work.prefixlen
    held: list[tuple[int, int]] = []
    append = held.append
    start = perf_counter()
    for chunk in _chunks(range(work.n), deadline):
        for _ in chunk:
            append(allocate(prefixlen))
    peer.settle()
    seconds = perf_counter() - start
    version = work.pool.version
    return Outcome(
        seconds,
        work.n,
        (_as_block(work.pool),),
        tuple((version, value, length) for value, length in held),
    )


# -- S3: churn ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Churn:
    """Allocate ``first`` (lengths), release ``release`` (indices), allocate ``second``."""

    pool: Pool
    n: int
    first: list[int]
    release: list[int]
    second: list[int]


def prepare_s3(n: int, seed: int) -> Churn:
    rng = random.Random(seed)
    first = [rng.randint(80, 124) for _ in range(n)]
    release = rng.sample(range(n), n // 2)
    second = [rng.randint(80, 124) for _ in range(n // 2)]
    return Churn(Pool(6, _DOC, 48), n, first, release, second)


def run_churn(contender: str, work: Churn, deadline: float) -> Outcome:
    peer = load(contender)(work.pool, None, work.n)
    allocate = peer.allocate
    release = peer.release
    held: list[tuple[int, int]] = []
    append = held.append
    start = perf_counter()
    for chunk in _chunks(work.first, deadline):
        for prefixlen in chunk:
            append(allocate(prefixlen))
    for index_chunk in _chunks(work.release, deadline):
        for index in index_chunk:
            value, prefixlen = held[index]
            release(value, prefixlen)
    for chunk in _chunks(work.second, deadline):
        for prefixlen in chunk:
            append(allocate(prefixlen))
    peer.settle()
    seconds = perf_counter() - start
    gone = set(work.release)
    version = work.pool.version
    blocks = tuple((version, v, p) for i, (v, p) in enumerate(held) if i not in gone)
    ops = len(work.first) + len(work.release) + len(work.second)
    return Outcome(seconds, ops, (_as_block(work.pool),), blocks)


# -- S4: a heterogeneous dual-stack cluster ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cluster:
    """Nodes as text ``(name, provider subnet, node address, pod prefix length)``.

    Plus the IPv4 pool and the IPv4 prefix length every node gets.
    """

    n: int
    v4_pool: str
    v4_prefixlen: int
    nodes: list[tuple[str, str, str, int]]


def prepare_s4(n: int, seed: int) -> Cluster:
    del seed
    nodes = []
    for i in range(n):
        subnet_len, pod_len, offset, address_offset = _KINDS[i % len(_KINDS)]
        subnet = _DOC | i << 64 | offset
        nodes.append(
            (
                f"node-{i:07d}",
                _text(6, subnet, subnet_len),
                str(ipaddress.IPv6Address(subnet + address_offset)),
                pod_len,
            )
        )
    return Cluster(n, "10.0.0.0/8", v4_prefixlen(n), nodes)


def run_cluster(contender: str, work: Cluster, deadline: float) -> Outcome:
    if contender == "ipv6alloc":
        return _cluster_ipv6alloc(work, deadline)
    return _cluster_peer(contender, work, deadline)


def _cluster_ipv6alloc(work: Cluster, deadline: float) -> Outcome:
    """S4 with :class:`ipv6alloc.PrefixAllocator`: one pool per node subnet, plus IPv4."""
    from ipv6alloc import Prefix, PrefixAllocator

    v4_len = work.v4_prefixlen
    start = perf_counter()
    allocator = PrefixAllocator([work.v4_pool])
    v4_pool = Prefix.parse(work.v4_pool)
    add_pool = allocator.add_pool
    reserve = allocator.reserve
    allocate = allocator.allocate
    for chunk in _chunks(work.nodes, deadline):
        for name, subnet_text, address, pod_len in chunk:
            subnet = add_pool(subnet_text)
            reserve(address)
            allocate(pod_len, pool=subnet, owner=name)
            allocate(v4_len, pool=v4_pool, owner=name)
    len(allocator)  # reading the state indexes a pending run of allocations: time it too
    seconds = perf_counter() - start
    return Outcome(
        seconds,
        work.n,
        tuple((p.version, p.value, p.prefixlen) for p in allocator.pools),
        tuple(
            (a.prefix.version, a.prefix.value, a.prefix.prefixlen) for a in allocator.allocations()
        ),
        tuple((p.version, p.value, p.prefixlen) for p in allocator.reserved()),
    )


def _cluster_peer(contender: str, work: Cluster, deadline: float) -> Outcome:
    """S4 with a peer: one peer per node subnet (a dict of them) plus one for IPv4."""
    factory = load(contender)
    v4_len = work.v4_prefixlen
    start = perf_counter()
    v4_pool = _pool(work.v4_pool)
    v4 = factory(v4_pool, v4_len, work.n)
    subnets: dict[Pool, Peer] = {}
    nodes: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
    for chunk in _chunks(work.nodes, deadline):
        for name, subnet_text, address, pod_len in chunk:
            subnet = _pool(subnet_text)
            peer = factory(subnet, pod_len, 1)
            subnets[subnet] = peer
            peer.occupy(int(ipaddress.IPv6Address(address)), 128)
            nodes[name] = (peer.allocate(pod_len), v4.allocate(v4_len))
    seconds = perf_counter() - start
    blocks: list[Block] = []
    for v6_block, v4_block in nodes.values():
        blocks.append((6, *v6_block))
        blocks.append((4, *v4_block))
    return Outcome(
        seconds,
        work.n,
        (_as_block(v4_pool), *(_as_block(s) for s in subnets)),
        tuple(blocks),
        tuple((6, int(ipaddress.IPv6Address(address)), 128) for _, _, address, _ in work.nodes),
    )


# -- S5: rebuild after a restart ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Restore:
    """Nodes ``(name, IPv6 pod prefix, IPv4 pod prefix)`` as text, in name order."""

    n: int
    v6_pool: str
    v4_pool: str
    v4_prefixlen: int
    nodes: list[tuple[str, str, str]]


def prepare_s5(n: int, seed: int) -> Restore:
    rng = random.Random(seed)
    v4_len = v4_prefixlen(n)
    v6_slots = rng.sample(range(1 << 32), n)
    v4_slots = rng.sample(range(1 << (v4_len - 8)), n)
    nodes = [
        (
            f"node-{i:07d}",
            _text(6, _DOC | v6 << 48, 80),
            _text(4, 10 << 24 | v4 << (32 - v4_len), v4_len),
        )
        for i, (v6, v4) in enumerate(zip(v6_slots, v4_slots, strict=True))
    ]
    return Restore(n, "2001:db8::/48", "10.0.0.0/8", v4_len, nodes)


def run_restore(contender: str, work: Restore, deadline: float) -> Outcome:
    if contender == "ipv6alloc":
        return _restore_ipv6alloc(work, deadline)
    return _restore_peer(contender, work, deadline)


def _restore_ipv6alloc(work: Restore, deadline: float) -> Outcome:
    """S5 with :class:`ipv6alloc.PrefixAllocator`: a fresh allocator occupies every prefix."""
    from ipv6alloc import PrefixAllocator

    start = perf_counter()
    allocator = PrefixAllocator([work.v6_pool, work.v4_pool])
    occupy = allocator.occupy
    for chunk in _chunks(work.nodes, deadline):
        for name, v6_text, v4_text in chunk:
            occupy(v6_text, owner=name)
            occupy(v4_text, owner=name)
    seconds = perf_counter() - start
    return Outcome(
        seconds,
        work.n,
        tuple((p.version, p.value, p.prefixlen) for p in allocator.pools),
        tuple(
            (a.prefix.version, a.prefix.value, a.prefix.prefixlen) for a in allocator.allocations()
        ),
    )


def _restore_peer(contender: str, work: Restore, deadline: float) -> Outcome:
    """S5 with a peer: one per pool; each text is parsed with ``ipaddress``."""
    factory = load(contender)
    start = perf_counter()
    v6_pool = _pool(work.v6_pool)
    v4_pool = _pool(work.v4_pool)
    v6 = factory(v6_pool, 80, work.n)
    v4 = factory(v4_pool, work.v4_prefixlen, work.n)
    nodes: dict[str, tuple[Block, Block]] = {}
    for chunk in _chunks(work.nodes, deadline):
        for name, v6_text, v4_text in chunk:
            a = ipaddress.IPv6Network(v6_text)
            b = ipaddress.IPv4Network(v4_text)
            v6_block = (6, int(a.network_address), a.prefixlen)
            v4_block = (4, int(b.network_address), b.prefixlen)
            v6.occupy(v6_block[1], v6_block[2])
            v4.occupy(v4_block[1], v4_block[2])
            nodes[name] = (v6_block, v4_block)
    seconds = perf_counter() - start
    blocks = [block for pair in nodes.values() for block in pair]
    return Outcome(seconds, work.n, (_as_block(v6_pool), _as_block(v4_pool)), tuple(blocks))


SCENARIOS: dict[str, Scenario[Any]] = {
    "S1": Scenario(
        "S1",
        "carve N /80s from one /48",
        "op",
        (10**3, 10**4, 10**5, 10**6),
        (10**3,),
        prepare_s1,
        run_carve,
    ),
    "S2": Scenario(
        "S2",
        "all /80s of one /64, sequential",
        "op",
        (65_536,),
        (10**3,),
        prepare_s2,
        run_carve,
    ),
    "S3": Scenario(
        "S3",
        "churn: N mixed /80-/124, release half, N/2 more",
        "op",
        (10**3, 10**4, 10**5, 10**6),
        (10**3,),
        prepare_s3,
        run_churn,
    ),
    "S4": Scenario(
        "S4",
        "N nodes, own subnets (/64 /96 /112 /121), dual-stack",
        "node",
        (10**3, 10**4, 10**5, 10**6),
        (10**3,),
        prepare_s4,
        run_cluster,
    ),
    "S5": Scenario(
        "S5",
        "restore N nodes' pod prefixes (dual-stack)",
        "node",
        (10**3, 10**4, 10**5, 10**6),
        (10**3,),
        prepare_s5,
        run_restore,
    ),
}


# -- memory ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Memory:
    """Memory held by a contender after S1-style carving, measured with ``tracemalloc``."""

    n: int
    bytes_held: int
    peak_bytes: int

    @property
    def per_allocation(self) -> float:
        """Bytes held per allocation."""
        return self.bytes_held / self.n


def measure_memory(contender: str, n: int, deadline: float) -> Memory:
    """Allocate ``n`` /80s from a /48 under ``tracemalloc``; the caller keeps no results.

    Raises:
        CannotStartError: the contender cannot serve the pool.
        DidNotFinishError: past the deadline.
    """
    work = prepare_s1(n, 0)
    factory = load(contender)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        peer = factory(work.pool, work.prefixlen, n)
        allocate = peer.allocate
        for chunk in _chunks(range(n), deadline):
            for _ in chunk:
                allocate(80)
        peer.settle()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del peer
    return Memory(n, held - before, peak - before)


# -- S6: import cost ---------------------------------------------------------------------------

#: The standard library modules an allocator core of this kind needs.
STDLIB_FLOOR = "dataclasses, ipaddress, threading, bisect"
#: What S6 times, each in a fresh interpreter. ``import ipv6alloc`` alone is the target's
#: definition; since the facade loads its names on first use (PEP 562), the first use of
#: ``PrefixAllocator`` and of ``NodeAllocator`` (everything) are timed too: what a program pays.
IMPORTS = {
    "ipv6alloc": "import ipv6alloc",
    "ipv6alloc: PrefixAllocator": "from ipv6alloc import PrefixAllocator",
    "ipv6alloc: NodeAllocator": "from ipv6alloc import NodeAllocator",
    "stdlib floor": f"import {STDLIB_FLOOR}",
}
_TIMED = "import time; _t = time.perf_counter(); {statement}; print(time.perf_counter() - _t)"


def _time_import(statement: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _TIMED.format(statement=statement)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip())


def measure_import(repeat: int) -> dict[str, list[float]]:
    """Seconds of each statement of :data:`IMPORTS`, each in a fresh interpreter.

    The package's bytecode is compiled first, as installing a wheel does: the standard library
    floor is read from its bytecode caches, so timing ipv6alloc from source (as a Python with
    ``PYTHONDONTWRITEBYTECODE`` set would, every time) would time the compiler instead. The
    statements then take turns, ``repeat`` times each, after one untimed round.
    """
    import compileall

    import ipv6alloc

    compileall.compile_dir(str(Path(ipv6alloc.__file__).parent), quiet=1)
    for statement in IMPORTS.values():
        _time_import(statement)
    times: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(repeat):
        for name, statement in IMPORTS.items():
            times[name].append(_time_import(statement))
    return times
