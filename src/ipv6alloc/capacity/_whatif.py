"""What-ifs: add nodes, switch policy or node masks, on a copy of a node allocator.

The live allocator is only read: :meth:`~ipv6alloc.NodeAllocator.copy` when the settings stay,
else a new allocator with the same cluster CIDRs, reservations, placement, families and
fallback, rebuilt from :meth:`~ipv6alloc.NodeAllocator.snapshot`: every node registered, then
the podCIDRs each holds restored (or, with ``reassign``, assigned afresh). Then the new nodes
are assigned in turn, and those that would not get prefixes are kept with the reason.

Synthetic nodes (``add_nodes=N``) are named ``what-if-1``, ``what-if-2``, ... (skipping names
the allocator knows), have no uid, and sit:

- without ``at``: on no provider subnet (IPv6 from the cluster pool, if the fallback allows);
- with ``at`` alone: all on the subnet ``at``, each at its own address ``at`` + 1, + 2, ...;
- with ``at`` and a longer ``subnet_prefixlen``: each on its own subnet of that length inside
  ``at``, the lowest that no provider subnet of the allocator overlaps, at address
  ``subnet`` + 1 (the subnet itself for a /128).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._bits import WIDTH
from .._errors import ConfigurationError, Ipv6AllocError, quote
from .._node import Node
from .._node_allocator import NodeAllocator
from .._prefix import Prefix, address_text
from ._records import NotFit

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from .._interface import Policy
    from .._prefix import PrefixLike

__all__ = ["SYNTHETIC_PREFIX", "simulate", "synthetic_nodes"]

#: The names of synthetic nodes: ``what-if-1``, ``what-if-2``, ...
SYNTHETIC_PREFIX = "what-if-"
_WIDTH = WIDTH[6]


def simulate(
    live: NodeAllocator,
    add_nodes: int | Iterable[Node],
    *,
    policy: Policy | None,
    node_mask: Mapping[int, int] | None,
    at: PrefixLike | None,
    subnet_prefixlen: int | None,
    reassign: bool,
) -> tuple[NodeAllocator, list[NotFit]]:
    """The simulated allocator and the nodes that would not get prefixes, with the reasons.

    Raises:
        TypeError: an argument of the wrong type.
        ConfigurationError: a negative count, node masks the allocator refuses, or ``at`` and
            ``subnet_prefixlen`` that cannot place a node.
    """
    if type(reassign) is not bool:
        raise TypeError(f"reassign must be True or False, not {quote(reassign, use_repr=True)}")
    count, given = _given_nodes(add_nodes)
    if given and (at is not None or subnet_prefixlen is not None):
        raise ConfigurationError("at and subnet_prefixlen are for add_nodes=N, not a list of nodes")
    not_fit: list[NotFit] = []
    if policy is None and node_mask is None and not reassign:
        sim = live.copy()
    else:
        sim = _rebuild(live, policy, node_mask, reassign=reassign, not_fit=not_fit)
    nodes = given or list(synthetic_nodes(sim, count, at, subnet_prefixlen, not_fit))
    for node in nodes:
        if node.name in sim:
            not_fit.append(NotFit(node.name, f"a node named {quote(node.name)} holds prefixes"))
            continue
        try:
            sim.assign(node)
        except Ipv6AllocError as exc:
            not_fit.append(NotFit(node.name, str(exc)))
    return sim, not_fit


def _given_nodes(add_nodes: object) -> tuple[int, list[Node]]:
    """``(count, [])`` for a count of synthetic nodes, ``(0, nodes)`` for the nodes given."""
    if isinstance(add_nodes, int) and not isinstance(add_nodes, bool):
        if add_nodes < 0:
            raise ConfigurationError(f"add_nodes must be 0 or more, not {quote(add_nodes)}")
        return add_nodes, []
    if isinstance(add_nodes, str | bytes) or not hasattr(add_nodes, "__iter__"):
        raise TypeError(
            "add_nodes must be a count of nodes or a list of Node values, "
            f"not {quote(add_nodes, use_repr=True)}"
        )
    nodes = list(add_nodes)
    for node in nodes:
        if not isinstance(node, Node):
            raise TypeError(
                f"add_nodes holds {type(node).__name__} {quote(node, use_repr=True)}: "
                "each must be a Node (see Node.create)"
            )
    return 0, nodes


def _rebuild(
    live: NodeAllocator,
    policy: Policy | None,
    node_mask: Mapping[int, int] | None,
    *,
    reassign: bool,
    not_fit: list[NotFit],
) -> NodeAllocator:
    """A new allocator like ``live`` with the new settings, holding ``live``'s nodes."""
    if node_mask is not None and not hasattr(node_mask, "items"):
        shown = quote(node_mask, use_repr=True)
        raise TypeError(f"node_mask must map IP versions to prefix lengths, not {shown}")
    snapshot = live.snapshot()
    fresh = NodeAllocator(
        live.cluster_cidrs,
        node_mask={**live.node_mask, **(node_mask or {})},
        policy=live.policy if policy is None else policy,
        reserved=snapshot["reserved"],
        placement=live.allocator.placement,
        families=live.families,
        fallback=live.fallback,
    )
    records = snapshot["nodes"]
    known: dict[str, Node] = {}
    for record in records:
        data = record["node"]
        if data is not None:
            node = Node.create(
                record["name"],
                subnets=data["subnets"],
                addresses=data["addresses"],
                uid=data["uid"],
            )
            known[record["name"]] = node
            if record["registered"]:
                fresh.register(node)
    for record in records:
        held = record["assignment"]
        if held is None:
            continue
        name = record["name"]
        node_or_name: Node | str = known.get(name, name)
        if reassign:
            try:
                fresh.assign(known.get(name) or Node.create(name))
            except Ipv6AllocError as exc:
                not_fit.append(NotFit(name, str(exc)))
            continue
        result = fresh.restore(node_or_name, [f["prefix"] for f in held["families"]])
        if not result.ok:
            bad = "; ".join(
                f"{t}: {s}, {d}" for t, s, d in result.items if s not in ("adopted", "outside")
            )
            not_fit.append(NotFit(name, f"its podCIDRs cannot be kept ({bad})"))
    return fresh


