"""The scenarios S1-S11 of ``docs/performance.md``: same data for every contender, timed alike.

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
- S7 scaling: operations whose cost may depend on how much is nested or waiting, ipv6alloc
  alone, timed per operation at N and 8N (:data:`PATTERNS`); each pattern is one row.
- S8 random churn: S3 with lengths drawn from /80, /96, /104, /112, /116, /120 and /124
  (:data:`S8_LENGTHS`), against the floor.
- S9 node layer: :meth:`ipv6alloc.NodeAllocator.assign` per node against the allocator work it
  performs, done directly on a :class:`ipv6alloc.PrefixAllocator` (:data:`NODE_LAYER`); and
  the memory a node allocator holds per node (:func:`measure_node_memory`).
- S10 planning: :func:`ipv6alloc.kubernetes.plan` of S9's N nodes as Kubernetes nodes (read
  from ``kubectl get nodes -o json`` items before the timing, :func:`node_list`) against S9's
  ``NodeAllocator.assign`` of the same nodes, in the same run (:data:`PLANNING`).
- S11 capacity report: :meth:`ipv6alloc.capacity.CapacityReport.from_allocator` over S9's N
  assigned nodes, against reading the public state it reads (``statistics()`` and ``nodes()``)
  of the same allocator, in the same run (:data:`CAPACITY`).

S7, S9, S10 and S11 time ipv6alloc several ways instead of against the peers: their rows are named
by pattern (the CSV's ``peer`` column), and they run when ipv6alloc is among the contenders. The
state S7 starts from is built inside each run (its operations consume it), untimed, with the
garbage collected before the timed part; the time limit applies to the build and to the timed
part each.

S4 and S5 start from the text a controller reads from Node objects and every contender parses
it: ipv6alloc with its own parser, the peers with ``ipaddress``. IPv4 prefixes are /24s while N
is at most 65,536 (the /24s of a /8); beyond, the longest length that gives every node one
(/25 for 10**5 nodes, /28 for 10**6), so that every node stays dual-stack.
"""

from __future__ import annotations

import datetime
import gc
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
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from ipv6alloc import Node, NodeAllocator, Prefix, PrefixAllocator
    from ipv6alloc.kubernetes import KubeNode

