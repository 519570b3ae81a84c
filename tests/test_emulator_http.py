"""The emulator's HTTP surface with a bare HTTP client: discovery, content types, garbage.

Whatever arrives, the answer is a ``Status`` (or the documented plain text of a throttle) and
the server keeps serving.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipv6alloc.testing import Emulator, node_object

#: Loopback sockets left open fail the test that left them (see conftest).
pytestmark = pytest.mark.usefixtures("collect_garbage")

if TYPE_CHECKING:
    from collections.abc import Iterator

NOT_FOUND = "the server could not find the requested resource"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        running.add_node(node_object("n1"))
        yield running


def _request(
    emulator: Emulator,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    host, port = emulator.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _json(data: bytes) -> Any:
    return json.loads(data)


def _alive(emulator: Emulator) -> None:
    status, _, data = _request(emulator, "GET", "/api/v1/nodes/n1")
    assert status == 200, data


def test_discovery_documents(emulator: Emulator) -> None:
    status, headers, data = _request(emulator, "GET", "/version")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    version = _json(data)
    assert (version["major"], version["minor"], version["gitVersion"]) == ("1", "36", "v1.36.0")
    assert _json(_request(emulator, "GET", "/api")[2])["versions"] == ["v1"]
    resources = _json(_request(emulator, "GET", "/api/v1")[2])["resources"]
    nodes = next(r for r in resources if r["name"] == "nodes")
    assert (nodes["kind"], nodes["namespaced"], nodes["singularName"]) == ("Node", False, "node")
    assert {"get", "list", "watch", "create", "update", "patch", "delete"} <= set(nodes["verbs"])
    groups = _json(_request(emulator, "GET", "/apis")[2])
    assert groups["kind"] == "APIGroupList"
    assert [g["name"] for g in groups["groups"]] == ["coordination.k8s.io"]
    leases = _json(_request(emulator, "GET", "/apis/coordination.k8s.io/v1")[2])["resources"]
    assert [(r["name"], r["namespaced"]) for r in leases] == [("leases", True)]
    assert _request(emulator, "GET", "/healthz")[2] == b"ok"


@pytest.mark.parametrize(
    "path",
    ["/openapi/v2", "/openapi/v3", "/apis/apps/v1", "/api/v1/pods", "/nope", "/api/v1/nodes//x"],
)
def test_unknown_paths_are_404_statuses(emulator: Emulator, path: str) -> None:
    status, _, data = _request(emulator, "GET", path)
    assert status == 404
    assert _json(data) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": NOT_FOUND,
        "reason": "NotFound",
        "details": {},
        "code": 404,
    }


def test_a_method_not_served_is_405(emulator: Emulator) -> None:
    status, _, data = _request(emulator, "POST", "/api/v1/nodes/n1", b"{}")
    assert status == 405
    assert (
        _json(data)["message"] == "the server does not allow this method on the requested resource"
    )
    assert _request(emulator, "DELETE", "/version")[0] == 405


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
def test_unknown_patch_types_are_415(emulator: Emulator, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, data = _request(emulator, "PATCH", "/api/v1/nodes/n1", b"{}", headers)
    assert status == 415
    assert _json(data) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "415: Unsupported Media Type",
        "reason": "UnsupportedMediaType",
        "details": {},
        "code": 415,
    }


def test_server_side_apply_is_not_emulated(emulator: Emulator) -> None:
    headers = {"Content-Type": "application/apply-patch+yaml"}
    assert _request(emulator, "PATCH", "/api/v1/nodes/n1?fieldManager=x", b"{}", headers)[0] == 415


def test_a_post_without_content_type_is_read_as_json(emulator: Emulator) -> None:
    body = json.dumps(node_object("nct")).encode()
    status, _, data = _request(emulator, "POST", "/api/v1/nodes", body)
    assert status == 201, data
    assert _json(data)["metadata"]["name"] == "nct"


GARBAGE: list[tuple[str, str, bytes | None, str | None, int, str]] = [
    (
        "POST",
        "/api/v1/nodes",
        b"{not json",
        None,
        400,
        "couldn't get version/kind; json parse error: ",
    ),
    ("POST", "/api/v1/nodes", b"\xff\xfe", None, 400, "couldn't get version/kind"),
    ("POST", "/api/v1/nodes", b"[1]", None, 400, "json: cannot unmarshal array into Go value"),
    (
        "POST",
        "/api/v1/nodes",
        b'{"metadata": {"name": "x"}, "spec": {"podCIDRs": "10.0.0.0/24"}}',
        None,
        400,
        (
            'Node in version "v1" cannot be handled as a Node: json: cannot unmarshal string '
            "into Go struct field NodeSpec.spec.podCIDRs of type []string"
        ),
    ),
    (
        "POST",
        "/api/v1/nodes",
        b'{"kind": "Pod", "metadata": {"name": "x"}}',
        None,
        400,
        "the body is a Pod",
    ),
    (
        "POST",
        "/api/v1/nodes",
        b'{"metadata": {}}',
        None,
        422,
        'Node "" is invalid: metadata.name: Required value',
    ),
    (
        "POST",
        "/api/v1/nodes",
        b'{"metadata": {"name": "Bad_Name"}}',
        None,
        422,
        (
            'Node "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": '
            "a lowercase RFC 1123 subdomain"
        ),
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b"[1]",
        "application/merge-patch+json",
        400,
        "not a JSON object",
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b"[1]",
        "application/strategic-merge-patch+json",
        400,
        "cannot unmarshal array",
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b'{"op": "add"}',
        "application/json-patch+json",
        400,
        "jsonpatch.Patch",
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b"{",
        "application/merge-patch+json",
        400,
        "json parse error",
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b"[" * 100000,
        "application/json-patch+json",
        400,
        "json parse error",
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b'{"metadata": {"name": "other"}}',
        "application/merge-patch+json",
        400,
        "the name of the object (other) does not match the name on the URL (n1)",
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b'{"spec": {"podCIDRs": 5}}',
        "application/merge-patch+json",
        422,
        ' "" is invalid: patch: Invalid value: ',
    ),
    (
        "PATCH",
        "/api/v1/nodes/missing",
        b"{}",
        "application/merge-patch+json",
        404,
        'nodes "missing" not found',
    ),
    (
        "PUT",
        "/api/v1/nodes/n1",
        b'{"metadata": {"name": "n2"}}',
        "application/json",
        400,
        "does not match the name",
    ),
    (
        "GET",
        "/api/v1/nodes?watch=true&resourceVersion=abc",
        None,
        None,
        400,
        'invalid resource version "abc"',
    ),
    (
        "GET",
        "/api/v1/nodes?watch=true&timeoutSeconds=x",
        None,
        None,
        400,
        "invalid timeoutSeconds",
    ),
    (
        "PATCH",
        "/api/v1/nodes/n1",
        b'{"a":' * 150 + b"1" + b"}" * 150,
        "application/merge-patch+json",
        400,
        "the JSON nests more than 100 levels deep",
    ),
    ("POST", "/api/v1/nodes", b'{"metadata": {"name": NaN}}', None, 400, "json parse error"),
]


@pytest.mark.parametrize("case", GARBAGE, ids=lambda case: f"{case[0]} {case[5][:30]}")
def test_garbage_gets_a_status_and_the_server_keeps_serving(
    emulator: Emulator, case: tuple[str, str, bytes | None, str | None, int, str]
) -> None:
    method, path, body, content_type, code, message = case
    headers = {"Content-Type": content_type} if content_type else {}
    status, _, data = _request(emulator, method, path, body, headers)
    answer = _json(data)
    assert (status, answer["kind"], answer["code"]) == (code, "Status", code), answer
    assert message in answer["message"]
    _alive(emulator)


def test_a_huge_body_is_refused_with_413(emulator: Emulator) -> None:
    huge = b" " * (3 * 1024 * 1024 + 1)
    status, _, data = _request(emulator, "POST", "/api/v1/nodes", huge)
    assert status == 413
    assert _json(data)["message"] == "Request entity too large: limit is 3145728"
    _alive(emulator)


def test_a_chunked_body_is_read(emulator: Emulator) -> None:
    host, port = emulator.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        body = json.dumps({"metadata": {"labels": {"chunked": "yes"}}}).encode()
        connection.request(
            "PATCH",
            "/api/v1/nodes/n1",
            body=iter([body[:10], body[10:]]),
            headers={"Content-Type": "application/merge-patch+json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        assert response.status == 200
        assert _json(response.read())["metadata"]["labels"] == {"chunked": "yes"}
    finally:
        connection.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /api/v1/nodes HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        (
            b"PATCH /api/v1/nodes/n1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/merge-patch+json\r\n\r\nzz\r\n"
        ),
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"\x00\xff" * 100 + b"\r\n\r\n",
    ],
)
def test_malformed_requests_never_crash_the_server(emulator: Emulator, raw: bytes) -> None:
    host, port = emulator.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.")
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500
    _head, _, body = answer.partition(b"\r\n\r\n")
    assert _json(body)["kind"] == "Status"
    _alive(emulator)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    path=st.sampled_from(
        [
            "/api/v1/nodes",
            "/api/v1/nodes/n1",
            "/api/v1/nodes/n1/status",
            "/api/v1/namespaces/default/events",
            "/apis/coordination.k8s.io/v1/namespaces/default/leases/l",
        ]
    ),
    content_type=st.sampled_from(
        [
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
            "application/json-patch+json",
        ]
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=10,
        ).map(lambda value: json.dumps(value).encode()),
    ),
)
def test_random_requests_get_statuses(
    emulator: Emulator, method: str, path: str, content_type: str, body: bytes
) -> None:
    if method == "DELETE":
        path = path.replace("/n1", "/fuzzed")  # keep n1 for the other tests
    status, headers, data = _request(emulator, method, path, body, {"Content-Type": content_type})
    assert status in {200, 201, 400, 404, 405, 409, 413, 415, 422}, data
    assert headers["Content-Type"] == "application/json"
    answer = _json(data)
    if status >= 400:
        assert answer["kind"] == "Status"
        assert answer["code"] == status
    _alive(emulator)
