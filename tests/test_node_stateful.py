"""A Hypothesis state machine over NodeAllocator, checked against netaddr as an oracle."""

from __future__ import annotations

import netaddr
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ipv6alloc import (
    Ipv6AllocError,
    Node,
    NodeAllocator,
    Prefix,
    SafePolicy,
    TalosPolicy,
)

# A small universe: clusters fill up quickly, subnets overlap (a /120 inside a /64), and some
# subnets are unusable (/126 under the safe policy's 16-address minimum, /128 always).
SUBNETS = [
    "2001:db8::{h}/64",
    "2001:db8:0:1::{h}/64",
    "2001:db8::1:0:0:{h}/120",
    "2001:db8:0:2::{h}/121",
    "2001:db8:0:3::{h}/126",
    "2001:db8:0:4::{h}/128",
]
NAMES = [f"n{i}" for i in range(8)]


class NodeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.alloc: NodeAllocator | None = None
        self.safe = True
        self.nodes: dict[str, Node] = {}
        # For each node: the addresses of the nodes present when it was assigned.
        self.seen: dict[str, set[Prefix]] = {}

    @precondition(lambda self: self.alloc is None)
    @rule(safe=st.booleans(), placement=st.sampled_from(["next-fit", "lowest"]))
    def setup(self, safe: bool, placement: str) -> None:
        self.safe = safe
        self.alloc = NodeAllocator(
            ["10.0.0.0/22", "fd00::/78"],
            node_mask={4: 24, 6: 80},
            policy=SafePolicy() if safe else TalosPolicy(),
            placement=placement,  # type: ignore[arg-type]
        )

    @precondition(lambda self: self.alloc is not None)
    @rule(
        name=st.sampled_from(NAMES),
        choice=st.lists(st.sampled_from(SUBNETS), max_size=3, unique=True),
        host=st.integers(min_value=0, max_value=3),
    )
    def assign(self, name: str, choice: list[str], host: int) -> None:
        assert self.alloc is not None
        node = Node.create(name, subnets=[s.format(h=host) for s in choice])
        before = self.alloc.allocator.allocations()
        try:
            got = self.alloc.assign(node)
        except Ipv6AllocError:
            assert self.alloc.allocator.allocations() == before, "a failed assign leaks nothing"
            assert name not in self.alloc
            return
        if name in self.nodes:
            return  # idempotent: the node keeps what it had
        self.nodes[name] = node
        self.seen[name] = {a for n in self.nodes.values() for a in n.addresses}
        assert [p.version for p in got.pod_cidrs] == [4, 6]
        for family in got.families:
            assert family.pool is not None
            assert family.prefix.subnet_of(family.pool)
            if family.source == "provider":
                assert any(
                    family.prefix.subnet_of(s.subnet.supernet(new_prefix=min(s.prefixlen, 64)))
                    for s in node.subnets
                )

    @precondition(lambda self: self.alloc is not None and self.nodes)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        assert self.alloc is not None
        name = data.draw(st.sampled_from(sorted(self.nodes)))
        self.alloc.release(name)
        del self.nodes[name]
        del self.seen[name]

    @precondition(lambda self: self.alloc is not None and self.nodes)
    @rule(data=st.data())
    def restart(self, data: st.DataObject) -> None:
        """A controller restart: a new allocator adopts every node's podCIDRs."""
        assert self.alloc is not None
        old = self.alloc
        new = NodeAllocator(
            ["10.0.0.0/22", "fd00::/78"],
            node_mask={4: 24, 6: 80},
            policy=old.policy,
            placement=old.allocator.placement,
        )
        for name in sorted(self.nodes):
            held = old.get(name)
            assert held is not None
            result = new.restore(self.nodes[name], [str(p) for p in held.pod_cidrs])
            assert result.ok, result
            assert new.get(name) is not None
        assert new.allocator.allocations() == old.allocator.allocations()
        self.alloc = new

    @invariant()
    def prefixes_are_disjoint_and_checked(self) -> None:
        if self.alloc is None:
            return
        self.alloc.allocator._check()
        held = [p for a in self.alloc.nodes() for p in a.pod_cidrs]
        total = netaddr.IPSet(str(p) for p in held)
        assert total.size == sum(p.num_addresses for p in held), "pod prefixes never overlap"
        assert {a.node for a in self.alloc.nodes()} == set(self.nodes)

    @invariant()
    def safe_prefixes_hold_no_node_address(self) -> None:
        if self.alloc is None or not self.safe:
            return
        for assignment in self.alloc.nodes():
            v6 = assignment.prefix(6)
            assert v6 is not None
            for address in self.seen[assignment.node]:
                assert not address.subnet_of(v6), f"{v6} holds node address {address}"


TestNodeMachine = NodeMachine.TestCase