__all__ = [
    "CHUNK",
    "IMPORTS",
    "SCENARIOS",
    "STDLIB_FLOOR",
    "Block",
    "Capacity",
    "Carve",
    "Churn",
    "Cluster",
    "DidNotFinishError",
    "Memory",
    "NodeLayer",
    "Outcome",
    "Planning",
    "Restore",
    "Scaling",
    "Scenario",
    "measure_import",
    "measure_memory",
    "measure_node_memory",
    "migrated_cluster",
    "nested_cluster",
    "node_list",
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
        reserved: Addresses that had to stay out of every allocation (S4's node addresses),
            or, for S7 to S10, what the allocator holds reserved at the end.
        state: The ipv6alloc allocator at the end (S3 and S7 to S10), for checks such as
            ``_check()``; None for the peers.
        setup_seconds: Wall time of the untimed setup inside the run (S7 builds the state its
            operations consume), which the runner counts against its budget and limit.
    """

    seconds: float
    ops: int
    pools: tuple[Block, ...]
    blocks: tuple[Block, ...]
    reserved: tuple[Block, ...] = ()
    state: PrefixAllocator | NodeAllocator | None = None
    setup_seconds: float = 0.0


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
    #: The rows of a scenario that times ipv6alloc several ways instead of against the peers
    #: (S7's patterns, S9's two ways to assign nodes, S10's planner beside S9's assign); it runs
    #: when ipv6alloc is a contender.
    variants: tuple[str, ...] = ()
    #: The only contenders the scenario runs (S8: ipv6alloc and the floor); empty: every one.
    peers: tuple[str, ...] = ()
    #: What ``ops`` counts in some rows, where it is not ``unit`` (S7's enclosing pool).
    units: Mapping[str, str] = field(default_factory=dict)
    #: Every N of the sweep also runs at ``factor`` x N (S7: 8); 1 runs the sizes as given.
    factor: int = 1

    def contenders(self, chosen: Sequence[str]) -> list[str]:
        """The rows to run, given the contenders chosen (``--peer``), in their order."""
        if self.variants:
            return list(self.variants) if "ipv6alloc" in chosen else []
        if self.peers:
            return [c for c in chosen if c in self.peers]
        return list(chosen)

    def expand(self, sizes: Sequence[int]) -> list[int]:
        """``sizes`` and, with a :attr:`factor`, each times it; sorted, without repeats."""
        if self.factor == 1:
            return sorted(set(sizes))
        return sorted({*sizes, *(n * self.factor for n in sizes)})

    def unit_of(self, row: str) -> str:
        """What ``ops`` counts in the given row (contender or variant)."""
        return self.units.get(row, self.unit)


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


#: S8's prefix lengths, drawn uniformly (seeded).
S8_LENGTHS = (80, 96, 104, 112, 116, 120, 124)


def prepare_s8(n: int, seed: int) -> Churn:
    rng = random.Random(seed)
    first = [rng.choice(S8_LENGTHS) for _ in range(n)]
    release = rng.sample(range(n), n // 2)
    second = [rng.choice(S8_LENGTHS) for _ in range(n // 2)]
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
    state = None
    if contender == "ipv6alloc":
        from .peers.ipv6alloc_adapter import Ipv6allocPeer

        assert isinstance(peer, Ipv6allocPeer)
        state = peer.allocator
    return Outcome(seconds, ops, (_as_block(work.pool),), blocks, state=state)


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


# -- S7: scaling patterns ----------------------------------------------------------------------

#: S7 times each pattern per operation at N and at this many times N.
SCALE = 8
#: S7 "enclosing-pool" adds and removes the enclosing pool this many times per run.
ENCLOSE_REPEAT = 4
#: S7's parent prefix: the N /120 pools lie in it, 2001:db8::{i}00/120 (in hex) for the i-th.
_PARENT = (_DOC, 64)


@dataclass(frozen=True, slots=True)
class Scaling:
    """The data of the S7 patterns at one N: built once, outside the timing.

    Attributes:
        n: The number of nodes, pools or reservations each pattern is timed on.
        parent: 2001:db8::/64.
        children: N /120 pools inside ``parent``, in address order.
        addresses: N addresses of ``parent`` outside every child (2001:db8::1:0:{i}).
        migrated: N nodes each on its own /121, with the podCIDRs the reference tool gave it
            (an IPv4 prefix and the whole /121), for the "release-waiting" pattern.
        v4_prefixlen: The length of those IPv4 prefixes (:func:`v4_prefixlen`).
        nested: N nodes on /120 subnets inside ``parent`` (2001:db8::{i}01/120), for the
            "release-nested" pattern.
    """

    n: int
    parent: Prefix
    children: list[Prefix]
    addresses: list[Prefix]
    migrated: list[tuple[Node, tuple[str, str]]]
    v4_prefixlen: int
    nested: list[Node]


def prepare_s7(n: int, seed: int) -> Scaling:
    from ipv6alloc import Node, Prefix

    del seed
    v4_len = v4_prefixlen(n)
    migrated = []
    for i in range(n):
        # 2a02:a:{i >> 16:x}:{i & 0xffff:x}::100/121, as canonical text (as the API stores it)
        subnet = _text(6, 0x2A02000A << 96 | i << 64 | 0x100, 121)
        v4 = _text(4, 10 << 24 | i << (32 - v4_len), v4_len)
        migrated.append((Node.create(f"node-{i:07d}", subnets=[subnet]), (v4, subnet)))
    nested = [
        Node.create(f"node-{i:07d}", subnets=[f"{ipaddress.IPv6Address(_DOC | i << 8 | 1)}/120"])
        for i in range(n)
    ]
    return Scaling(
        n,
        Prefix(6, *_PARENT),
        [Prefix(6, _DOC | i << 8, 120) for i in range(n)],
        [Prefix(6, _DOC | 1 << 32 | i, 128) for i in range(n)],
        migrated,
        v4_len,
        nested,
    )


def _setup(build: Callable[[float], T], deadline: float) -> tuple[T, float, float]:
    """Run the untimed ``build`` of a run; return its result, its seconds, the next deadline.

    The garbage is collected after it (the runner collects before each run, for the same
    reason), and the timed part gets the whole time limit: its deadline is as far from now as
    ``deadline`` was from the start of the build.

    Raises:
        DidNotFinishError: the build itself passed ``deadline``.
    """
    began = perf_counter()
    try:
        built = build(deadline)
    except DidNotFinishError:
        raise DidNotFinishError("in its untimed setup") from None
    seconds = perf_counter() - began
    gc.collect()
    return built, seconds, perf_counter() + (deadline - began)


def _blocks_of(prefixes: Iterable[Prefix]) -> tuple[Block, ...]:
    return tuple((p.version, p.value, p.prefixlen) for p in prefixes)


def _final(
    seconds: float,
    ops: int,
    allocator: PrefixAllocator,
    state: PrefixAllocator | NodeAllocator,
    setup: float = 0.0,
) -> Outcome:
    """What an ipv6alloc run holds at the end (read after the timing)."""
    return Outcome(
        seconds,
        ops,
        _blocks_of(allocator.pools),
        _blocks_of(a.prefix for a in allocator.allocations()),
        _blocks_of(allocator.reserved()),
        state,
        setup,
    )


def migrated_cluster(work: Scaling, deadline: float) -> NodeAllocator:
    """The state of S7 "release-waiting": N nodes migrated from the reference tool.

    Each node's podCIDRs are an IPv4 prefix and its whole /121, restored with the Node under
    :class:`~ipv6alloc.SafePolicy`: registering the node reserves its address, then its own
    pod prefix holds that address, so the reservation gives way and waits for the release.
    """
    from ipv6alloc import NodeAllocator

    alloc = NodeAllocator(["10.0.0.0/8"], node_mask={4: work.v4_prefixlen}, families=[4, 6])
    restore = alloc.restore
    for chunk in _chunks(work.migrated, deadline):
        for node, pod_cidrs in chunk:
            restore(node, pod_cidrs)
    return alloc


def nested_cluster(work: Scaling, deadline: float) -> NodeAllocator:
    """The state of S7 "release-nested": N nodes on /120 subnets nested in the cluster /64.

    IPv6 only, :class:`~ipv6alloc.SafePolicy`: each node's /120 is a pool nested in the /64
    cluster pool, with the node address and the subnet-router anycast address reserved, and
    the node holds the upper /121.
    """
    from ipv6alloc import NodeAllocator

    alloc = NodeAllocator([work.parent], node_mask={6: 80})
    assign = alloc.assign
    for chunk in _chunks(work.nested, deadline):
        for node in chunk:
            assign(node)
    return alloc


def _release_waiting(work: Scaling, deadline: float) -> Outcome:
    """(a) ``NodeAllocator.release`` while node addresses wait to be reserved.

    From :func:`migrated_cluster` (N addresses waiting); timed: releasing every node.
    """
    alloc, setup, deadline = _setup(lambda deadline: migrated_cluster(work, deadline), deadline)
    names = [node.name for node, _ in work.migrated]
    release = alloc.release
    start = perf_counter()
    for name_chunk in _chunks(names, deadline):
        for name in name_chunk:
            release(name)
    seconds = perf_counter() - start
    return _final(seconds, work.n, alloc.allocator, alloc, setup)


def _with_children(work: Scaling, deadline: float, *, parent: bool = True) -> PrefixAllocator:
    """A :class:`PrefixAllocator` with the N child /120 pools, in the parent /64 pool or not."""
    from ipv6alloc import PrefixAllocator

    allocator = PrefixAllocator([work.parent] if parent else [])
    add_pool = allocator.add_pool
    for chunk in _chunks(work.children, deadline):
        for child in chunk:
            add_pool(child)
    return allocator


def _enclosing_pool(work: Scaling, deadline: float) -> Outcome:
    """(b) ``add_pool`` then ``remove_pool`` of one pool enclosing N pools.

    The N /120 pools exist (the /64 is no pool); timed: adding the /64 and removing it again,
    :data:`ENCLOSE_REPEAT` times. Per operation means per enclosed pool: the time divided by
    N and by the repeats.
    """
    allocator, setup, deadline = _setup(
        lambda deadline: _with_children(work, deadline, parent=False), deadline
    )
    parent = work.parent
    add_pool = allocator.add_pool
    remove_pool = allocator.remove_pool
    start = perf_counter()
    for _ in range(ENCLOSE_REPEAT):
        add_pool(parent)
        remove_pool(parent)
        if perf_counter() > deadline:
            raise DidNotFinishError
    seconds = perf_counter() - start
    return _final(seconds, ENCLOSE_REPEAT * work.n, allocator, allocator, setup)


def _remove_nested(work: Scaling, deadline: float) -> Outcome:
    """(c) ``remove_pool`` of N pools nested in one parent pool; timed: removing them all."""
    allocator, setup, deadline = _setup(lambda deadline: _with_children(work, deadline), deadline)
    remove_pool = allocator.remove_pool
    start = perf_counter()
    for chunk in _chunks(work.children, deadline):
        for child in chunk:
            remove_pool(child)
    seconds = perf_counter() - start
    return _final(seconds, work.n, allocator, allocator, setup)


def _release_nested(work: Scaling, deadline: float) -> Outcome:
    """(d) ``NodeAllocator.release`` of N nodes whose /120 subnets nest in one shared /64.

    From :func:`nested_cluster` (the IPv6 cluster CIDR is the /64); timed: releasing every
    node, which removes its pool from the /64.
    """
    alloc, setup, deadline = _setup(lambda deadline: nested_cluster(work, deadline), deadline)
    names = [node.name for node in work.nested]
    release = alloc.release
    start = perf_counter()
    for name_chunk in _chunks(names, deadline):
        for name in name_chunk:
            release(name)
    seconds = perf_counter() - start
    return _final(seconds, work.n, alloc.allocator, alloc, setup)


def _unreserve_nested(work: Scaling, deadline: float) -> Outcome:
    """(e) ``unreserve`` inside a parent pool with N child pools.

    N addresses of the parent's own free space (outside every child) are reserved; timed:
    unreserving them all.
    """

    def build(deadline: float) -> PrefixAllocator:
        allocator = _with_children(work, deadline)
        reserve = allocator.reserve
        for chunk in _chunks(work.addresses, deadline):
            for address in chunk:
                reserve(address)
        return allocator

    allocator, setup, deadline = _setup(build, deadline)
    unreserve = allocator.unreserve
    start = perf_counter()
    for chunk in _chunks(work.addresses, deadline):
        for address in chunk:
            unreserve(address)
    seconds = perf_counter() - start
    return _final(seconds, work.n, allocator, allocator, setup)


#: The S7 patterns, by the name of their rows: how each is run and what it is.
PATTERNS: dict[str, tuple[Callable[[Scaling, float], Outcome], str]] = {
    "release-waiting": (
        _release_waiting,
        "(a) NodeAllocator.release, N node addresses waiting to be reserved",
    ),
    "enclosing-pool": (
        _enclosing_pool,
        "(b) add_pool + remove_pool of a pool enclosing N pools (per enclosed pool)",
    ),
    "remove-nested": (_remove_nested, "(c) remove_pool of N pools nested in one"),
    "release-nested": (
        _release_nested,
        "(d) NodeAllocator.release of N nodes on /120s nested in one /64",
    ),
    "unreserve-nested": (_unreserve_nested, "(e) unreserve in a pool with N child pools"),
}


def run_scaling(contender: str, work: Scaling, deadline: float) -> Outcome:
    """Run one S7 pattern (``contender`` names it, see :data:`PATTERNS`)."""
    run, _ = PATTERNS[contender]
    return run(work, deadline)


# -- S9: the node layer ------------------------------------------------------------------------

#: S9's cluster: dual-stack, each node's pod prefix from its own /64 (the default policy).
#: The node masks are /64 for IPv6 (the fallback, unused here) and :func:`v4_prefixlen` for
#: IPv4: /24 up to 65,536 nodes, as in S4.
NODE_CLUSTER = ("10.0.0.0/8", "fd00::/48")
#: S9's two rows: the node layer, and the allocator work it performs done directly.
NODE_LAYER = {
    "NodeAllocator.assign": "NodeAllocator.assign of N nodes, each on its own /64",
    "allocator work": (
        "the same allocator work on a PrefixAllocator: add_pool, reserve x2, allocate x2"
    ),
}


@dataclass(frozen=True, slots=True)
class NodeLayer:
    """N nodes, each on its own /64 (2001:db8:0:{i}::100/64, i in hex), and the work each costs.

    Attributes:
        n: The number of nodes.
        nodes: The :class:`~ipv6alloc.Node` objects (built once, outside the timing).
        v4_pool: 10.0.0.0/8, the IPv4 cluster pool.
        v4_prefixlen: The IPv4 node mask, :func:`v4_prefixlen` (/24 up to 65,536 nodes).
        work: Per node what :meth:`~ipv6alloc.NodeAllocator.assign` does to the allocator
            beneath, under :class:`~ipv6alloc.SafePolicy`: ``(name, subnet, subnet-router
            anycast address, node address)``: add the subnet as a pool, reserve the two
            addresses (in that order), allocate the IPv4 prefix then the IPv6 /80.
    """

    n: int
    nodes: list[Node]
    v4_pool: Prefix
    v4_prefixlen: int
    work: list[tuple[str, Prefix, Prefix, Prefix]]

    @property
    def node_mask(self) -> dict[int, int]:
        """The node allocator's ``node_mask``."""
        return {4: self.v4_prefixlen, 6: 64}


def prepare_s9(n: int, seed: int) -> NodeLayer:
    from ipv6alloc import Node, Prefix

    del seed
    nodes, work = [], []
    for i in range(n):
        name = f"node-{i:07d}"
        subnet = _DOC | i << 64
        address = subnet | 0x100
        nodes.append(Node.create(name, subnets=[f"{ipaddress.IPv6Address(address)}/64"]))
        work.append((name, Prefix(6, subnet, 64), Prefix(6, subnet, 128), Prefix(6, address, 128)))
    return NodeLayer(n, nodes, Prefix.parse(NODE_CLUSTER[0]), v4_prefixlen(n), work)


def run_node_layer(contender: str, work: NodeLayer, deadline: float) -> Outcome:
    """S9: assign every node, through the node layer or as the bare allocator work."""
    if contender == "NodeAllocator.assign":
        return _assign_nodes(work, deadline)
    if contender == "allocator work":
        return _allocator_work(work, deadline)
    raise KeyError(f"unknown S9 row {contender!r}; expected one of {', '.join(NODE_LAYER)}")


def _assign_nodes(work: NodeLayer, deadline: float) -> Outcome:
    from ipv6alloc import NodeAllocator

    start = perf_counter()
    alloc = NodeAllocator(list(NODE_CLUSTER), node_mask=work.node_mask)
    assign = alloc.assign
    for chunk in _chunks(work.nodes, deadline):
        for node in chunk:
            assign(node)
    len(alloc.allocator)  # reading the state indexes a pending run of allocations: time it too
    seconds = perf_counter() - start
    return _final(seconds, work.n, alloc.allocator, alloc)


def _allocator_work(work: NodeLayer, deadline: float) -> Outcome:
    from ipv6alloc import Prefix, PrefixAllocator

    start = perf_counter()
    v4, v4_len = work.v4_pool, work.v4_prefixlen
    # The node allocator's placement (next-fit, as Kubernetes) and pools, in its order.
    allocator = PrefixAllocator([v4, Prefix.parse(NODE_CLUSTER[1])], placement="next-fit")
    add_pool = allocator.add_pool
    reserve = allocator.reserve
    allocate = allocator.allocate
    for chunk in _chunks(work.work, deadline):
        for name, subnet, anycast, address in chunk:
            add_pool(subnet)
            reserve(anycast)
            reserve(address)
            allocate(v4_len, pool=v4, owner=name)
            allocate(80, pool=subnet, owner=name)
    len(allocator)
    seconds = perf_counter() - start
    return _final(seconds, work.n, allocator, allocator)


def measure_node_memory(n: int, deadline: float) -> Memory:
    """Bytes a :class:`~ipv6alloc.NodeAllocator` holds after assigning S9's ``n`` nodes.

    The Node objects are built before ``tracemalloc`` starts (they are the caller's), and it
    stops right after the measurement; the caller keeps no assignment.

    Raises:
        DidNotFinishError: past the deadline.
    """
    from ipv6alloc import NodeAllocator

    work = prepare_s9(n, 0)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        alloc = NodeAllocator(list(NODE_CLUSTER), node_mask=work.node_mask)
        assign = alloc.assign
        for chunk in _chunks(work.nodes, deadline):
            for node in chunk:
                assign(node)
        len(alloc.allocator)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(alloc) == n
    del alloc
    return Memory(n, held - before, peak - before)


# -- S10: planning -----------------------------------------------------------------------------

#: S10's rows: the planner, and S9's NodeAllocator.assign of the same nodes as core Nodes.
PLANNING = {
    "plan": "plan() of N Kubernetes nodes (read beforehand), each on its own /64",
    "NodeAllocator.assign": NODE_LAYER["NodeAllocator.assign"],
}
#: The annotation S10's nodes carry their provider subnet in (the planner's default source).
SUBNET_ANNOTATION = "ipv6alloc.io/node-subnets"
#: The creation time of S10's first node; each next node is one second younger.
_CREATED = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True, slots=True)
class Planning:
    """S9's N nodes twice: as Kubernetes nodes for :func:`ipv6alloc.kubernetes.plan`, and core.

    Attributes:
        n: The number of nodes.
        nodes: The :class:`~ipv6alloc.kubernetes.KubeNode` values read (with
            :func:`~ipv6alloc.kubernetes.read_nodes`, outside the timing) from the items of
            :func:`node_list`: the i-th is S9's i-th node, its /64 in the
            ``ipv6alloc.io/node-subnets`` annotation and its address as its InternalIP.
        layer: S9's data for the same N (:func:`prepare_s9`): the same nodes as core
            :class:`~ipv6alloc.Node` objects, for the ``NodeAllocator.assign`` row.
    """

    n: int
    nodes: list[KubeNode]
    layer: NodeLayer


def node_list(n: int) -> dict[str, Any]:
    """S10's N nodes as ``kubectl get nodes -o json`` prints them: a ``kind: List`` of Nodes.

    The i-th node is S9's: ``node-{i:07d}``, on its own /64, 2001:db8:0:{i}::/64 (i in hex),
    with the address ::100 in it, given in interface form in the ``ipv6alloc.io/node-subnets``
    annotation and as the node's InternalIP; a uid, a resourceVersion, and creation times one
    second apart, oldest first; no podCIDRs yet.
    """
    items = []
    for i in range(n):
        name = f"node-{i:07d}"
        address = str(ipaddress.IPv6Address(_DOC | i << 64 | 0x100))
        created = _CREATED + datetime.timedelta(seconds=i)
        items.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "uid": f"6f1e0c2a-{i >> 16:04x}-4b6d-8e2f-{i & 0xFFFF:012x}",
                    "resourceVersion": str(100_000 + i),
                    "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"},
                    "annotations": {SUBNET_ANNOTATION: f"{address}/64"},
                },
                "spec": {},
                "status": {
                    "addresses": [
                        {"type": "InternalIP", "address": address},
                        {"type": "Hostname", "address": name},
                    ],
                },
            }
        )
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def prepare_s10(n: int, seed: int) -> Planning:
    from ipv6alloc.kubernetes import read_nodes

    return Planning(n, read_nodes(node_list(n)), prepare_s9(n, seed))


