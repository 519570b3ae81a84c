"""A state machine: nodes join and leave, the controller restarts, every fault is injected.

The controller's Reconciler writes through the official client to the emulator over loopback.
Invariants, after every step: no two nodes ever hold overlapping prefixes, podCIDRs never change
once set, and the allocator's own invariants hold. Once the faults stop and the controller
resyncs, every node that can get prefixes has them and nothing leaks.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from kubernetes import client as k8s

from ipv6alloc import NodeAllocator
from ipv6alloc.kubernetes import Reconciler, RetryPolicy
from ipv6alloc.kubernetes._apply import OfficialClient
from ipv6alloc.kubernetes._connect import connect
from ipv6alloc.testing import Emulator, node_object

#: Loopback sockets left open fail the test that left them (see conftest).
pytestmark = pytest.mark.usefixtures("collect_garbage")

ANNOTATION = "ipv6alloc.io/node-subnets"
NAMES = ["n0", "n1", "n2", "n3", "n4", "n5"]
#: A /64, a /121 nested in it, a /120 of its own, a /128 only (the fallback), no subnet.
SUBNETS = [
    "2001:db8:0:1::5/64",
    "2001:db8:0:1:1::105/121",
    "2001:db8:0:2::9/120",
    "2001:db8:0:3::1/128",
    None,
]
FAULTS = ["conflict", "throttle", "error", "lose", "timeout"]
#: Fast retries: the faults are many and the machine is small.
RETRY = RetryPolicy(attempts=4, reads=2, backoff=0.0, max_backoff=0.0, deadline=10.0)


def allocator() -> NodeAllocator:
    return NodeAllocator(["10.0.0.0/20", "fd00::/112"], node_mask={4: 24, 6: 120})


class ClusterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.emulator = Emulator().start()
        self.kubeconfig = Path(self.emulator.write_kubeconfig(_tmp() / "kubeconfig"))
        self.api = k8s.CoreV1Api(connect(str(self.kubeconfig)))
        self.writer = OfficialClient(self.api, request_timeout=0.5)
        self.first_seen: dict[str, list[str]] = {}  # uid -> podCIDRs when first set
        self._restart()

    def _restart(self) -> None:
        self.reconciler = Reconciler(allocator(), self.writer, retry=RETRY)
        self.reconciler.resync(self._listed())

    def _listed(self) -> dict[str, Any]:
        return {"kind": "List", "items": self.emulator.nodes()}

    def _nodes(self) -> list[Any]:
        return self.emulator.nodes()

    # -- what happens to a cluster ------------------------------------------------------------

    @rule(name=st.sampled_from(NAMES), subnet=st.sampled_from(SUBNETS))
    def join(self, name: str, subnet: str | None) -> None:
        if any(n["metadata"]["name"] == name for n in self._nodes()):
            return
        address = subnet.split("/", 1)[0] if subnet else "10.99.0.9"
        obj = node_object(
            name, addresses=[address], annotations={ANNOTATION: subnet} if subnet else None
        )
        created = self.emulator.add_node(obj)
        calm = not self.emulator.pending_faults
        self.reconciler.handle("ADDED", created)
        if calm:  # without faults a joining node gets its prefixes at once
            assert len(self.emulator.node(name)["spec"].get("podCIDRs") or []) == 2

    @rule(name=st.sampled_from(NAMES))
    def leave(self, name: str) -> None:
        node = next((n for n in self._nodes() if n["metadata"]["name"] == name), None)
        if node is None:
            return
        self.emulator.delete_node(name)
        self.reconciler.handle("DELETED", node)
        assert name not in self.reconciler.allocator  # released at once, not at the next resync

    @rule(name=st.sampled_from(NAMES))
    def event(self, name: str) -> None:
        node = next((n for n in self._nodes() if n["metadata"]["name"] == name), None)
        if node is not None:
            self.reconciler.handle("MODIFIED", node)

    @rule(
        fault=st.sampled_from(FAULTS),
        count=st.integers(1, 3),
        verb=st.sampled_from(["patch", "get"]),
    )
    def fault(self, fault: str, count: int, verb: str) -> None:
        self.emulator.inject(fault, count, verb=verb, resource="nodes", hold=0.6)  # type: ignore[arg-type]

    @rule()
    def resync(self) -> None:
        self.reconciler.resync(self._listed())

    @rule()
    def restart(self) -> None:
        """The controller process dies and starts again: nothing in memory."""
        self._restart()

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def no_two_nodes_overlap_and_nothing_changes_once_set(self) -> None:
        nets = []
        for node in self._nodes():
            cidrs = node["spec"].get("podCIDRs") or []
            uid = node["metadata"]["uid"]
            if cidrs:
                assert self.first_seen.setdefault(uid, cidrs) == cidrs, (node, self.first_seen)
            nets += [(node["metadata"]["name"], ipaddress.ip_network(c)) for c in cidrs]
        for i, (a, x) in enumerate(nets):
            for b, y in nets[i + 1 :]:
                assert x.version != y.version or not x.overlaps(y), (a, x, b, y)

    @invariant()
    def the_allocator_is_consistent(self) -> None:
        self.reconciler.allocator._check()

    def teardown(self) -> None:
        try:
            # Once the faults stop: everything converges, and nothing leaks.
            self.emulator.clear_faults()
            self.reconciler.resync(self._listed())
            result = self.reconciler.resync(self._listed())
            assert not result.writes, result
            alloc = self.reconciler.allocator
            for node in self._nodes():
                name = node["metadata"]["name"]
                cidrs = node["spec"].get("podCIDRs") or []
                assert len(cidrs) == 2, node  # every node here can get both families
                held = alloc.get(name)
                assert held is not None
                assert sorted(str(p) for p in held.pod_cidrs) == sorted(
                    str(ipaddress.ip_network(c)) for c in cidrs
                )
            assert set(alloc.holding()) == {n["metadata"]["name"] for n in self._nodes()}
        finally:
            self.api.api_client.close()
            self.emulator.stop()


_TMP: list[Path] = []


def _tmp() -> Path:
    return _TMP[0]


@pytest.fixture(autouse=True)
def _tmp_dir(tmp_path: Path) -> None:
    _TMP[:] = [tmp_path]


TestClusterMachine = ClusterMachine.TestCase
TestClusterMachine.settings = settings(
    max_examples=15,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
