"""Discovery documents and the path router.

kubectl reads ``/version`` (a version-dispatching kubectl wrapper picks its binary by the minor
version), ``/api``, ``/apis`` (a 404 there breaks every command) and the resource lists of each
group version, which map kinds to resources (``Node`` to ``nodes``, cluster-scoped). The
documents are the legacy (unaggregated) ones, answered as ``application/json``; a client that
asks for aggregated discovery falls back to them. No OpenAPI document is served
(``/openapi/v2`` and ``/openapi/v3`` answer 404): kubectl needs none with ``--validate=false``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import unquote

from ._api import Route
from ._rules import EVENTS, KINDS, LEASES, NODES, Kind

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["discovery", "route"]

_COORDINATION: Final = "coordination.k8s.io"
_VERBS_SERVED: Final = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _resource(
    kind: Kind, verbs: Sequence[str], name: str = "", singular: str | None = None
) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": name or kind.resource,
        "singularName": kind.kind.lower() if singular is None else singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": list(verbs),
    }
    if kind.short_names and not name:
        entry["shortNames"] = list(kind.short_names)
    return entry


def _group_version(group: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/v1", "version": "v1"}


def discovery(path: str, version: str, address: str) -> dict[str, object] | None:
    """The discovery document at ``path``, or None when ``path`` is not one.

    >>> discovery("/version", "v1.36.0", "127.0.0.1:1")["minor"]
    '36'
    >>> [r["name"] for r in discovery("/api/v1", "v1.36.0", "127.0.0.1:1")["resources"]]
    ['events', 'nodes', 'nodes/status']
    """
    path = path.rstrip("/") or "/"
    if path == "/version":
        major, minor, *_ = version.lstrip("v").split(".")
        return {
            "major": major,
            "minor": minor,
            "emulationMajor": major,
            "emulationMinor": minor,
            "gitVersion": version,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z",
            "goVersion": "go1.25.0",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
        }
    if path == "/api/v1":
        return {
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                _resource(EVENTS, _VERBS_SERVED),
                _resource(NODES, _VERBS_SERVED),
                _resource(NODES, ["get", "patch", "update"], "nodes/status", ""),
            ],
        }
    group = {
        "name": _COORDINATION,
        "versions": [_group_version(_COORDINATION)],
        "preferredVersion": _group_version(_COORDINATION),
    }
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}
    if path == f"/apis/{_COORDINATION}":
        return {"kind": "APIGroup", "apiVersion": "v1", **group}
    if path == f"/apis/{_COORDINATION}/v1":
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{_COORDINATION}/v1",
            "resources": [_resource(LEASES, _VERBS_SERVED)],
        }
    return None


_VERBS: Final = {"PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def route(method: str, path: str, *, watch: bool) -> Route | None:
    """What a resource request addresses, or None (not a resource path, or a verb not served).

    >>> route("PATCH", "/api/v1/nodes/n1", watch=False)
    Route(verb='patch', kind=Kind('Node'), namespace='', name='n1', subresource='')
    >>> route("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", watch=False).verb
    'list'
    """
    parts = [unquote(part) for part in path.split("/")[1:]]
    if parts[:2] == ["api", "v1"]:
        rest = parts[2:]
    elif parts[:3] == ["apis", _COORDINATION, "v1"]:
        rest = parts[3:]
    else:
        return None
    if any(not part for part in rest):
        return None
    namespace = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return None
    kind = KINDS.get(rest[0])
    if kind is None or kind.group != (_COORDINATION if parts[0] == "apis" else ""):
        return None
    if kind.namespaced != bool(namespace) and not (kind.namespaced and len(rest) == 1):
        return None  # a namespaced kind named without a namespace is only listed
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if len(rest) > 3 or subresource not in ("", "status") or (subresource and kind is not NODES):
        return None
    if method == "GET":
        verb = "watch" if watch else ("get" if name else "list")
    elif method == "POST" and not name:
        verb = "create"
    elif method in ("PUT", "PATCH", "DELETE") and name and not (method == "DELETE" and subresource):
        verb = _VERBS[method]
    else:
        return None
    if kind.namespaced and not namespace and verb not in ("list", "watch"):
        return None
    return Route(verb, kind, namespace, name, subresource)