def synthetic_nodes(
    alloc: NodeAllocator,
    count: int,
    at: PrefixLike | None,
    subnet_prefixlen: int | None,
    not_fit: list[NotFit],
) -> Iterator[Node]:
    """``count`` synthetic nodes placed as the module says; those with no room go to ``not_fit``.

    Raises:
        ConfigurationError: ``at`` is not an IPv6 prefix, or ``subnet_prefixlen`` is shorter
            than ``at`` or longer than 128.
    """
    names = _names(alloc, count)
    if at is None:
        if subnet_prefixlen is not None:
            raise ConfigurationError("subnet_prefixlen needs at: the prefix the subnets lie in")
        for name in names:
            yield Node.create(name)
        return
    block = Prefix.coerce(at)
    if block.version != 6:
        raise ConfigurationError(f"at must be an IPv6 provider prefix, not {quote(block)}")
    length = block.prefixlen if subnet_prefixlen is None else subnet_prefixlen
    if type(length) is not int or not block.prefixlen <= length <= _WIDTH:
        raise ConfigurationError(
            f"subnet_prefixlen must lie between {block.prefixlen} (that of at) and 128, "
            f"not {quote(length)}"
        )
    if length == block.prefixlen:
        # Every node on the one subnet, each at its own address.
        room = max(block.num_addresses - 1, 1)
        for index, name in enumerate(names):
            if index >= room:
                not_fit.append(NotFit(name, f"no address is left for it in {block}"))
                continue
            offset = index + 1 if block.num_addresses > 1 else 0
            yield _on(name, block.value + offset, length)
        return
    subnets = _free_subnets(alloc, block, length)
    for name in names:
        value = next(subnets, None)
        if value is None:
            not_fit.append(NotFit(name, f"no /{length} in {block} is free of provider subnets"))
            continue
        yield _on(name, value + (1 if length < _WIDTH else 0), length)


def _on(name: str, address: int, prefixlen: int) -> Node:
    return Node.create(name, subnets=[f"{address_text(6, address)}/{prefixlen}"])


def _names(alloc: NodeAllocator, count: int) -> list[str]:
    taken = {*alloc.registered(), *alloc.holding()}
    names: list[str] = []
    index = 1
    while len(names) < count:
        name = f"{SYNTHETIC_PREFIX}{index}"
        if name not in taken:
            names.append(name)
        index += 1
    return names


def _free_subnets(alloc: NodeAllocator, block: Prefix, length: int) -> Iterator[int]:
    """The ``/length`` subnets of ``block`` that no provider pool overlaps, lowest first."""
    size = 1 << (_WIDTH - length)
    pools = sorted(
        (p.pool.value, p.pool.value + p.pool.num_addresses)
        for p in alloc.statistics().pools
        if p.role == "provider" and p.pool.overlaps(block)
    )
    value, end = block.value, block.value + block.num_addresses
    index = 0
    while value < end:
        while index < len(pools) and pools[index][1] <= value:
            index += 1
        if index < len(pools) and pools[index][0] < value + size:
            # Overlaps a pool: jump past it, to the next aligned subnet.
            value = max(value + size, -(-pools[index][1] // size) * size)
            continue
        yield value
        value += size
