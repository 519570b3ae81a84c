"""The built-in example cluster as Node objects: what ``ipv6alloc plan`` plans without ``-f``.

The five nodes of :data:`~ipv6alloc._demo.DEMO_CLUSTER`, written as ``kubectl get nodes -o json``
prints them: a ``kind: List`` whose items carry a name, a uid, a ``resourceVersion``, a
creation time in join order (one day apart), the ``ipv6alloc.io/node-subnets`` annotation with
the node's provider subnet and the node's IPv6 address as its ``InternalIP``. Nothing in it is
random: the uids are name-based UUIDs, so every call returns the same data.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from typing import Any, Final

from .._demo import DEMO_CLUSTER
from ._sources import DEFAULT_SUBNET_ANNOTATION

__all__ = ["example_nodes"]

#: When the first example node joined; each next one joined a day later.
_FIRST_JOIN: Final = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
#: The resourceVersion of the first example node; each next one's is one more.
_FIRST_RESOURCE_VERSION: Final = 81230
#: The namespace of the example nodes' name-based uids.
_UID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "https://ipv6alloc.invalid/example-cluster")


def example_nodes() -> dict[str, Any]:
    """The example cluster's Nodes as a ``kind: List``, as ``kubectl get nodes -o json`` prints.

    Every call builds a new list (the caller may change it). Runtime complexity: O(nodes).

    >>> nodes = example_nodes()
    >>> nodes["kind"], [item["metadata"]["name"] for item in nodes["items"]]
    ('List', ['cp-1', 'worker-1', 'worker-2', 'worker-3', 'worker-4'])
    >>> worker = nodes["items"][3]
    >>> worker["metadata"]["annotations"], worker["status"]["addresses"][0]
    ({'ipv6alloc.io/node-subnets': '2a02:a:152:202::100/121'}, \
{'type': 'InternalIP', 'address': '2a02:a:152:202::100'})

    Returns:
        The list: ``{"apiVersion": "v1", "kind": "List", "metadata": {...}, "items": [...]}``,
        the nodes in join order.
    """
    items = [_node(index, name, subnet) for index, (name, subnet) in enumerate(DEMO_CLUSTER.nodes)]
    return {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": items,
    }


def _node(index: int, name: str, subnet: str) -> dict[str, Any]:
    """The ``index``-th node to join: a Node mapping with the provider ``subnet`` annotated."""
    joined = _FIRST_JOIN + dt.timedelta(days=index)
    address = str(ipaddress.IPv6Interface(subnet).ip)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": str(uuid.uuid5(_UID_NAMESPACE, name)),
            "resourceVersion": str(_FIRST_RESOURCE_VERSION + index),
            "creationTimestamp": joined.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "labels": {"kubernetes.io/hostname": name},
            "annotations": {DEFAULT_SUBNET_ANNOTATION: subnet},
        },
        "spec": {},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": address},
                {"type": "Hostname", "address": name},
            ]
        },
    }