def run_planning(contender: str, work: Planning, deadline: float) -> Outcome:
    """S10: plan every node, or assign S9's core nodes (the same nodes) directly."""
    if contender == "plan":
        return _plan_nodes(work, deadline)
    if contender == "NodeAllocator.assign":
        return _assign_nodes(work.layer, deadline)
    raise KeyError(f"unknown S10 row {contender!r}; expected one of {', '.join(PLANNING)}")


def _plan_nodes(work: Planning, deadline: float) -> Outcome:
    """``plan(nodes, NodeAllocator(S9's cluster))``: one call, so the clock is read after it.

    The planner releases the nodes its list does not hold, so the list cannot be cut in chunks:
    a run past ``deadline`` is only known at its end. Every node must be planned ``assign``.
    """
    from ipv6alloc import NodeAllocator
    from ipv6alloc.kubernetes import plan

    start = perf_counter()
    alloc = NodeAllocator(list(NODE_CLUSTER), node_mask=work.layer.node_mask)
    planned = plan(work.nodes, alloc)
    len(alloc.allocator)  # reading the state indexes a pending run of allocations: time it too
    seconds = perf_counter() - start
    if perf_counter() > deadline:
        raise DidNotFinishError("plan is one call: the clock was read after it")
    summary = planned.summary()
    if summary["assign"] != work.n:
        raise RuntimeError(f"the plan assigns {summary['assign']} of {work.n} nodes: {summary}")
    return _final(seconds, work.n, alloc.allocator, alloc)


