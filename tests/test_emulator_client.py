"""The emulator against the official client (``kubernetes`` 37.x), over loopback.

Every expected message is upstream's, written out literally here (kube-apiserver's texts as
listed in docs/testing.md), never produced by the emulator's own code.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
import urllib3
from kubernetes import client, config, watch
from kubernetes.client import ApiClient, CoordinationV1Api, CoreV1Api
from kubernetes.client.exceptions import ApiException
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.resourcelock import leaselock

from ipv6alloc.testing import ApiError, Emulator, node_object

#: Loopback sockets left open fail the test that left them (see conftest).
pytestmark = pytest.mark.usefixtures("collect_garbage")

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

FORBIDDEN = 'node updates may not change podCIDR except from "" to valid'
MUST_BE_CIDR = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
ONE_PER_FAMILY = "may specify no more than one CIDR for each IP family"
MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)
REJECTED = "the server rejected our request due to an error in our request"
V4, V4B, V6 = "10.0.0.0/24", "10.1.0.0/24", "2001:db8:1::/80"
# The client's models are typed, its watch and leader election are not: the tests read both
# dynamically, as a controller does.
Watch: Any = watch.Watch
LeaseLock: Any = leaselock.LeaseLock
ElectionConfig: Any = electionconfig.Config
LeaderElection: Any = leaderelection.LeaderElection
new_client_from_config: Any = config.new_client_from_config


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def api_client(emulator: Emulator, tmp_path: Path) -> Iterator[ApiClient]:
    path = emulator.write_kubeconfig(tmp_path / "kubeconfig")
    made = new_client_from_config(config_file=str(path))
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def core(api_client: ApiClient) -> Any:
    return CoreV1Api(api_client)


def _status(exc: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body = json.loads(exc.value.body or "")
    assert body["kind"] == "Status"
    assert body["apiVersion"] == "v1"
    assert body["status"] == "Failure"
    assert body["code"] == exc.value.status
    return body  # type: ignore[no-any-return]


def _merge(core: Any, name: str, body: object) -> Any:
    return core.patch_node(name, body, _content_type="application/merge-patch+json")


def _assign(*cidrs: str) -> dict[str, object]:
    return {"spec": {"podCIDR": cidrs[0], "podCIDRs": list(cidrs)}}


# -- objects and reads -----------------------------------------------------------------------------


def test_nodes_are_stored_as_the_api_returns_them(emulator: Emulator, core: Any) -> None:
    created = core.create_node(node_object("n1", addresses=["2001:db8::7"]))
    assert created.metadata.resource_version == "1"
    core.create_node(node_object("n0"))
    stored = emulator.node("n1")
    assert stored["apiVersion"] == "v1"
    assert stored["kind"] == "Node"
    metadata = stored["metadata"]
    uuid4 = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(uuid4, metadata["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", metadata["creationTimestamp"])
    listed = core.list_node(_preload_content=False)
    body = json.loads(listed.data)
    assert body["kind"] == "NodeList"
    assert body["apiVersion"] == "v1"
    assert body["metadata"] == {"resourceVersion": "2"}
    assert [item["metadata"]["name"] for item in body["items"]] == ["n0", "n1"]
    assert all("kind" not in item and "apiVersion" not in item for item in body["items"])
    assert core.read_node("n1").status.addresses[0].address == "2001:db8::7"
    assert emulator.resource_version == "2"


def test_stored_objects_are_copies(emulator: Emulator) -> None:
    given = node_object("n1", labels={"a": "b"})
    stored = emulator.add_node(given)
    given["metadata"]["labels"]["a"] = "changed"
    stored["metadata"]["labels"]["a"] = "changed too"
    emulator.node("n1")["metadata"]["labels"]["a"] = "and again"
    assert emulator.node("n1")["metadata"]["labels"] == {"a": "b"}


def test_missing_and_duplicate_nodes(emulator: Emulator, core: Any) -> None:
    with pytest.raises(ApiException) as missing:
        core.read_node("n1")
    assert _status(missing) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'nodes "n1" not found',
        "reason": "NotFound",
        "details": {"name": "n1", "kind": "nodes"},
        "code": 404,
    }
    emulator.add_node(node_object("n1"))
    with pytest.raises(ApiException) as twice:
        core.create_node(node_object("n1"))
    body = _status(twice)
    assert (body["code"], body["reason"]) == (409, "AlreadyExists")
    assert body["message"] == 'nodes "n1" already exists'
    assert body["details"] == {"name": "n1", "kind": "nodes"}
    with pytest.raises(LookupError, match="no node named 'n2'"):
        emulator.node("n2")


def test_delete_answers_a_success_status(emulator: Emulator, core: Any) -> None:
    uid = emulator.add_node(node_object("n1"))["metadata"]["uid"]
    answer = core.delete_node("n1", _preload_content=False)
    assert json.loads(answer.data) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "n1", "kind": "nodes", "uid": uid},
    }
    assert emulator.nodes() == []


# -- the podCIDRs rules ---------------------------------------------------------------------------


def test_pod_cidrs_are_write_once(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    assigned = core.patch_node("n1", _assign(V4, V6))
    assert assigned.spec.pod_cidrs == [V4, V6]
    assert assigned.spec.pod_cidr == V4
    with pytest.raises(ApiException) as changed:
        core.patch_node("n1", _assign(V4B, V6))
    assert _status(changed) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Node "n1" is invalid: spec.podCIDRs: Forbidden: node updates may not change '
        'podCIDR except from "" to valid',
        "reason": "Invalid",
        "details": {
            "name": "n1",
            "kind": "Node",
            "causes": [
                {
                    "reason": "FieldValueForbidden",
                    "message": 'Forbidden: node updates may not change podCIDR except from "" '
                    "to valid",
                    "field": "spec.podCIDRs",
                }
            ],
        },
        "code": 422,
    }
    assert emulator.node("n1")["spec"] == {"podCIDR": V4, "podCIDRs": [V4, V6]}


def test_the_second_family_cannot_be_added_later(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1", pod_cidrs=[V4]))
    with pytest.raises(ApiException) as added:
        core.patch_node("n1", _assign(V4, V6))
    assert _status(added)["details"]["causes"] == [
        {
            "reason": "FieldValueForbidden",
            "message": f"Forbidden: {FORBIDDEN}",
            "field": "spec.podCIDRs",
        }
    ]


def test_writing_the_same_prefixes_again_changes_nothing(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1", pod_cidrs=[V4, V6]))
    before = emulator.resource_version
    again = core.patch_node("n1", _assign(V4, V6))
    assert again.metadata.resource_version == before
    assert emulator.resource_version == before


@pytest.mark.parametrize(
    ("cidrs", "message"),
    [
        (["foo"], f'spec.podCIDRs[0]: Invalid value: "foo": {MUST_BE_CIDR}'),
        (
            [V4, V4B],
            'spec.podCIDRs: Invalid value: []string{"10.0.0.0/24", "10.1.0.0/24"}: '
            + ONE_PER_FAMILY,
        ),
        (
            [V4, V6, V4B],
            (
                'spec.podCIDRs: Invalid value: []string{"10.0.0.0/24", "2001:db8:1::/80", '
                f'"10.1.0.0/24"}}: {ONE_PER_FAMILY}'
            ),
        ),
        (
            ["10.0.0.1/24"],
            (
                'spec.podCIDRs[0]: Invalid value: "10.0.0.1/24": must not have bits set beyond the '
                "prefix length"
            ),
        ),
        (
            ["010.0.0.0/24"],
            (
                'spec.podCIDRs[0]: Invalid value: "010.0.0.0/24": must not have leading 0s in IP '
                "or prefix length"
            ),
        ),
        (
            ["::ffff:10.0.0.0/104"],
            (
                'spec.podCIDRs[0]: Invalid value: "::ffff:10.0.0.0/104": must not have an '
                "IPv4-mapped IPv6 address"
            ),
        ),
    ],
)
def test_invalid_pod_cidrs_are_refused(
    emulator: Emulator, core: Any, cidrs: list[str], message: str
) -> None:
    emulator.add_node(node_object("n1"))
    with pytest.raises(ApiException) as refused:
        core.patch_node("n1", _assign(*cidrs))
    body = _status(refused)
    assert body["code"] == 422
    assert body["reason"] == "Invalid"
    assert body["message"] == f'Node "n1" is invalid: {message}'
    [cause] = body["details"]["causes"]
    assert f"{cause['field']}: {cause['message']}" == message
    with pytest.raises(ApiException) as on_create:
        core.create_node(node_object("n2", pod_cidrs=cidrs))
    assert _status(on_create)["message"] == f'Node "n2" is invalid: {message}'


def test_an_older_server_stores_lax_cidrs(tmp_path: Path) -> None:
    with Emulator(strict_cidrs=False) as old:
        made = new_client_from_config(
            config_file=str(old.write_kubeconfig(tmp_path / "kubeconfig"))
        )
        try:
            core: Any = CoreV1Api(made)
            core.create_node(node_object("n1"))
            stored = core.patch_node("n1", _assign("10.0.0.1/24", "2001:db8::1/64"))
            assert stored.spec.pod_cidrs == ["10.0.0.1/24", "2001:db8::1/64"]
            with pytest.raises(ApiException) as still:
                core.patch_node("n2-missing", _assign("foo"))
            assert still.value.status == 404
        finally:
            made.close()


def test_values_an_old_node_holds_stay_valid(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1", pod_cidrs=["10.0.0.1/24"]), validate=False)
    labelled = core.patch_node("n1", {"metadata": {"labels": {"a": "b"}}})
    assert labelled.spec.pod_cidrs == ["10.0.0.1/24"]
    with pytest.raises(ApiException) as changed:
        core.patch_node("n1", _assign("10.0.0.0/24"))
    assert (
        _status(changed)["message"]
        == f'Node "n1" is invalid: spec.podCIDRs: Forbidden: {FORBIDDEN}'
    )
    with pytest.raises(ApiError) as refused:
        emulator.add_node(node_object("n2", pod_cidrs=["10.0.0.1/24"]))
    assert refused.value.code == 422


def test_the_singular_field_wins_the_conversion(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    stored = _merge(core, "n1", {"spec": {"podCIDR": V4B, "podCIDRs": [V4, V6]}})
    assert stored.spec.pod_cidrs == [V4B]
    assert stored.spec.pod_cidr == V4B
    emulator.add_node(node_object("n2"))
    only_list = core.patch_node("n2", {"spec": {"podCIDRs": [V6, V4]}})
    assert (only_list.spec.pod_cidr, only_list.spec.pod_cidrs) == (V6, [V6, V4])


def test_a_patch_of_only_the_list_of_an_assigned_node_does_nothing(
    emulator: Emulator, core: Any
) -> None:
    emulator.add_node(node_object("n1", pod_cidrs=[V4]))
    before = emulator.resource_version
    answer = _merge(core, "n1", {"spec": {"podCIDRs": [V4B]}})
    assert answer.spec.pod_cidrs == [V4]
    assert emulator.resource_version == before


def test_strategic_merge_unions_pod_cidrs_and_merge_patch_replaces(
    emulator: Emulator, core: Any
) -> None:
    emulator.add_node(node_object("n1", pod_cidrs=[V4]))
    before = emulator.resource_version
    unchanged = core.patch_node("n1", {"spec": {"podCIDRs": []}})  # empty list: no-op
    assert unchanged.spec.pod_cidrs == [V4]
    assert emulator.resource_version == before
    # strategic merge: [V4] + [V6] is [V4, V6], a change, refused; merge patch: [V6], then
    # the conversion puts podCIDR back: [V4], no change at all.
    with pytest.raises(ApiException) as union:
        core.patch_node("n1", {"spec": {"podCIDRs": [V6]}})
    assert (
        _status(union)["message"] == f'Node "n1" is invalid: spec.podCIDRs: Forbidden: {FORBIDDEN}'
    )
    assert _merge(core, "n1", {"spec": {"podCIDRs": [V6]}}).spec.pod_cidrs == [V4]
    core.patch_node("n1", {"metadata": {"finalizers": ["a"]}})
    assert core.patch_node("n1", {"metadata": {"finalizers": ["b"]}}).metadata.finalizers == [
        "a",
        "b",
    ]
    assert _merge(core, "n1", {"metadata": {"finalizers": ["c"]}}).metadata.finalizers == ["c"]
    taint = {"key": "k", "value": "v", "effect": "NoSchedule"}
    core.patch_node("n1", {"spec": {"taints": [taint]}})
    other = {"key": "j", "value": "v", "effect": "NoSchedule"}
    replaced = core.patch_node("n1", {"spec": {"taints": [other]}})  # no patch strategy
    assert [t.key for t in replaced.spec.taints] == ["j"]


def test_status_is_dropped_on_the_main_resource(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1", addresses=["10.0.0.5"]))
    address = {"type": "ExternalIP", "address": "2001:db8::5"}
    main = core.patch_node(
        "n1", {"status": {"addresses": [address]}, "metadata": {"labels": {"a": "b"}}}
    )
    assert main.metadata.labels == {"a": "b"}
    assert emulator.node("n1")["status"] == {
        "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}]
    }
    sub = core.patch_node_status(
        "n1", {"status": {"addresses": [address]}, "spec": {"podCIDRs": [V4]}}
    )
    assert [a.type for a in sub.status.addresses] == ["InternalIP", "ExternalIP"]  # merged by type
    assert emulator.node("n1")["spec"] == {}  # spec is dropped on /status
    emulator.add_node(node_object("n2", pod_cidrs=[V4]))
    kept = core.replace_node_status(
        "n2", node_object("n2", pod_cidrs=[V4B], addresses=["10.0.0.6"])
    )
    assert kept.spec.pod_cidrs == [V4]
    assert [a.address for a in kept.status.addresses] == ["10.0.0.6"]


# -- preconditions --------------------------------------------------------------------------------


def test_a_stale_resource_version_is_a_conflict_before_validation(
    emulator: Emulator, core: Any
) -> None:
    emulator.add_node(node_object("n1"))
    stale = emulator.resource_version
    core.patch_node("n1", {"metadata": {"labels": {"a": "b"}}})
    invalid_and_stale = {"metadata": {"resourceVersion": stale}, **_assign("foo")}
    with pytest.raises(ApiException) as conflict:
        core.patch_node("n1", invalid_and_stale)
    assert _status(conflict) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'Operation cannot be fulfilled on nodes "n1": {MODIFIED}',
        "reason": "Conflict",
        "details": {"name": "n1", "kind": "nodes"},
        "code": 409,
    }
    current = emulator.resource_version
    done = core.patch_node("n1", {"metadata": {"resourceVersion": current}, **_assign(V4)})
    assert done.spec.pod_cidrs == [V4]
    node = core.read_node("n1")
    node.metadata.resource_version = current
    with pytest.raises(ApiException) as replaced:
        core.replace_node("n1", node)
    assert _status(replaced)["reason"] == "Conflict"


def test_concurrent_writers_with_preconditions_never_both_win(
    emulator: Emulator, api_client: ApiClient
) -> None:
    emulator.add_node(node_object("n1"))
    read_at = emulator.resource_version
    outcomes: list[int] = []
    lock = threading.Lock()

    def writer(index: int) -> None:
        core: Any = CoreV1Api(api_client)
        body = {"metadata": {"resourceVersion": read_at}, **_assign(f"10.0.{index}.0/24")}
        try:
            core.patch_node("n1", body)
            code = 200
        except ApiException as exc:
            code = exc.status
        with lock:
            outcomes.append(code)

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [200] + [409] * 7
    assert emulator.resource_version == str(int(read_at) + 1)


def test_a_failed_json_patch_test_is_422_not_409(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    stale = emulator.resource_version
    core.patch_node("n1", {"metadata": {"labels": {"a": "b"}}})
    operations: list[dict[str, Any]] = [
        {"op": "test", "path": "/metadata/resourceVersion", "value": stale},
        {"op": "add", "path": "/spec/podCIDRs", "value": [V4]},
    ]
    with pytest.raises(ApiException) as failed:
        core.patch_node("n1", operations, _content_type="application/json-patch+json")
    assert _status(failed) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": REJECTED,
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }
    operations[0]["value"] = emulator.resource_version
    done = core.patch_node("n1", operations, _content_type="application/json-patch+json")
    assert done.spec.pod_cidrs == [V4]
    assert done.spec.pod_cidr == V4


# -- watches ---------------------------------------------------------------------------------------


def test_watch_from_a_resource_version_then_410_after_compaction(
    emulator: Emulator, core: Any
) -> None:
    emulator.add_node(node_object("n0"))
    start = core.list_node().metadata.resource_version
    emulator.add_node(node_object("n1"))
    core.patch_node("n1", _assign(V4))
    core.delete_node("n1")
    stream = Watch().stream(core.list_node, resource_version=start, timeout_seconds=1)
    seen = [(event["type"], event["object"].metadata.name) for event in stream]
    assert seen == [("ADDED", "n1"), ("MODIFIED", "n1"), ("DELETED", "n1")]
    emulator.compact()
    with pytest.raises(ApiException) as expired:
        list(Watch().stream(core.list_node, resource_version=start, timeout_seconds=1))
    assert expired.value.status == 410
    assert (
        expired.value.reason
        == f"Expired: too old resource version: {start} ({emulator.resource_version})"
    )


def test_watch_streams_live_changes_and_filters_by_name(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    emulator.add_node(node_object("n2"))

    def change() -> None:
        time.sleep(0.3)
        emulator.add_node(node_object("n3"))
        core.patch_node("n2", _assign(V4))

    changer = threading.Thread(target=change)
    changer.start()
    stream = Watch().stream(core.list_node, field_selector="metadata.name=n2", timeout_seconds=2)
    seen = [(event["type"], event["object"].spec.pod_cidrs) for event in stream]
    changer.join()
    assert seen == [("ADDED", None), ("MODIFIED", [V4])]
    assert [n.metadata.name for n in core.list_node(field_selector="metadata.name!=n2").items] == [
        "n1",
        "n3",
    ]
    assert [n.metadata.name for n in core.list_node(label_selector="missing").items] == []
    with pytest.raises(ApiException) as unknown:
        core.list_node(field_selector="spec.foo=1")
    assert _status(unknown)["message"] == "field label not supported: spec.foo"


# -- events and leases ----------------------------------------------------------------------------


def test_events_are_created_and_listed(emulator: Emulator, core: Any) -> None:
    event = {
        "metadata": {"generateName": "n1."},
        "involvedObject": {"kind": "Node", "name": "n1"},
        "reason": "CIDRNotAvailable",
        "message": "pool 10.0.0.0/24 has no free /24 left",
        "type": "Warning",
    }
    created = core.create_namespaced_event("default", event)
    assert re.fullmatch(r"n1\.[bcdfghjklmnpqrstvwxz2456789]{5}", created.metadata.name)
    assert created.metadata.namespace == "default"
    core.create_namespaced_event("kube-system", {**event, "reason": "CIDRAssignmentFailed"})
    assert [e.reason for e in core.list_namespaced_event("default").items] == ["CIDRNotAvailable"]
    assert len(core.list_event_for_all_namespaces().items) == 2
    assert [e["reason"] for e in emulator.events("kube-system")] == ["CIDRAssignmentFailed"]
    with pytest.raises(ApiException) as elsewhere:
        core.create_namespaced_event(
            "default", {**event, "metadata": {"name": "x", "namespace": "other"}}
        )
    assert _status(elsewhere)["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


def test_leases_refuse_a_stale_update(emulator: Emulator, api_client: ApiClient) -> None:
    leases: Any = CoordinationV1Api(api_client)
    body = client.V1Lease(
        metadata=client.V1ObjectMeta(name="ipv6alloc"),
        spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15),
    )
    created = leases.create_namespaced_lease("kube-system", body)
    first = leases.read_namespaced_lease("ipv6alloc", "kube-system")
    first.spec.holder_identity = "b"
    leases.replace_namespaced_lease("ipv6alloc", "kube-system", first)
    created.spec.holder_identity = "c"
    with pytest.raises(ApiException) as stale:
        leases.replace_namespaced_lease("ipv6alloc", "kube-system", created)
    body_json = _status(stale)
    assert body_json["message"] == (
        f'Operation cannot be fulfilled on leases.coordination.k8s.io "ipv6alloc": {MODIFIED}'
    )
    assert body_json["details"] == {
        "name": "ipv6alloc",
        "group": "coordination.k8s.io",
        "kind": "leases",
    }
    assert [lease["spec"]["holderIdentity"] for lease in emulator.leases()] == ["b"]
    with pytest.raises(ApiException) as missing:
        leases.read_namespaced_lease("other", "kube-system")
    assert _status(missing)["message"] == 'leases.coordination.k8s.io "other" not found'


def test_leader_election_with_the_official_client(
    emulator: Emulator, api_client: ApiClient
) -> None:
    """Two electors: one wins; when it stops renewing, the other takes over."""
    leaders: list[str] = []
    stop_first = threading.Event()
    second_leads = threading.Event()

    def elector(identity: str, on_lead: Any) -> Any:
        lock = LeaseLock("ipv6alloc", "kube-system", identity)
        lock.api_instance = CoordinationV1Api(api_client)  # this emulator, not the default
        settings = ElectionConfig(lock, 3, 2, 1, on_lead, lambda: None)
        return LeaderElection(settings)

    def first_leads() -> None:
        leaders.append("first")
        stop_first.wait(10)
        raise RuntimeError("the first elector stops renewing")  # the elector's way to stop

    def then_second() -> None:
        leaders.append("second")
        second_leads.set()
        raise RuntimeError("the second elector stops too")

    first = threading.Thread(target=elector("first", first_leads).run, daemon=True)
    first.start()
    deadline = time.monotonic() + 5
    while not emulator.leases() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = threading.Thread(target=elector("second", then_second).run, daemon=True)
    second.start()
    time.sleep(1.5)
    assert leaders == ["first"]
    assert emulator.leases()[0]["spec"]["holderIdentity"] == "first"
    stop_first.set()
    assert second_leads.wait(15), "the second elector never took over"
    first.join(5)
    second.join(5)
    assert leaders == ["first", "second"]
    [lease] = emulator.leases()
    spec = lease["spec"]
    assert spec["holderIdentity"] == "second"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", spec["renewTime"])


# -- faults ----------------------------------------------------------------------------------------


def test_conflict_fault_then_normal_service(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    emulator.inject("conflict", 2)
    for _ in range(2):
        with pytest.raises(ApiException) as conflict:
            core.patch_node("n1", _assign(V4))
        assert (
            _status(conflict)["message"]
            == f'Operation cannot be fulfilled on nodes "n1": {MODIFIED}'
        )
    assert emulator.node("n1")["spec"] == {}
    assert core.patch_node("n1", _assign(V4)).spec.pod_cidrs == [V4]
    assert emulator.pending_faults == []
    assert [r.fault for r in emulator.requests] == ["conflict", "conflict", None]


def test_throttle_fault_says_when_to_retry(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    emulator.inject("throttle", retry_after=7)
    with pytest.raises(ApiException) as throttled:
        core.patch_node("n1", _assign(V4))
    assert throttled.value.status == 429
    assert (throttled.value.headers or {})["Retry-After"] == "7"
    assert throttled.value.body == "Too many requests, please try again later.\n"
    # urllib3 retries a throttled GET by itself, after the Retry-After it was given
    emulator.inject("throttle", verb="get", retry_after=1)
    started = time.monotonic()
    assert core.read_node("n1").metadata.name == "n1"
    assert time.monotonic() - started >= 1
    assert [r.status for r in emulator.requests[-2:]] == [429, 200]


def test_error_fault_only_hits_its_name_and_verb(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    emulator.add_node(node_object("n2"))
    emulator.inject("error", verb="patch", name="n2")
    assert core.patch_node("n1", _assign(V4)).spec.pod_cidrs == [V4]
    core.read_node("n2")
    with pytest.raises(ApiException) as failed:
        core.patch_node("n2", _assign(V4B))
    body = _status(failed)
    assert (body["code"], body["reason"]) == (500, "InternalError")
    assert body["message"].startswith("Internal error occurred: ")
    assert emulator.node("n2")["spec"] == {}


def test_timeout_fault_holds_until_the_client_gives_up(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    emulator.inject("timeout")
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        core.patch_node("n1", _assign(V4), _request_timeout=0.5)
    assert 0.4 < time.monotonic() - started < 5
    assert emulator.node("n1")["spec"] == {}
    deadline = time.monotonic() + 5
    while not emulator.requests and time.monotonic() < deadline:
        time.sleep(0.02)  # the record is written when the server notices the client left
    assert emulator.requests[-1].status is None
    assert emulator.requests[-1].fault == "timeout"
    assert core.patch_node("n1", _assign(V4)).spec.pod_cidrs == [V4]


def test_timeout_fault_with_a_hold_drops_the_connection(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    emulator.inject("timeout", hold=0.2)
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.patch_node("n1", _assign(V4), _request_timeout=5)
    assert 0.2 <= time.monotonic() - started < 4
    assert emulator.node("n1")["spec"] == {}


def test_lose_fault_stores_the_write_and_drops_the_answer(emulator: Emulator, core: Any) -> None:
    emulator.add_node(node_object("n1"))
    emulator.inject("lose")
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.patch_node("n1", _assign(V4, V6))
    assert emulator.node("n1")["spec"] == {"podCIDR": V4, "podCIDRs": [V4, V6]}
    assert emulator.requests[-1].status is None
    assert emulator.requests[-1].fault == "lose"
    # a retry that writes the same prefixes again is a no-op, as a real server answers it
    stored_at = emulator.resource_version
    assert core.patch_node("n1", _assign(V4, V6)).spec.pod_cidrs == [V4, V6]
    assert emulator.resource_version == stored_at


def test_inject_checks_its_arguments(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault 'boom'"):
        emulator.inject("boom")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown verb"):
        emulator.inject("error", verb="PATCH")
    with pytest.raises(ValueError, match="unknown resource"):
        emulator.inject("error", resource="pods")
    with pytest.raises(ValueError, match="at least 1"):
        emulator.inject("error", 0)
    emulator.inject("error", 3, resource="*", verb="*")
    assert [(f.fault, f.remaining) for f in emulator.pending_faults] == [("error", 3)]
    emulator.clear_faults()
    assert emulator.pending_faults == []


def test_life_cycle_and_repr() -> None:
    with pytest.raises(ValueError, match=r"version must look like 'v1\.36\.0', not '1\.36'"):
        Emulator(version="1.36")
    with Emulator(version="v1.33.2-gke.100") as older:
        assert older.url.startswith("http://127.0.0.1:")
    emulator = Emulator()
    assert repr(emulator) == "Emulator(stopped, 0 nodes, resourceVersion 0)"
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.url
    emulator.add_node(node_object("n1"))
    with emulator:
        assert emulator.running
        assert repr(emulator) == f"Emulator({emulator.url}, 1 node, resourceVersion 1)"
        with pytest.raises(RuntimeError, match="already running"):
            emulator.start()
    assert repr(emulator) == "Emulator(stopped, 1 node, resourceVersion 1)"
    emulator.stop()  # idempotent
    with emulator:  # restartable, state kept
        assert emulator.nodes()[0]["metadata"]["name"] == "n1"
