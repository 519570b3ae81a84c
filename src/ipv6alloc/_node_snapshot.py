"""Snapshots of a :class:`~ipv6alloc.NodeAllocator`: to JSON-safe data and back, validated.

The format (``"format": "ipv6alloc.NodeAllocator/1"``) holds the configuration, the policy's
``repr``, the :class:`~ipv6alloc.PrefixAllocator` snapshot beneath, the pools the node layer
added, and one entry per node: what registration learned (the node, its usable decisions and
skipped subnets), what it holds, and its reservations, including those waiting for another
node's prefix. Loading rebuilds every piece, then runs the node layer's invariant check, so a
snapshot that contradicts itself is refused instead of loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import _snapshot as _snap
from ._allocator import PrefixAllocator
from ._errors import (
    ConfigurationError,
    InvalidPrefixError,
    PolicyError,
    PrefixConflictError,
    SnapshotError,
    quote,
)
from ._interface import Decision, Interface
from ._node import FamilyAssignment, Node
from ._node_invariants import check_node_allocator
from ._node_state import Record, pack
from ._policy import SafePolicy
from ._prefix import Prefix

if TYPE_CHECKING:
    from ._interface import Policy
    from ._node_allocator import NodeAllocator

__all__ = ["NODE_SNAPSHOT_FORMAT", "dump", "load"]

#: The ``format`` value of :meth:`~ipv6alloc.NodeAllocator.snapshot` output.
NODE_SNAPSHOT_FORMAT = "ipv6alloc.NodeAllocator/1"
_SOURCES = ("provider", "cluster", "restored")
_ROLES = ("provider", "outside")


def dump(alloc: NodeAllocator) -> dict[str, Any]:
    """The snapshot of ``alloc``; the caller holds its lock."""
    return {
        "format": NODE_SNAPSHOT_FORMAT,
        "policy": repr(alloc._policy),
        "cluster_cidrs": [str(p) for p in alloc._cluster.values()],
        "node_mask": {str(v): m for v, m in alloc._masks.items()},
        "families": list(alloc._families),
        "fallback": alloc._fallback,
        "reserved": [str(p) for p in alloc._extra_reserved],
        "allocator": alloc._allocator.snapshot(),
        "pools": [
            {"prefix": str(pool), "role": "outside" if pack(pool) in alloc._outside else "provider"}
            for pool in alloc._node_pools()
        ],
        "nodes": [_dump_record(alloc, rec) for rec in alloc._nodes.values()],
    }


def _dump_record(alloc: NodeAllocator, rec: Record) -> dict[str, Any]:
    node = rec.node
    return {
        "name": rec.name,
        "uid": rec.uid,
        "node": None
        if node is None
        else {
            "addresses": [str(a) for a in node.addresses],
            "subnets": [str(s) for s in node.subnets],
            "uid": node.uid,
        },
        "registered": rec.registered,
        "usable": [_dump_decision(d) for d in rec.usable],
        "skipped": list(rec.skipped),
        "warnings": list(rec.warnings),
        "assignment": None
        if rec.assignment is None
        else {
            "families": [
                {
                    "prefix": str(f.prefix),
                    "source": f.source,
                    "pool": None if f.pool is None else str(f.pool),
                    "reason": f._reason,  # null: the decision's
                    "decision": None if f.decision is None else _dump_decision(f.decision),
                }
                for f in rec.assignment.families
            ],
            "skipped": list(rec.assignment.skipped),
            "warnings": list(rec.assignment.warnings),
        },
        "allocated": [str(p) for p in rec.allocated],
        "reserved": [str(p) for p in alloc._reserved_by(rec)],
        "pending": [[str(a), str(holder)] for a, holder in rec.waiting()],
        "pools": [str(p) for p in alloc._pools_of(rec)],
    }


def _dump_decision(d: Decision) -> dict[str, Any]:
    return {
        "interface": str(d.interface),
        "pool": str(d.pool),
        "prefixlen": d.prefixlen,
        "reason": d.reason,
        "reserved": [str(r) for r in d.reserved],
        "policy": d.policy,
        "reserve_node_addresses": d.reserve_node_addresses,
    }


def load(cls: type[NodeAllocator], data: Mapping[str, Any], policy: Policy | None) -> NodeAllocator:
    """Rebuild a node allocator from :func:`dump` output; SnapshotError when invalid."""
    _snap.check_format(data, NODE_SNAPSHOT_FORMAT)
    policy = SafePolicy() if policy is None else policy
    if repr(policy) != data.get("policy"):
        raise SnapshotError(
            f"the snapshot was taken with policy {quote(data.get('policy'))}, not "
            f"{quote(policy, use_repr=True)}: pass that policy as policy="
        )
    try:
        masks = _mapping(data, "node_mask")
        node_mask = {}
        for version, value in masks.items():
            if version not in ("4", "6"):
                raise SnapshotError(f"node_mask keys must be '4' or '6', not {quote(version)}")
            node_mask[int(version)] = value
        alloc = cls(
            [_snap.text(item, "cluster_cidrs") for item in _snap.items(data, "cluster_cidrs")],
            node_mask=node_mask,
            policy=policy,
            families=_snap.items(data, "families"),
            fallback=data.get("fallback"),  # type: ignore[arg-type]  # checked by __init__
            reserved=[_snap.text(item, "reserved") for item in _snap.items(data, "reserved")],
        )
        alloc._allocator = PrefixAllocator.from_snapshot(_mapping(data, "allocator"))
        users: dict[Prefix, int] = {}  # the node layer's pools -> their users, counted below
        for item in _snap.items(data, "pools"):
            role = _snap.mapping(item, "pools").get("role")
            if role not in _ROLES:
                raise SnapshotError(f"pool role must be 'provider' or 'outside', not {quote(role)}")
            prefix = Prefix.parse(_snap.field(item, "prefix", "pools"))
            if prefix in users:
                raise SnapshotError(f"pool {quote(prefix)} is listed twice")
            users[prefix] = 0
            if role == "outside":
                alloc._outside.add(pack(prefix))
        if set(users) != set(alloc._node_pools()):
            raise SnapshotError(
                "the snapshot contradicts itself: 'pools' must list the allocator's pools "
                "besides the cluster's"
            )
        for item in _snap.items(data, "nodes"):
            rec = _load_record(_snap.mapping(item, "nodes"), alloc._policy)
            if rec.name in alloc._nodes:
                raise SnapshotError(f"node {quote(rec.name)} is listed twice")
            alloc._nodes[rec.name] = rec
            _load_pools(alloc, rec, _texts(item, "pools"), users)
            for address, holder in rec.waiting():
                alloc._blocked.setdefault(holder, []).append((rec.name, address))
            _load_reserved(alloc, rec, _texts(item, "reserved"))
        for pool, count in users.items():
            if not count:
                raise SnapshotError(f"pool {quote(pool)} is used by no node")
            if count > 1:
                alloc._shared_pools[pool] = count - 1
    except SnapshotError:
        raise
    except (
        ConfigurationError,
        InvalidPrefixError,
        PolicyError,
        PrefixConflictError,
        TypeError,
        ValueError,
    ) as e:
        raise SnapshotError(f"invalid snapshot: {e}") from e
    try:
        check_node_allocator(alloc, deep=False)
    except AssertionError as e:
        raise SnapshotError(f"the snapshot contradicts itself: {e}") from e
    return alloc


def _mapping(data: object, key: str) -> Mapping[str, Any]:
    value = _snap.mapping(data, "snapshot").get(key)
    if not isinstance(value, Mapping):
        raise SnapshotError(f"snapshot field {quote(key)} must be a mapping")
    return value


def _texts(data: Mapping[str, Any], key: str) -> list[str]:
    return [_snap.text(item, key) for item in _snap.items(data, key)]


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise SnapshotError(f"snapshot field {quote(key)} must be text or null, not {quote(value)}")
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if type(value) is not bool:
        raise SnapshotError(f"snapshot field {quote(key)} must be true or false")
    return value


def _load_record(item: Mapping[str, Any], policy: Policy) -> Record:
    name = _snap.field(item, "name", "nodes")
    rec = Record(name, _optional_text(item, "uid"), policy)
    node = item.get("node")
    if node is not None:
        node = _snap.mapping(node, "node")
        rec.node = Node(
            name,
            tuple(Prefix.parse(a) for a in _texts(node, "addresses")),
            tuple(Interface.parse(s) for s in _texts(node, "subnets")),
            _optional_text(node, "uid"),
        )
    if _flag(item, "registered") != rec.registered:
        raise SnapshotError(
            f"the snapshot contradicts itself: node {quote(name)} is registered when, and only "
            "when, it has its node"
        )
    rec.usable = tuple(_load_decision(d) for d in _snap.items(item, "usable"))
    rec.skipped = tuple(_texts(item, "skipped"))
    rec.warnings = tuple(_texts(item, "warnings"))
    held = item.get("assignment")
    if held is not None:
        held = _snap.mapping(held, "assignment")
        for entry in _snap.items(held, "families"):
            f = _snap.mapping(entry, "families")
            source = f.get("source")
            if source not in _SOURCES:
                raise SnapshotError(f"unknown source {quote(source)} of node {quote(name)}")
            pool = _optional_text(f, "pool")
            decision = f.get("decision")
            prefix = Prefix.parse(_snap.field(f, "prefix", "families"))
            if decision is not None:
                usable = rec.decision_holding(prefix)
                if (
                    usable is None
                    or usable != _load_decision(decision)
                    or pool is None
                    or usable.pool != Prefix.parse(pool)
                ):
                    raise SnapshotError(
                        f"the snapshot contradicts itself: the decision of {quote(name)}'s "
                        f"prefix in {quote(pool)} is not that of a usable subnet"
                    )
            family = FamilyAssignment(
                prefix,
                source,
                None if pool is None else Prefix.parse(pool),
                _optional_text(f, "reason"),
                None if decision is None else _load_decision(decision),
            )
            rec.hold([family])
        rec.held_skipped = tuple(_texts(held, "skipped"))
        if tuple(_texts(held, "warnings")) != rec.warnings:
            raise SnapshotError(
                f"the snapshot contradicts itself: the assignment of {quote(name)} must carry "
                "the node's warnings"
            )
        if not rec.held:
            raise SnapshotError(
                f"the snapshot contradicts itself: the assignment of {quote(name)} holds no prefix"
            )
    allocated = tuple(Prefix.parse(p) for p in _texts(item, "allocated"))
    if sorted(allocated) != sorted(rec.allocated):
        raise SnapshotError(
            f"the snapshot contradicts itself: 'allocated' of node {quote(name)} must list its "
            "assignment's prefixes"
        )
    for pair in _snap.items(item, "pending"):
        if not isinstance(pair, list) or len(pair) != 2:
            raise SnapshotError(f"each pending entry is [address, holder], not {quote(pair)}")
        rec.wait(
            Prefix.parse(_snap.text(pair[0], "pending")),
            Prefix.parse(_snap.text(pair[1], "pending")),
        )
    return rec


def _load_reserved(alloc: NodeAllocator, rec: Record, texts: list[str]) -> None:
    """Index ``rec`` among the nodes that reserved the addresses it lists."""
    candidates = rec.candidates()
    for text in texts:
        address = Prefix.parse(text)
        if address.prefixlen != address.max_prefixlen or rec.name in alloc._reservers_of(address):
            raise SnapshotError(
                f"a node's reservations are distinct addresses, not {quote(text)} of "
                f"{quote(rec.name)}"
            )
        alloc._add_reserver(address, rec.name)
        if address not in candidates:
            rec.add_other_reserved(address)


def _load_pools(
    alloc: NodeAllocator, rec: Record, texts: list[str], users: dict[Prefix, int]
) -> None:
    """Count ``rec`` among the ``users`` of the pools it lists (its usable subnets' too)."""
    listed = [Prefix.parse(p) for p in texts]
    own = alloc._pools_of(rec)  # its usable subnets' pools (no other pool yet)
    if len(set(listed)) != len(listed) or not set(own) <= set(listed):
        raise SnapshotError(
            f"the snapshot contradicts itself: the pools of node {quote(rec.name)} must list "
            "those of its usable subnets, each once"
        )
    rec.other_pools = tuple(pack(p) for p in listed if p not in own)
    for pool in listed:
        if pool not in users:
            raise SnapshotError(f"node {quote(rec.name)} uses unknown pool {quote(pool)}")
        users[pool] += 1


def _load_decision(data: object) -> Decision:
    d = _snap.mapping(data, "decisions")
    prefixlen = d.get("prefixlen")
    if type(prefixlen) is not int:
        raise SnapshotError(f"a decision's prefixlen must be an integer, not {quote(prefixlen)}")
    return Decision(
        Interface.parse(_snap.field(d, "interface", "decisions")),
        Prefix.parse(_snap.field(d, "pool", "decisions")),
        prefixlen,
        _snap.field(d, "reason", "decisions"),
        tuple(Prefix.parse(r) for r in _texts(d, "reserved")),
        _snap.field(d, "policy", "decisions"),
        _flag(d, "reserve_node_addresses"),
    )
