"""A Hypothesis state machine over NodeAllocator, checked against netaddr as an oracle.

Nodes register, join, leave, change and come back under new uids; controllers restart (a new
allocator restores every node) or reload a snapshot; stale or foreign podCIDRs are restored.
After every step the node layer's invariant check runs, pod prefixes never overlap (netaddr
counts them), and no pod prefix holds the address of a node that was known when it was handed
out under a policy that keeps node addresses out.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import netaddr
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ipv6alloc import (
    Ipv6AllocError,
    Node,
    NodeAllocator,
    Prefix,
    ProviderPolicy,
    SafePolicy,
    TalosPolicy,
)

if TYPE_CHECKING:
    from ipv6alloc import Policy

# A small universe: clusters fill up quickly, subnets overlap (a /120 inside a /64), and some
# subnets are unusable (/126 under the safe policy's 16-address minimum, /128 always).
SUBNETS = [
    "2001:db8::{h}/64",
    "2001:db8:0:1::{h}/64",
    "2001:db8::1:0:0:{h}/120",
    "2001:db8:0:2::{h}/121",
    "2001:db8:0:3::{h}/126",
    "2001:db8:0:4::{h}/128",
    "fd00::{h}/64",  # the IPv6 cluster CIDR's own /64: a provider subnet inside the cluster pool
]
NAMES = [f"n{i}" for i in range(8)]
#: Prefixes a restore may be handed: free, taken, outside every pool, garbage.
STORED = [
    "10.0.1.0/24",
    "10.0.2.0/24",
    "2001:db8::/80",
    "2001:db8::1:0:0:100/121",
    "2001:db8:0:1:7::/80",
    "2a01:4f8::/80",
    "fd00::/80",
    "10.0.1.7/24",
    "<nil>",
    "",
]
POLICIES: dict[str, Policy] = {
    "safe": SafePolicy(),
    "talos": TalosPolicy(),
    # Talos for the /121s and /120s, safe elsewhere: reservations follow the rule that applied.
    "mixed": ProviderPolicy(
        {"2001:db8::1:0:0:0/112": TalosPolicy(), "2001:db8:0:2::/64": TalosPolicy()}
    ),
}


def node_data(node: Node) -> dict[str, Any]:
    """A node as a node allocator's snapshot records it."""
    return {
        "addresses": [str(a) for a in node.addresses],
        "subnets": [str(s) for s in node.subnets],
        "uid": node.uid,
    }


def build(policy: str, placement: str) -> NodeAllocator:
    return NodeAllocator(
        ["10.0.0.0/22", "fd00::/64"],
        node_mask={4: 24, 6: 80},
        policy=POLICIES[policy],
        placement=placement,  # type: ignore[arg-type]
        service_cidrs=["10.0.3.0/24"],
    )


class NodeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.alloc: NodeAllocator | None = None
        self.policy = "safe"
        self.placement = "lowest"
        self.nodes: dict[str, Node] = {}  # what the cluster holds: nodes with prefixes
        # For each node: the addresses of the nodes known when it was assigned.
        self.seen: dict[str, set[Prefix]] = {}

    @property
    def a(self) -> NodeAllocator:
        assert self.alloc is not None
        return self.alloc

    @precondition(lambda self: self.alloc is None)
    @rule(
        policy=st.sampled_from(sorted(POLICIES)), placement=st.sampled_from(["next-fit", "lowest"])
    )
    def setup(self, policy: str, placement: str) -> None:
        self.policy, self.placement = policy, placement
        self.alloc = build(policy, placement)

    def _known_uid(self, name: str) -> str | None:
        """The uid the allocator knows for the node (from register or an earlier assign)."""
        known = [n["uid"] for n in self.a.snapshot()["nodes"] if n["name"] == name]
        return known[0] if known else None

    def _node(self, name: str, choice: list[str], host: int, uid: int) -> Node:
        return Node.create(
            name,
            subnets=[s.format(h=host + 1) for s in choice],
            addresses=[f"10.0.{host}.{9 + host}"],
            uid=f"uid-{uid}" if uid else None,
        )

    @precondition(lambda self: self.alloc is not None)
    @rule(
        name=st.sampled_from(NAMES),
        choice=st.lists(st.sampled_from(SUBNETS), max_size=3, unique=True),
        host=st.integers(min_value=0, max_value=3),
        uid=st.integers(min_value=0, max_value=2),
    )
    def register(self, name: str, choice: list[str], host: int, uid: int) -> None:
        node = self._node(name, choice, host, uid)
        old_uid = self._known_uid(name)
        if None not in (old_uid, node.uid) and old_uid != node.uid:
            self.nodes.pop(name, None)  # a re-created node: the old one's prefixes go
            self.seen.pop(name, None)
        self.a.register(node)
        assert name in self.a.registered()

    @precondition(lambda self: self.alloc is not None)
    @rule(
        name=st.sampled_from(NAMES),
        choice=st.lists(st.sampled_from(SUBNETS), max_size=3, unique=True),
        host=st.integers(min_value=0, max_value=3),
        uid=st.integers(min_value=0, max_value=2),
    )
    def assign(self, name: str, choice: list[str], host: int, uid: int) -> None:
        node = self._node(name, choice, host, uid)
        before = self.a.snapshot()
        known = next((n for n in before["nodes"] if n["name"] == name), None)
        # The uid the allocator knows (from register or an earlier assign) decides.
        old_uid = None if known is None else known["uid"]
        recreated = None not in (old_uid, node.uid) and old_uid != node.uid
        changed = known is not None and not recreated and known["node"] != node_data(node)
        previous = self.a.get(name)
        try:
            got = self.a.assign(node)
        except Ipv6AllocError:
            if recreated:  # the old incarnation was released before the new one failed
                self.nodes.pop(name, None)
                self.seen.pop(name, None)
            elif changed:  # registered with other subnets: that registration stays
                assert name in self.a.registered()
            else:
                assert self.a.snapshot() == before, "a failed assign changes nothing"
            assert name not in self.a
            return
        if previous is not None and not recreated:
            assert got == previous, "assign is idempotent: the node keeps what it had"
            assert self.a.snapshot() == before, "assigning a node that holds changes nothing"
            return
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
        name = data.draw(st.sampled_from(sorted(self.nodes)))
        assignment = self.a.release(name)
        assert assignment.node == name
        assert name not in self.a.registered()
        del self.nodes[name]
        del self.seen[name]

    @precondition(lambda self: self.alloc is not None)
    @rule(name=st.sampled_from(NAMES))
    def unregister(self, name: str) -> None:
        if name not in self.a.registered() and name not in self.a:
            return
        self.a.unregister(name)
        self.nodes.pop(name, None)
        self.seen.pop(name, None)
        assert self.a.get(name) is None

    @precondition(lambda self: self.alloc is not None)
    @rule(name=st.sampled_from(NAMES), stored=st.lists(st.sampled_from(STORED), max_size=3))
    def restore_by_name(self, name: str, stored: list[str]) -> None:
        """Restore what a node (known or not) might hold; never raises."""
        before = self.a.snapshot()
        had = self.a.get(name)
        result = self.a.restore(name, stored)
        if not result.adopted or (
            had is not None and set(result.adopted) <= {str(p) for p in had.pod_cidrs}
        ):
            assert self.a.snapshot() == before, "a restore that adopts nothing changes nothing"
        held = self.a.get(name)
        if held is not None and name not in self.nodes:
            self.nodes[name] = Node.create(name)
            self.seen[name] = set()

    @precondition(lambda self: self.alloc is not None)
    @rule(
        name=st.sampled_from(NAMES),
        choice=st.lists(st.sampled_from(SUBNETS), max_size=2, unique=True),
        host=st.integers(min_value=0, max_value=3),
        uid=st.integers(min_value=0, max_value=2),
        stored=st.lists(st.sampled_from(STORED), max_size=3),
    )
    def restore_node(
        self, name: str, choice: list[str], host: int, uid: int, stored: list[str]
    ) -> None:
        """Restore with the Node: it is registered first (unless known), then adopts."""
        node = self._node(name, choice, host, uid)
        old_uid = self._known_uid(name)
        recreated = None not in (old_uid, node.uid) and old_uid != node.uid
        if recreated:
            self.nodes.pop(name, None)  # a re-created node: the old one's prefixes go
            self.seen.pop(name, None)
        before = self.a.snapshot()
        had = self.a.get(name)
        result = self.a.restore(node, stored)
        if recreated:
            pass  # the old node was released: the state changed whatever was adopted
        elif not result.adopted or (
            had is not None and set(result.adopted) <= {str(p) for p in had.pod_cidrs}
        ):
            assert self.a.snapshot() == before, "a restore that adopts nothing changes nothing"
        if self.a.get(name) is not None and name not in self.nodes:
            self.nodes[name] = node
            self.seen[name] = set()

    @precondition(lambda self: self.alloc is not None and self.nodes)
    @rule(data=st.data())
    def restart(self, data: st.DataObject) -> None:
        """A controller restart: a new allocator registers every node, then adopts podCIDRs."""
        old = self.a
        new = build(self.policy, self.placement)
        names = sorted(self.nodes)
        for name in names:
            new.register(self.nodes[name])
        for name in names:
            held = old.get(name)
            assert held is not None
            result = new.restore(self.nodes[name], [str(p) for p in held.pod_cidrs])
            assert result.ok, result
            assert new.get(name) is not None
        assert new.allocator.allocations() == old.allocator.allocations()
        self.alloc = new

    @precondition(lambda self: self.alloc is not None)
    @rule(how=st.sampled_from(["snapshot", "copy"]))
    def reload(self, how: str) -> None:
        """The state survives a snapshot through JSON, or a copy, exactly."""
        before = self.a.snapshot()
        if how == "snapshot":
            again = NodeAllocator.from_snapshot(
                json.loads(json.dumps(before)), policy=POLICIES[self.policy]
            )
        else:
            again = self.a.copy()
        assert again.snapshot() == before
        self.alloc = again

    @invariant()
    def prefixes_are_disjoint_and_checked(self) -> None:
        if self.alloc is None:
            return
        self.alloc._check()
        held = [p for a in self.alloc.nodes() for p in a.pod_cidrs]
        total = netaddr.IPSet(str(p) for p in held)
        assert total.size == sum(p.num_addresses for p in held), "pod prefixes never overlap"
        assert {a.node for a in self.alloc.nodes()} == set(self.nodes)

    @invariant()
    def safe_prefixes_hold_no_node_address(self) -> None:
        if self.alloc is None or self.policy != "safe":
            return
        for assignment in self.alloc.nodes():
            v6 = assignment.prefix(6)
            if v6 is None or assignment.families[-1].source == "restored":
                continue
            for address in self.seen[assignment.node]:
                assert not address.subnet_of(v6), f"{v6} holds node address {address}"


TestNodeMachine = NodeMachine.TestCase
