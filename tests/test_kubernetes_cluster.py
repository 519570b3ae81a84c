"""The Kubernetes adapter against the emulator over loopback: the real official client, kubectl,
the `apply` and `run` commands, leader election, and the RBAC role of docs/deploy."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from kubernetes import client as k8s

from ipv6alloc import NodeAllocator
from ipv6alloc.kubernetes import Controller, Reconciler, apply, plan
from ipv6alloc.kubernetes._apply import OfficialClient
from ipv6alloc.kubernetes._connect import connect
from ipv6alloc.testing import Emulator, node_object

#: Loopback sockets left open fail the test that left them (see conftest).
pytestmark = pytest.mark.usefixtures("collect_garbage")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
ANNOTATION = "ipv6alloc.io/node-subnets"
CLUSTER = ["--cluster-cidr", "10.0.0.0/16,fd00::/48", "--node-cidr-mask-size-ipv6", "80"]
KUBECTL = shutil.which("kubectl")


def provider_node(name: str, subnet: str | None, address: str | None = None) -> dict[str, Any]:
    """A node whose provider subnet is in the annotation; its InternalIP is the subnet's."""
    annotations = {ANNOTATION: subnet} if subnet else None
    if address is None and subnet:
        address = subnet.split("/", 1)[0]
    return node_object(name, addresses=[address] if address else [], annotations=annotations)


#: Every kind of provider subnet: a /64, a /96 (GCP), a /121, a /128 only (DHCPv6), none.
MIXED = [
    ("n64", "2001:db8:0:1::5/64"),
    ("n96", "2001:db8:0:2::a:5/96"),
    ("n121", "2001:db8:0:3::105/121"),
    ("n128", "2001:db8:0:4::5/128"),
]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator() as emu:
        emu.write_kubeconfig(tmp_path / "kubeconfig")
        yield emu


def api_of(emulator: Emulator, tmp_path: Path) -> Any:
    return k8s.CoreV1Api(connect(str(tmp_path / "kubeconfig")))


def allocator() -> NodeAllocator:
    return NodeAllocator(["10.0.0.0/16", "fd00::/48"], node_mask={4: 24, 6: 80})


def held(emulator: Emulator) -> dict[str, list[str]]:
    nodes: list[Any] = emulator.nodes()
    return {n["metadata"]["name"]: n["spec"].get("podCIDRs", []) for n in nodes}


def versions(emulator: Emulator) -> dict[str, str]:
    nodes: list[Any] = emulator.nodes()
    return {n["metadata"]["name"]: n["metadata"]["resourceVersion"] for n in nodes}


def assert_disjoint(pod_cidrs: dict[str, list[str]]) -> None:
    nets = [(name, ipaddress.ip_network(p)) for name, ps in pod_cidrs.items() for p in ps]
    for i, (a, x) in enumerate(nets):
        for b, y in nets[i + 1 :]:
            assert x.version != y.version or not x.overlaps(y), (a, x, b, y)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def patches(emulator: Emulator) -> list[str]:
    return [r.path for r in emulator.requests if r.method == "PATCH"]


# -- apply with the official client --------------------------------------------------------------


def test_a_fresh_cluster_of_every_subnet_kind_gets_its_prefixes(
    emulator: Emulator, tmp_path: Path
) -> None:
    for name, subnet in MIXED:
        emulator.add_node(provider_node(name, subnet))
    emulator.add_node(provider_node("bare", None, "10.1.0.9"))  # IPv4 only: IPv6 falls back
    api, alloc = api_of(emulator, tmp_path), allocator()
    result = apply(plan(api.list_node().items, alloc), api, alloc)
    assert result.ok
    pods = held(emulator)
    assert all(len(p) == 2 for p in pods.values()), pods
    for name, subnet in MIXED[:3]:
        assert ipaddress.ip_network(pods[name][1]).subnet_of(
            ipaddress.ip_interface(subnet).network  # type: ignore[arg-type]
        )
    for name in ("n128", "bare"):  # no usable subnet: the IPv6 cluster pool
        assert ipaddress.ip_network(pods[name][1]).subnet_of(ipaddress.ip_network("fd00::/48"))  # type: ignore[arg-type]
    assert_disjoint(pods)
    assert [e["reason"] for e in emulator.events()].count("PodCIDRAssigned") == len(pods)
    # What the allocator holds is what the cluster holds.
    assert {n: sorted(map(str, a.pod_cidrs)) for n in pods if (a := alloc.get(n))} == {
        n: sorted(p) for n, p in pods.items()
    }


