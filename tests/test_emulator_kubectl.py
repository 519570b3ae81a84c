"""The emulator against kubectl, and the ``python -m ipv6alloc.testing serve`` command.

kubectl is the one on ``PATH`` (or ``IPV6ALLOC_KUBECTL``): here a version-dispatching wrapper,
on CI Debian's ``kubernetes-client`` (kubectl 1.20), which ``.ci/run`` installs. The tests that
need it are skipped without it. Expected messages are kubectl's and kube-apiserver's, written out
literally.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ipv6alloc.testing import Emulator, node_object

#: Loopback sockets left open fail the test that left them (see conftest).
pytestmark = pytest.mark.usefixtures("collect_garbage")

if TYPE_CHECKING:
    from collections.abc import Iterator

KUBECTL = os.environ.get("IPV6ALLOC_KUBECTL") or shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed (.ci/run installs kubernetes-client)"
)
FORBIDDEN = (
    'The Node "n1" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR '
    'except from "" to valid\n'
)
CONFLICT = (
    'Error from server (Conflict): Operation cannot be fulfilled on nodes "n1": the object has '
    "been modified; please apply your changes to the latest version and try again\n"
)
SERVING = re.compile(r"serving (http://127\.0\.0\.1:(\d+)) kubeconfig (.+)\n")


class Kubectl:
    """kubectl bound to one kubeconfig, with its caches and home in a temporary directory."""

    def __init__(self, kubeconfig: Path, home: Path) -> None:
        self.kubeconfig = kubeconfig
        self.home = home

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        command = [
            KUBECTL,
            "--kubeconfig",
            str(self.kubeconfig),
            "--cache-dir",
            str(self.home / "cache"),
            "--request-timeout",
            "10s",
            *args,
        ]
        environment = {**os.environ, "HOME": str(self.home)}
        return subprocess.run(
            command, capture_output=True, text=True, timeout=60, env=environment, check=False
        )


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def kubectl(emulator: Emulator, tmp_path: Path) -> Kubectl:
    return Kubectl(emulator.write_kubeconfig(tmp_path / "kubeconfig"), tmp_path)


def _nodes_file(path: Path, *names: str) -> Path:
    path.write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [node_object(n) for n in names]})
    )
    return path


@needs_kubectl
def test_kubectl_creates_and_prints_nodes(
    emulator: Emulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    nodes = _nodes_file(tmp_path / "nodes.json", "n1", "n2")
    created = kubectl("create", "-f", str(nodes), "--validate=false")
    assert created.returncode == 0, created.stderr
    assert created.stdout == "node/n1 created\nnode/n2 created\n"
    assert [n["metadata"]["name"] for n in emulator.nodes()] == ["n1", "n2"]
    printed = kubectl("get", "nodes", "-o", "json")
    assert printed.returncode == 0, printed.stderr
    listed = json.loads(printed.stdout)
    assert listed["kind"] == "List"
    assert [(item["kind"], item["metadata"]["name"]) for item in listed["items"]] == [
        ("Node", "n1"),
        ("Node", "n2"),
    ]
    assert listed["items"][0]["metadata"]["uid"] == emulator.node("n1")["metadata"]["uid"]
    missing = kubectl("get", "node", "n3")
    assert missing.returncode == 1
    assert missing.stderr == 'Error from server (NotFound): nodes "n3" not found\n'
    openapi = [r.status for r in emulator.requests if r.path.startswith("/openapi")]
    assert all(status == 404 for status in openapi)


@needs_kubectl
@pytest.mark.parametrize(
    ("patch_type", "content_type"),
    [
        ("merge", "application/merge-patch+json"),
        ("strategic", "application/strategic-merge-patch+json"),
    ],
)
def test_kubectl_patch_works_once_then_prints_the_upstream_refusal(
    emulator: Emulator, kubectl: Kubectl, patch_type: str, content_type: str
) -> None:
    emulator.add_node(node_object("n1"))
    first = '{"spec":{"podCIDRs":["10.0.0.0/24"], "podCIDR": "10.0.0.0/24"}}'
    done = kubectl("patch", "node", "n1", "--type", patch_type, "-p", first)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "node/n1 patched\n"
    assert emulator.node("n1")["spec"] == {"podCIDR": "10.0.0.0/24", "podCIDRs": ["10.0.0.0/24"]}
    second = '{"spec":{"podCIDRs":["10.1.0.0/24"], "podCIDR": "10.1.0.0/24"}}'
    refused = kubectl("patch", "node", "n1", "--type", patch_type, "-p", second)
    assert refused.returncode == 1
    assert refused.stderr == FORBIDDEN
    patches = [r.content_type for r in emulator.requests if r.method == "PATCH"]
    assert patches == [content_type] * 2


@needs_kubectl
def test_kubectl_prints_the_invalid_cidr_cause(emulator: Emulator, kubectl: Kubectl) -> None:
    emulator.add_node(node_object("n1"))
    refused = kubectl("patch", "node", "n1", "-p", '{"spec":{"podCIDRs":["foo"],"podCIDR":"foo"}}')
    assert refused.returncode == 1
    assert refused.stderr == (
        'The Node "n1" is invalid: spec.podCIDRs[0]: Invalid value: "foo": must be a valid CIDR '
        "value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n"
    )


# -- the serve command -------------------------------------------------------------------------


class Served:
    """A ``serve`` subprocess and what it printed."""

    def __init__(self, process: subprocess.Popen[str], line: str) -> None:
        self.process = process
        match = SERVING.fullmatch(line)
        assert match, f"unexpected first line {line!r}"
        self.url, self.port, self.kubeconfig = match[1], int(match[2]), Path(match[3])

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=10)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()
        for stream in (served.process.stdout, served.process.stderr):
            if stream:
                stream.close()


def _serve(started: list[Served], *args: str) -> Served:
    process = subprocess.Popen(
        [sys.executable, "-m", "ipv6alloc.testing", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    assert ready, "serve printed nothing in 30 s"
    served = Served(process, process.stdout.readline())
    started.append(served)
    return served


def _patch(port: int, name: str, body: bytes) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "PATCH", f"/api/v1/nodes/{name}", body, {"Content-Type": "application/merge-patch+json"}
        )
        return connection.getresponse().status
    except http.client.RemoteDisconnected:
        return None
    finally:
        connection.close()


def test_serve_injects_the_patch_faults_in_order_and_stops_on_sigterm(
    serve: list[Served], tmp_path: Path
) -> None:
    nodes = _nodes_file(tmp_path / "nodes.json", "n1")
    served = _serve(
        serve,
        "--nodes",
        str(nodes),
        "--conflict-patches",
        "1",
        "--fail-patches",
        "1",
        "--lose-patches",
        "1",
    )
    assert served.kubeconfig.exists()
    config = json.loads(served.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == served.url
    statuses = [
        _patch(served.port, "n1", b'{"metadata":{"labels":{"a":"%d"}}}' % i) for i in range(4)
    ]
    assert statuses == [409, 500, None, 200]  # the third was stored, its answer lost
    assert served.stop() == 0
    assert not served.kubeconfig.exists()  # the temporary kubeconfig is removed


@needs_kubectl
def test_kubectl_works_against_the_served_kubeconfig(serve: list[Served], tmp_path: Path) -> None:
    kubeconfig = tmp_path / "given" / "kubeconfig"
    served = _serve(serve, "--kubeconfig", str(kubeconfig), "--conflict-patches", "1")
    assert served.kubeconfig == kubeconfig
    kubectl = Kubectl(kubeconfig, tmp_path)
    created = kubectl(
        "create", "-f", str(_nodes_file(tmp_path / "n.json", "n1")), "--validate=false"
    )
    assert created.returncode == 0, created.stderr
    patch = '{"spec":{"podCIDRs":["10.0.0.0/24"],"podCIDR":"10.0.0.0/24"}}'
    first = kubectl("patch", "node", "n1", "-p", patch)
    assert (first.returncode, first.stderr) == (1, CONFLICT)
    second = kubectl("patch", "node", "n1", "-p", patch)
    assert second.returncode == 0, second.stderr
    printed = json.loads(kubectl("get", "node", "n1", "-o", "json").stdout)
    assert printed["spec"]["podCIDRs"] == ["10.0.0.0/24"]
    assert served.stop() == 0
    assert kubeconfig.exists()  # a kubeconfig asked for is left in place


def test_serve_refuses_a_bad_nodes_file(tmp_path: Path) -> None:
    bad = tmp_path / "nodes.json"
    bad.write_text(json.dumps({"kind": "List", "items": [node_object("n1", pod_cidrs=["foo"])]}))
    for args, message in (
        (["--nodes", str(bad)], 'item 0: Node "n1" is invalid: spec.podCIDRs[0]: Invalid value'),
        (["--nodes", str(tmp_path / "missing.json")], "cannot read"),
        (["--fail-patches", "-1"], "must not be negative"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "ipv6alloc.testing", "serve", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2
        assert message in done.stderr
    lax = subprocess.Popen(
        [sys.executable, "-m", "ipv6alloc.testing", "serve", "--lax-cidrs", "--nodes", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert lax.stdin is not None
    assert lax.stdout is not None
    lax.stdin.write(json.dumps(node_object("n1", pod_cidrs=["10.0.0.1/24"])))
    lax.stdin.close()
    line = lax.stdout.readline()
    assert SERVING.fullmatch(line), line
    lax.send_signal(signal.SIGINT)
    assert lax.wait(timeout=10) == 0
    lax.stdout.close()
