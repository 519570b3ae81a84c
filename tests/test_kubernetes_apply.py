"""ipv6alloc.kubernetes.apply: writing a plan, under every fault a cluster can answer with.

These tests use a small in-memory cluster with the API server's two rules that matter to a write
(the resourceVersion precondition and write-once podCIDRs); the emulator tests run the same
writes over HTTP against the real clients.
"""

from __future__ import annotations

import copy
import ipaddress
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipv6alloc import ConfigurationError, NodeAllocator
from ipv6alloc.kubernetes import ApplyResult, Plan, RetryPolicy, apply, plan
from ipv6alloc.kubernetes._apply import as_writer, retry_after, status_of

ANNOTATION = "ipv6alloc.io/node-subnets"


class Status(Exception):  # noqa: N818  # named as the API's Status object
    """An HTTP answer, as clients raise them (``.status`` and ``.headers``)."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers or {}


class FakeCluster:
    """Nodes in memory; faults are taken, in order, by the next matching calls."""

    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        self.version = 100
        self.nodes: dict[str, dict[str, Any]] = {}
        for node in nodes:
            self.nodes[node["metadata"]["name"]] = copy.deepcopy(node)
            self._bump(node["metadata"]["name"])
        self.faults: list[tuple[str, str]] = []  # (call, fault)
        self.events: list[dict[str, Any]] = []
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.reads = 0

    def _bump(self, name: str) -> None:
        self.version += 1
        self.nodes[name]["metadata"]["resourceVersion"] = str(self.version)

    def _fault(self, call: str) -> str | None:
        for i, (on, fault) in enumerate(self.faults):
            if on == call:
                del self.faults[i]
                return fault
        return None

    def write_elsewhere(self, name: str, pod_cidrs: list[str]) -> None:
        """Another writer sets the node's podCIDRs."""
        self.nodes[name]["spec"].update(podCIDR=pod_cidrs[0], podCIDRs=pod_cidrs)
        self._bump(name)

    def patch(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.patches.append((name, copy.deepcopy(body)))
        fault = self._fault("patch")
        if fault in ("conflict", "throttle", "error", "forbidden"):
            codes = {"conflict": 409, "throttle": 429, "error": 500, "forbidden": 403}
            raise Status(codes[fault], {"Retry-After": "2"} if fault == "throttle" else None)
        if fault == "timeout":
            raise TimeoutError("read timed out")
        node = self.nodes.get(name)
        if node is None:
            raise Status(404)
        wanted = body.get("metadata", {}).get("resourceVersion")
        if wanted is not None and wanted != node["metadata"]["resourceVersion"]:
            raise Status(409)
        spec = node.setdefault("spec", {})
        if spec.get("podCIDRs") and spec["podCIDRs"] != body["spec"]["podCIDRs"]:
            raise Status(422)
        spec.update(body["spec"])
        self._bump(name)
        if fault == "lose":  # written, and the answer lost
            raise ConnectionResetError("connection reset by peer")
        return copy.deepcopy(node)

    def read(self, name: str) -> dict[str, Any]:
        self.reads += 1
        fault = self._fault("read")
        if fault == "error":
            raise Status(503)
        if fault == "timeout":
            raise TimeoutError("read timed out")
        node = self.nodes.get(name)
        if node is None:
            raise Status(404)
        return copy.deepcopy(node)

    def event(self, body: dict[str, Any]) -> None:
        self.events.append(body)

    def held(self, name: str) -> list[str]:
        return list(self.nodes[name].get("spec", {}).get("podCIDRs", []))


def node(name: str, subnet: str, day: int = 1) -> dict[str, Any]:
    return {
        "kind": "Node",
        "metadata": {
            "name": name,
            "creationTimestamp": f"2024-05-{day:02d}T00:00:00Z",
            "annotations": {ANNOTATION: subnet},
        },
        "spec": {},
        "status": {"addresses": [{"type": "InternalIP", "address": subnet.split("/", 1)[0]}]},
    }


NODES = [node("a", "2001:db8:0:1::5/64", 1), node("b", "2001:db8:0:2::5/64", 2)]


def allocator() -> NodeAllocator:
    return NodeAllocator(["10.0.0.0/16", "fd00::/48"], node_mask={4: 24, 6: 80})


class Clock:
    """A fake clock that the fake sleep moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def run(
    cluster: FakeCluster,
    alloc: NodeAllocator,
    clock: Clock | None = None,
    **kwargs: Any,
) -> ApplyResult:
    clock = clock or Clock()
    result = plan(list(cluster.nodes.values()), alloc)
    return apply(result, cluster, alloc, sleep=clock.sleep, clock=clock, seed=1, **kwargs)


def networks(texts: list[str] | tuple[str, ...]) -> list[str]:
    return sorted(str(ipaddress.ip_network(t, strict=False)) for t in texts)


def holds(alloc: NodeAllocator, name: str) -> list[str]:
    held = alloc.get(name)
    return [] if held is None else sorted(str(p) for p in held.pod_cidrs)


# -- writes that land ----------------------------------------------------------------------------


def test_every_assign_is_written_once_with_its_precondition() -> None:
    cluster, alloc = FakeCluster(NODES), allocator()
    result = run(cluster, alloc)
    assert result.ok
    assert [(o.name, o.outcome, o.attempts) for o in result.outcomes] == [
        ("a", "written", 1),
        ("b", "written", 1),
    ]
    for name, body in cluster.patches:
        assert body["metadata"]["resourceVersion"] == ("101" if name == "a" else "102")
        assert body["spec"]["podCIDR"] == body["spec"]["podCIDRs"][0]
    for name in ("a", "b"):
        assert networks(cluster.held(name)) == holds(alloc, name)
    assert [e["reason"] for e in cluster.events] == ["PodCIDRAssigned", "PodCIDRAssigned"]
    assert cluster.events[0]["involvedObject"] == {"apiVersion": "v1", "kind": "Node", "name": "a"}
    assert "2001:db8:0:1::5/64" in cluster.events[0]["message"]


def test_applying_twice_writes_nothing_the_second_time() -> None:
    cluster, alloc = FakeCluster(NODES), allocator()
    run(cluster, alloc)
    versions = {n: cluster.nodes[n]["metadata"]["resourceVersion"] for n in cluster.nodes}
    patches = len(cluster.patches)
    second = run(cluster, alloc)
    assert {o.outcome for o in second.outcomes} == {"unchanged"}
    assert len(cluster.patches) == patches
    assert {n: cluster.nodes[n]["metadata"]["resourceVersion"] for n in cluster.nodes} == versions


def test_a_conflict_on_an_unchanged_node_writes_again_with_the_new_version() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "conflict")]
    (outcome,) = run(cluster, alloc).outcomes
    assert (outcome.outcome, outcome.attempts) == ("written", 2)
    assert cluster.reads == 1
    assert networks(cluster.held("a")) == holds(alloc, "a")


def test_a_node_written_by_someone_else_meanwhile_is_adopted() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    result = plan(list(cluster.nodes.values()), alloc)
    planned = result.nodes[0].pod_cidrs
    cluster.write_elsewhere("a", ["10.0.9.0/24", "2001:db8:0:1:9::/80"])
    clock = Clock()
    (outcome,) = apply(result, cluster, alloc, sleep=clock.sleep, clock=clock).outcomes
    assert outcome.outcome == "adopted"
    assert outcome.pod_cidrs == ("10.0.9.0/24", "2001:db8:0:1:9::/80")
    assert holds(alloc, "a") == ["10.0.9.0/24", "2001:db8:0:1:9::/80"]
    for prefix in planned:
        assert alloc.allocator.lookup(prefix) is None  # the planned ones are free again


@pytest.mark.parametrize(("fault", "waits"), [("throttle", 2.0), ("error", 0.0)])
def test_throttling_and_server_errors_are_retried_after_a_backoff(fault: str, waits: float) -> None:
    cluster, alloc, clock = FakeCluster(NODES[:1]), allocator(), Clock()
    cluster.faults = [("patch", fault), ("patch", fault)]
    (outcome,) = run(cluster, alloc, clock).outcomes
    assert (outcome.outcome, outcome.attempts) == ("written", 3)
    assert len(clock.slept) == 2
    assert all(s >= waits for s in clock.slept)  # Retry-After: 2 is honoured
    assert clock.slept[1] > 0


def test_a_timeout_is_an_unknown_outcome_resolved_by_reading_the_node() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "timeout")]
    (outcome,) = run(cluster, alloc).outcomes
    assert (outcome.outcome, outcome.attempts) == ("written", 2)
    assert cluster.reads == 1


def test_a_lost_answer_to_a_write_that_landed_is_found_by_reading() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "lose")]
    (outcome,) = run(cluster, alloc).outcomes
    assert (outcome.outcome, outcome.attempts) == ("written", 1)
    assert len(cluster.patches) == 1  # not written twice
    assert networks(cluster.held("a")) == holds(alloc, "a")


def test_a_node_deleted_meanwhile_is_released() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    result = plan(list(cluster.nodes.values()), alloc)
    del cluster.nodes["a"]
    (outcome,) = apply(result, cluster, alloc, sleep=lambda s: None).outcomes
    assert outcome.outcome == "gone"
    assert "a" not in alloc


def test_a_refusal_gives_up_and_releases() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "forbidden")]
    result = run(cluster, alloc)
    (outcome,) = result.outcomes
    assert outcome.outcome == "failed"
    assert "HTTP 403" in outcome.reason
    assert "a" not in alloc
    assert not result.ok
    assert cluster.events[-1]["reason"] == "CIDRAssignmentFailed"
    assert cluster.events[-1]["type"] == "Warning"


def test_giving_up_releases_only_what_the_node_is_known_not_to_hold() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "error")] * 3
    (outcome,) = run(cluster, alloc, retry=RetryPolicy(attempts=3)).outcomes
    assert outcome.outcome == "failed"
    assert cluster.held("a") == []
    assert "a" not in alloc


def test_an_unknown_outcome_keeps_the_planned_prefixes_held() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "timeout")] * 2 + [("read", "timeout")] * 20
    result = run(cluster, alloc, retry=RetryPolicy(attempts=2, reads=2))
    (outcome,) = result.outcomes
    assert outcome.outcome == "unknown"
    assert holds(alloc, "a") == networks(outcome.pod_cidrs)  # still held: never handed out
    assert not result.ok


def test_the_deadline_bounds_the_retries() -> None:
    cluster, alloc, clock = FakeCluster(NODES[:1]), allocator(), Clock()
    cluster.faults = [("patch", "throttle")] * 50
    policy = RetryPolicy(attempts=50, deadline=5.0)
    (outcome,) = run(cluster, alloc, clock, retry=policy).outcomes
    assert outcome.outcome == "failed"
    assert clock.now <= 5.0
    assert outcome.attempts < 50


def test_an_exhausted_pool_records_cidr_not_available() -> None:
    nodes = [node(f"n{i}", f"2001:db8:0:{i}::5/128", i + 1) for i in range(3)]
    cluster = FakeCluster(nodes)
    alloc = NodeAllocator(["10.0.0.0/23", "fd00::/112"], node_mask={4: 24, 6: 120})
    result = run(cluster, alloc)
    assert [o.outcome for o in result.outcomes] == ["written", "written", "unchanged"]
    assert cluster.events[-1]["reason"] == "CIDRNotAvailable"
    assert not result.ok
    assert run(cluster, alloc, events=False).outcomes[-1].outcome == "unchanged"


def test_events_off_records_none_and_a_failing_recorder_changes_nothing() -> None:
    cluster, alloc = FakeCluster(NODES), allocator()
    run(cluster, alloc, events=False)
    assert cluster.events == []

    class Broken(FakeCluster):
        def event(self, body: dict[str, Any]) -> None:
            raise Status(403)

    broken = Broken(NODES)
    assert run(broken, allocator()).ok


# -- clients -------------------------------------------------------------------------------------


def test_a_plain_patch_function_with_a_read_function() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "conflict")]
    result = plan(list(cluster.nodes.values()), alloc)
    (outcome,) = apply(
        result, cluster.patch, alloc, read=cluster.read, sleep=lambda s: None
    ).outcomes
    assert outcome.outcome == "written"


def test_a_plain_patch_function_without_read_cannot_resolve_a_conflict() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    cluster.faults = [("patch", "conflict")] * 10
    result = plan(list(cluster.nodes.values()), alloc)
    (outcome,) = apply(
        result, cluster.patch, alloc, retry=RetryPolicy(attempts=2), sleep=lambda s: None
    ).outcomes
    assert outcome.outcome == "unknown"
    assert "a" in alloc


def test_the_official_client_is_sent_merge_patches() -> None:
    calls: list[tuple[str, Any]] = []

    class CoreV1Api:
        def patch_node(self, name: str, body: Any, **kwargs: Any) -> dict[str, Any]:
            calls.append(("patch", kwargs["_content_type"]))
            return {"kind": "Node", "metadata": {"name": name}, "spec": body["spec"]}

        def read_node(self, name: str, **kwargs: Any) -> dict[str, Any]:
            raise AssertionError("not read")

        def create_namespaced_event(self, namespace: str, body: Any, **kwargs: Any) -> None:
            calls.append(("event", namespace))

    alloc = allocator()
    result = apply(plan(NODES[:1], alloc), CoreV1Api(), alloc)
    assert result.outcomes[0].outcome == "written"
    assert calls == [("patch", "application/merge-patch+json"), ("event", "default")]


def test_the_plan_brings_its_allocator() -> None:
    cluster, alloc = FakeCluster(NODES[:1]), allocator()
    result = plan(list(cluster.nodes.values()), alloc)
    assert result.allocator is alloc
    (outcome,) = apply(result, cluster).outcomes
    assert outcome.outcome == "written"
    assert holds(alloc, "a") == networks(cluster.held("a"))
    by_hand = Plan(result.nodes)
    assert by_hand == result  # the allocator is not compared
    with pytest.raises(ValueError, match="needs the allocator"):
        apply(by_hand, cluster)


def test_what_is_not_a_client_is_refused() -> None:
    with pytest.raises(TypeError, match="apply\\(\\) needs"):
        as_writer(42)


def test_statuses_and_retry_after_of_every_client_shape() -> None:
    class LightkubeError(Exception):
        class status:  # noqa: N801  # lightkube's ApiError.status.code
            code = 409

    class HttpxError(Exception):
        class response:  # noqa: N801  # httpx's HTTPStatusError.response
            status_code = 503
            headers: ClassVar[dict[str, str]] = {"Retry-After": "7"}

    assert status_of(Status(422)) == 422
    assert status_of(LightkubeError()) == 409
    assert status_of(HttpxError()) == 503
    assert status_of(ConnectionResetError()) is None
    assert retry_after(Status(429, {"Retry-After": "3"})) == 3.0
    assert retry_after(HttpxError()) == 7.0
    assert retry_after(Status(429, {"Retry-After": "soon"})) is None
    assert retry_after(Status(429, {"Retry-After": "-1"})) is None
    assert retry_after(TimeoutError()) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"reads": -1}, {"backoff": -1.0}, {"jitter": 2.0}, {"deadline": "x"}],
)
def test_a_bad_retry_policy_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)


def test_the_outcome_table_and_json() -> None:
    cluster, alloc = FakeCluster(NODES), allocator()
    result = run(cluster, alloc)
    assert str(result).splitlines()[0].split() == [
        "NODE",
        "ACTION",
        "OUTCOME",
        "PODCIDRS",
        "REASON",
    ]
    assert result.to_dict()["summary"] == {"written": 2}
    assert result.writes == 2
    assert result.get("a") is result.outcomes[0]


# -- the property --------------------------------------------------------------------------------

FAULTS = st.lists(
    st.tuples(
        st.sampled_from(["patch", "read"]),
        st.sampled_from(["conflict", "throttle", "error", "timeout", "lose", "forbidden"]),
    ),
    max_size=12,
)


@given(faults=FAULTS, others=st.sets(st.sampled_from(["a", "b", "c"])))
def test_faults_never_move_a_prefix_nor_hand_one_out_twice(
    faults: list[tuple[str, str]], others: set[str]
) -> None:
    nodes = [*NODES, node("c", "2001:db8:0:3::5/120", 3)]
    cluster, alloc = FakeCluster(nodes), allocator()
    result = plan(list(cluster.nodes.values()), alloc)
    for name in sorted(others):  # someone else writes some nodes before the plan is applied
        cluster.write_elsewhere(name, [f"10.0.{100 + 'abc'.index(name)}.0/24"])
    cluster.faults = list(faults)
    clock = Clock()
    outcome = apply(result, cluster, alloc, sleep=clock.sleep, clock=clock, seed=3)
    alloc._check()
    for o in outcome.outcomes:
        stored = cluster.held(o.name)
        if o.outcome in ("written", "adopted"):
            assert networks(stored) == holds(alloc, o.name), o  # the allocator knows
        elif o.outcome == "failed":  # released: the node holds none of what was planned
            planned = result.get(o.name)
            assert planned is not None
            assert not set(networks(stored)) & set(networks(planned.pod_cidrs)), o
            assert o.name not in alloc, o
        elif o.outcome == "unknown":
            assert holds(alloc, o.name), o  # still held: the write may have landed
            # The node holds nothing, what was planned, or what another writer wrote.
            assert stored == [] or networks(stored) == holds(alloc, o.name) or o.name in others
    # Nothing the cluster holds overlaps anything else the cluster or allocator holds.
    everything = [(n, net) for n in cluster.nodes for net in networks(cluster.held(n))]
    everything += [(n, p) for n in alloc.holding() for p in holds(alloc, n) if not cluster.held(n)]
    for i, (a, x) in enumerate(everything):
        for b, y in everything[i + 1 :]:
            if a != b:
                nx, ny = ipaddress.ip_network(x), ipaddress.ip_network(y)
                assert nx.version != ny.version or not nx.overlaps(ny), (a, x, b, y)
    # Once the faults stop, planning and applying again converges: nothing left to write.
    cluster.faults = []
    again = run(cluster, alloc)
    third = run(cluster, alloc)
    assert {o.outcome for o in third.outcomes} <= {"unchanged"}, (again, third)