def test_a_restart_keeps_every_prefix_and_assigns_only_new_nodes(
    emulator: Emulator, tmp_path: Path
) -> None:
    for name, subnet in MIXED[:2]:
        emulator.add_node(provider_node(name, subnet))
    api = api_of(emulator, tmp_path)
    first = allocator()
    apply(plan(api.list_node().items, first), api, first)
    before, rvs = held(emulator), versions(emulator)
    emulator.add_node(provider_node("late", "2001:db8:0:9::5/64"))
    restarted = allocator()  # a new process: nothing in memory
    result = apply(plan(api.list_node().items, restarted), api, restarted)
    assert {o.name: o.outcome for o in result.outcomes} == {
        "n64": "unchanged",
        "n96": "unchanged",
        "late": "written",
    }
    after = held(emulator)
    assert {n: after[n] for n in before} == before
    assert {n: versions(emulator)[n] for n in rvs} == rvs  # not written at all
    assert_disjoint(after)


def test_applying_twice_writes_nothing_the_second_time(emulator: Emulator, tmp_path: Path) -> None:
    for name, subnet in MIXED:
        emulator.add_node(provider_node(name, subnet))
    api, alloc = api_of(emulator, tmp_path), allocator()
    apply(plan(api.list_node().items, alloc), api, alloc)
    rvs, writes = versions(emulator), len(patches(emulator))
    second = apply(plan(api.list_node().items, alloc), api, alloc)
    assert {o.outcome for o in second.outcomes} == {"unchanged"}
    assert versions(emulator) == rvs
    assert len(patches(emulator)) == writes


@pytest.mark.parametrize("fault", ["conflict", "throttle", "error", "lose", "timeout"])
def test_every_fault_on_a_write_ends_with_the_planned_prefixes(
    emulator: Emulator, tmp_path: Path, fault: str
) -> None:
    emulator.add_node(provider_node("w", "2001:db8:0:1::5/64"))
    api, alloc = api_of(emulator, tmp_path), allocator()
    result = plan(api.list_node().items, alloc)
    emulator.inject(fault, 2, verb="patch", resource="nodes", retry_after=1, hold=1.0)  # type: ignore[arg-type]
    writer = OfficialClient(api, request_timeout=0.5)
    applied = apply(result, writer, alloc, sleep=lambda s: None)
    (outcome,) = applied.outcomes
    assert outcome.outcome == "written", outcome
    assert held(emulator)["w"] == list(result.nodes[0].pod_cidrs)
    assert len(patches(emulator)) <= 3  # a lost write is found, not repeated