# -- S11: capacity reports ---------------------------------------------------------------------

#: S11's rows: the report, and the public state it reads, both of the same allocator.
CAPACITY = {
    "CapacityReport": "CapacityReport.from_allocator over N nodes, each on its own /64",
    "statistics + nodes": "NodeAllocator.statistics() and nodes(): the state the report reads",
}


@dataclass(frozen=True, slots=True)
class Capacity:
    """S9's N nodes, assigned (outside the timing) by a node allocator both rows read.

    Attributes:
        n: The number of nodes.
        allocator: The node allocator holding S9's N nodes (S9's cluster, SafePolicy,
            next-fit), its pending allocations settled; both rows only read it.
    """

    n: int
    allocator: NodeAllocator


def prepare_s11(n: int, seed: int) -> Capacity:
    from ipv6alloc import NodeAllocator

    work = prepare_s9(n, seed)
    alloc = NodeAllocator(list(NODE_CLUSTER), node_mask=work.node_mask)
    for node in work.nodes:
        alloc.assign(node)
    alloc.statistics()  # settle the pending run of allocations before any row reads it
    return Capacity(n, alloc)


def run_capacity(contender: str, work: Capacity, deadline: float) -> Outcome:
    """S11: build the capacity report of the allocator, or read what it reads; one call each.

    The report must have one row per pool (N provider subnets and the two cluster pools), and
    the IPv4 pool must count the N nodes.
    """
    from ipv6alloc.capacity import CapacityReport

    alloc = work.allocator
    start = perf_counter()
    if contender == "CapacityReport":
        report = CapacityReport.from_allocator(alloc)
    elif contender == "statistics + nodes":
        alloc.statistics()
        alloc.nodes()
    else:
        raise KeyError(f"unknown S11 row {contender!r}; expected one of {', '.join(CAPACITY)}")
    seconds = perf_counter() - start
    if perf_counter() > deadline:
        raise DidNotFinishError("the report is one call: the clock was read after it")
    if contender == "CapacityReport":
        ipv4 = report.rows[0] if report.rows else None
        if len(report.rows) != work.n + 2 or ipv4 is None or ipv4.prefixes_used != work.n:
            raise RuntimeError(f"the report of {work.n} nodes is wrong: {report!r}")
    return _final(seconds, work.n, alloc.allocator, alloc)


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
    "S7": Scenario(
        "S7",
        "scaling: per op at N and 8N (ipv6alloc)",
        "op",
        (10**3, 10**4),
        (10**3,),
        prepare_s7,
        run_scaling,
        variants=tuple(PATTERNS),
        units={"enclosing-pool": "pool"},
        factor=SCALE,
    ),
    "S8": Scenario(
        "S8",
        "random churn: N of /80 /96 /104 /112 /116 /120 /124, release half, N/2 more",
        "op",
        (10**3, 2 * 10**5),
        (10**3,),
        prepare_s8,
        run_churn,
        peers=("ipv6alloc", "floor"),
    ),
    "S9": Scenario(
        "S9",
        "node layer: NodeAllocator.assign vs the allocator work it performs",
        "node",
        (10**3, 10**4, 2 * 10**4),
        (10**3, 10**4),
        prepare_s9,
        run_node_layer,
        variants=tuple(NODE_LAYER),
    ),
    "S10": Scenario(
        "S10",
        "planning: plan() of N Kubernetes nodes vs NodeAllocator.assign of the same nodes",
        "node",
        (10**3, 10**4, 2 * 10**4),
        (10**3, 10**4),
        prepare_s10,
        run_planning,
        variants=tuple(PLANNING),
    ),
    "S11": Scenario(
        "S11",
        "capacity report: CapacityReport.from_allocator vs statistics() + nodes() it reads",
        "node",
        (10**3, 10**4),
        (10**3,),
        prepare_s11,
        run_capacity,
        variants=tuple(CAPACITY),
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