def test_a_node_written_by_another_client_meanwhile_is_adopted(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_node(provider_node("w", "2001:db8:0:1::5/64"))
    api, alloc = api_of(emulator, tmp_path), allocator()
    result = plan(api.list_node().items, alloc)
    other = {"spec": {"podCIDR": "10.0.77.0/24", "podCIDRs": ["10.0.77.0/24", "fd00::/80"]}}
    api.patch_node("w", other, _content_type="application/merge-patch+json")
    (outcome,) = apply(result, api, alloc, sleep=lambda s: None).outcomes
    assert outcome.outcome == "adopted"
    assert sorted(str(p) for p in alloc.get("w").pod_cidrs) == ["10.0.77.0/24", "fd00::/80"]  # type: ignore[union-attr]


# -- the controller ------------------------------------------------------------------------------


@contextlib.contextmanager
def running_controller(api: Any, alloc: NodeAllocator) -> Iterator[Controller]:
    """A controller in a thread for the ``with`` block; stopped and joined after it.

    Joined, so that its connections close within the test, not at some later collection.
    """
    stop = threading.Event()
    controller = Controller(api, Reconciler(alloc, api), watch_timeout=2, backoff=0.2)
    thread = threading.Thread(target=controller.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert controller.synced.wait(10)
        yield controller
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the controller did not stop"


def test_the_controller_assigns_joining_nodes_and_releases_deleted_ones(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_node(provider_node("a", "2001:db8:0:1::5/64"))
    api, alloc = api_of(emulator, tmp_path), allocator()
    with running_controller(api, alloc):
        assert wait_for(lambda: bool(held(emulator)["a"]))
        # One node leaves while another joins.
        emulator.delete_node("a")
        emulator.add_node(provider_node("b", "2001:db8:0:2::5/64"))
        assert wait_for(lambda: bool(held(emulator).get("b")))
        assert wait_for(lambda: "a" not in alloc)
        assert alloc.get("b") is not None


def test_the_controller_lists_again_when_its_watch_breaks(
    emulator: Emulator, tmp_path: Path
) -> None:
    emulator.add_node(provider_node("a", "2001:db8:0:1::5/64"))
    api, alloc = api_of(emulator, tmp_path), allocator()
    with running_controller(api, alloc) as controller:
        assert wait_for(lambda: bool(held(emulator)["a"]))
        controller.synced.clear()
        emulator.inject("error", 1, verb="watch", resource="nodes")
        emulator.compact()  # and the history is gone: 410 on the next watch
        emulator.add_node(provider_node("b", "2001:db8:0:2::5/64"))
        assert wait_for(lambda: bool(held(emulator).get("b")))
        assert controller.synced.wait(10)  # it listed again
        assert_disjoint(held(emulator))


# -- the commands, kubectl, and two replicas -----------------------------------------------------


def ipv6alloc(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipv6alloc", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_apply_command_writes_and_then_has_nothing_to_write(
    emulator: Emulator, tmp_path: Path
) -> None:
    for name, subnet in MIXED:
        emulator.add_node(provider_node(name, subnet))
    kubeconfig = str(tmp_path / "kubeconfig")
    dry = ipv6alloc("apply", "--dry-run", "--kubeconfig", kubeconfig, *CLUSTER, "-o", "json")
    assert dry.returncode == 0, dry.stderr
    assert not patches(emulator)
    done = ipv6alloc("apply", "--kubeconfig", kubeconfig, *CLUSTER, "-o", "json")
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout)
    assert outcomes["summary"] == {"written": len(MIXED)}
    assert held(emulator) == {o["name"]: o["podCIDRs"] for o in outcomes["nodes"]}
    rvs = versions(emulator)
    again = ipv6alloc("apply", "--kubeconfig", kubeconfig, *CLUSTER)
    assert again.returncode == 0, again.stderr
    assert versions(emulator) == rvs


def test_the_apply_command_without_a_cluster_is_one_line_and_status_2(tmp_path: Path) -> None:
    out = ipv6alloc("apply", "--kubeconfig", str(tmp_path / "missing"), *CLUSTER)
    assert out.returncode == 2
    assert out.stderr.startswith("ipv6alloc apply: error:")
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is installed by .ci/run")
def test_kubectl_creates_nodes_sees_the_prefixes_and_cannot_change_them(
    emulator: Emulator, tmp_path: Path
) -> None:
    kubeconfig = str(tmp_path / "kubeconfig")
    nodes = {"apiVersion": "v1", "kind": "List", "items": [provider_node(n, s) for n, s in MIXED]}
    (tmp_path / "nodes.json").write_text(json.dumps(nodes))

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KUBECTL or "kubectl", "--kubeconfig", kubeconfig, "--request-timeout=20s", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    created = kubectl("create", "-f", str(tmp_path / "nodes.json"), "--validate=false")
    assert created.returncode == 0, created.stderr
    done = ipv6alloc("apply", "--kubeconfig", kubeconfig, *CLUSTER)
    assert done.returncode == 0, done.stderr
    listed = kubectl("get", "nodes", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    shown = {
        n["metadata"]["name"]: n["spec"]["podCIDRs"] for n in json.loads(listed.stdout)["items"]
    }
    assert shown == held(emulator)
    assert all(len(p) == 2 for p in shown.values())
    change = json.dumps({"spec": {"podCIDR": "10.9.0.0/24", "podCIDRs": ["10.9.0.0/24"]}})
    refused = kubectl("patch", "node", "n64", "--type", "merge", "-p", change)
    assert refused.returncode != 0
    # kubectl prints the upstream message (pkg/apis/core/validation/validation.go).
    assert (
        'The Node "n64" is invalid: spec.podCIDRs: Forbidden: node updates may not change '
        'podCIDR except from "" to valid'
    ) in refused.stderr


def start_replica(kubeconfig: str, identity: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ipv6alloc",
            "run",
            "--kubeconfig",
            kubeconfig,
            *CLUSTER,
            "--watch-timeout",
            "2",
            "--leader-elect-lease-duration",
            "3",
            "--leader-elect-renew-deadline",
            "2",
            "--leader-elect-retry-period",
            "1",
            "--leader-elect-resource-namespace",
            "default",
            "--leader-elect-identity",
            identity,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_two_replicas_one_writes_and_the_standby_finishes_when_the_leader_dies(
    emulator: Emulator, tmp_path: Path
) -> None:
    kubeconfig = str(tmp_path / "kubeconfig")
    for i in range(3):
        emulator.add_node(provider_node(f"early-{i}", f"2001:db8:0:{i + 1}::5/64"))
    replicas = {name: start_replica(kubeconfig, name) for name in ("one", "two")}
    try:
        assert wait_for(lambda: all(held(emulator).values()), 30)

        def leader() -> str | None:
            leases: list[Any] = emulator.leases("default")
            return leases[0]["spec"].get("holderIdentity") if leases else None

        first = leader()
        assert first in replicas
        replicas[first].send_signal(signal.SIGKILL)  # the leader dies mid-way
        replicas[first].wait(10)
        for i in range(3, 6):
            emulator.add_node(provider_node(f"late-{i}", f"2001:db8:0:{i + 1}::5/64"))
        assert wait_for(lambda: all(held(emulator).values()), 40)
        standby = next(name for name in replicas if name != first)
        assert leader() == standby
        assert_disjoint(held(emulator))
    finally:
        for process in replicas.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()


# -- the RBAC role of docs/deploy ----------------------------------------------------------------


#: (method, path prefix) -> (API group, resource, verb), for the paths the adapter calls.
def rbac_request(method: str, path: str) -> tuple[str, str, str] | None:
    route, _, query = path.partition("?")
    parts = [p for p in route.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return None  # discovery
    if rest[:1] == ["namespaces"] and len(rest) >= 3:
        rest = rest[2:]
    if not rest:
        return None
    resource, named = rest[0], len(rest) > 1
    if method == "GET":
        watching = any(p.lower() in ("watch=true", "watch=1") for p in query.split("&"))
        verb = "watch" if watching else "get" if named else "list"
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[method]
    return group, resource, verb


def role_allows(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_rbac_role_covers_exactly_the_calls_made(emulator: Emulator, tmp_path: Path) -> None:
    documents = list(yaml.safe_load_all((ROOT / "docs/deploy/rbac.yaml").read_text()))
    allowed: set[tuple[str, str, str]] = set()
    for doc in documents:
        if doc["kind"] in ("ClusterRole", "Role"):
            allowed |= role_allows(doc["rules"])
    kubeconfig = str(tmp_path / "kubeconfig")
    emulator.add_node(provider_node("a", "2001:db8:0:1::5/64"))
    emulator.inject("conflict", 1, verb="patch", resource="nodes")  # so a node is read back
    replica = start_replica(kubeconfig, "solo")
    try:
        assert wait_for(lambda: bool(held(emulator)["a"]), 30)
        emulator.add_node(provider_node("b", "2001:db8:0:2::5/64"))
        assert wait_for(lambda: bool(held(emulator).get("b")), 30)
        emulator.delete_node("b")
        time.sleep(3)  # a renewal of the lease, and a watch request completed (logged at its end)
    finally:
        replica.send_signal(signal.SIGTERM)
        replica.wait(15)
    made = {call for r in emulator.requests if (call := rbac_request(r.method, r.path))}
    assert made <= allowed, made - allowed
    # And nothing more: every permission is used (nodes get by the read back after the
    # conflict, leases create by the first election on a fresh cluster).
    assert allowed <= made, allowed - made


def test_the_deployment_runs_two_replicas_of_the_run_command() -> None:
    deployment = yaml.safe_load((ROOT / "docs/deploy/deployment.yaml").read_text())
    assert deployment["spec"]["replicas"] == 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"][0] == "run"
    flags = {a.split("=", 1)[0] for a in container["args"][1:]}
    assert {"--cluster-cidr", "--leader-elect-resource-namespace"} <= flags
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "ipv6alloc"
    # Every flag is one `ipv6alloc run` knows.
    help_text = subprocess.run(
        [sys.executable, "-m", "ipv6alloc", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    assert all(flag in help_text for flag in flags), flags
