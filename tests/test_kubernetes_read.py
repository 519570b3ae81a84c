"""ipv6alloc.kubernetes: reading Nodes from mappings, client objects, text and files."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from kubernetes import client as k8s
from lightkube.models import core_v1 as lk_core
from lightkube.models import meta_v1 as lk_meta
from lightkube.resources.core_v1 import Node as LightkubeNode

import ipv6alloc.kubernetes as kube
from ipv6alloc import Interface, Ipv6AllocError, Node, Prefix
from ipv6alloc.kubernetes import (
    KubeNode,
    NodeReadError,
    load_nodes,
    parse_nodes,
    read_node,
    read_nodes,
)
from ipv6alloc.kubernetes._read import stored_pod_cidrs

UNINITIALIZED = "node.cloudprovider.kubernetes.io/uninitialized"
PROVIDED = "alpha.kubernetes.io/provided-node-ip"

# What `kubectl get nodes -o json` prints (abridged to the fields that matter, plus a few that
# do not), for two nodes of the article's cluster.
KUBECTL_JSON = """
{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "annotations": {
                    "alpha.kubernetes.io/provided-node-ip": "10.1.0.4,2a02:a:152:202::100",
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true"
                },
                "creationTimestamp": "2024-05-01T10:00:00Z",
                "labels": {"kubernetes.io/hostname": "worker-3", "kubernetes.io/os": "linux"},
                "name": "worker-3",
                "resourceVersion": "81234",
                "uid": "4c1f6a8e-6f43-4a0e-9d55-3b8f0a1f2c11"
            },
            "spec": {
                "podCIDR": "10.0.13.0/24",
                "podCIDRs": ["10.0.13.0/24", "2a02:a:152:202::100/121"],
                "providerID": "talos://metal/worker-3"
            },
            "status": {
                "addresses": [
                    {"address": "10.1.0.4", "type": "InternalIP"},
                    {"address": "2a02:a:152:202::100", "type": "InternalIP"},
                    {"address": "worker-3", "type": "Hostname"}
                ],
                "conditions": [{"status": "True", "type": "Ready"}],
                "nodeInfo": {"kubeletVersion": "v1.31.2"}
            }
        },
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "creationTimestamp": "2024-04-30T08:00:00Z",
                "name": "worker-9",
                "resourceVersion": "81240",
                "uid": "9d0f3b1c-1111-4c2d-8e9f-aaaaaaaaaaaa"
            },
            "spec": {
                "taints": [
                    {
                        "effect": "NoSchedule",
                        "key": "node.cloudprovider.kubernetes.io/uninitialized",
                        "value": "true"
                    },
                    {"effect": "NoSchedule", "key": "node.kubernetes.io/not-ready"}
                ]
            },
            "status": {
                "addresses": [
                    {"address": "198.51.100.9", "type": "ExternalIP"},
                    {"address": "10.1.0.9", "type": "InternalIP"},
                    {"address": "2001:db8:9::9", "type": "ExternalIP"},
                    {"address": "worker-9.example", "type": "InternalDNS"}
                ]
            }
        }
    ],
    "kind": "List",
    "metadata": {"resourceVersion": ""}
}
"""

WORKER_3 = KubeNode(
    "worker-3",
    uid="4c1f6a8e-6f43-4a0e-9d55-3b8f0a1f2c11",
    resource_version="81234",
    creation_timestamp="2024-05-01T10:00:00Z",
    addresses=("10.1.0.4", "2a02:a:152:202::100"),
    pod_cidrs=("10.0.13.0/24", "2a02:a:152:202::100/121"),
    annotations={
        PROVIDED: "10.1.0.4,2a02:a:152:202::100",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    },
)
WORKER_9 = KubeNode(
    "worker-9",
    uid="9d0f3b1c-1111-4c2d-8e9f-aaaaaaaaaaaa",
    resource_version="81240",
    creation_timestamp="2024-04-30T08:00:00Z",
    addresses=("10.1.0.9", "198.51.100.9", "2001:db8:9::9"),
    uninitialized=True,
)


def kubectl_list() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(KUBECTL_JSON)
    return data


def node(name: str = "n1", **sections: Any) -> dict[str, Any]:
    """A minimal Node mapping; ``metadata`` entries merge into the name."""
    metadata = {"name": name, **sections.pop("metadata", {})}
    return {"apiVersion": "v1", "kind": "Node", "metadata": metadata, **sections}


def error_of(source: object) -> str:
    with pytest.raises(NodeReadError) as info:
        read_nodes(source)
    return str(info.value)


# -- mappings --------------------------------------------------------------------------------


def test_kubectl_list_json_is_read_field_by_field() -> None:
    assert parse_nodes(KUBECTL_JSON) == [WORKER_3, WORKER_9]
    assert read_nodes(kubectl_list()) == [WORKER_3, WORKER_9]


def test_a_node_list_without_item_kinds_and_a_single_node() -> None:
    data = kubectl_list()
    items = data["items"]
    for item in items:
        del item["kind"]  # the API's NodeList items carry no kind
    node_list = {"apiVersion": "v1", "kind": "NodeList", "items": items, "metadata": {}}
    assert read_nodes(node_list) == [WORKER_3, WORKER_9]
    assert read_nodes({"items": items}) == [WORKER_3, WORKER_9]
    assert read_nodes(items) == [WORKER_3, WORKER_9]
    assert read_nodes(tuple(items)) == [WORKER_3, WORKER_9]
    assert read_nodes(iter(items)) == [WORKER_3, WORKER_9]
    assert read_nodes(items[0]) == [WORKER_3]
    assert read_node(items[1]) == WORKER_9
    assert read_nodes({"kind": "List", "items": []}) == []
    assert read_nodes({"kind": "NodeList", "items": None}) == []


def test_annotations_are_a_read_only_copy() -> None:
    data = node(metadata={"annotations": {"a": "1"}})
    kube_node = read_node(data)
    data["metadata"]["annotations"]["a"] = "2"
    assert kube_node.annotations == {"a": "1"}
    with pytest.raises(TypeError):
        kube_node.annotations["a"] = "3"  # type: ignore[index]
    by_hand = KubeNode("n", annotations={"b": "2"}, addresses=("2001:db8::1",))
    assert by_hand.addresses == ("2001:db8::1",)
    assert hash(by_hand) == hash(KubeNode("n", annotations={"c": "3"}, addresses=("2001:db8::1",)))


def test_the_node_is_frozen() -> None:
    with pytest.raises(AttributeError):
        WORKER_3.name = "x"  # type: ignore[misc]


def test_kube_node_checks_its_name_and_sequences() -> None:
    with pytest.raises(NodeReadError, match="a node name must be non-empty text, not ''"):
        KubeNode("")
    with pytest.raises(NodeReadError, match=r"node 'n': addresses must be a sequence of text"):
        KubeNode("n", addresses="2001:db8::1")  # type: ignore[arg-type]


def test_repr_shows_what_is_set() -> None:
    assert repr(KubeNode("w", uid="u1", pod_cidrs=("10.0.0.0/24",), deleting=True)) == (
        "KubeNode('w', uid='u1', pod_cidrs=('10.0.0.0/24',), deleting=True)"
    )
    assert repr(KubeNode("w")) == "KubeNode('w')"


# -- podCIDR and podCIDRs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod_cidr", "pod_cidrs", "stored"),
    [
        # Agreeing fields: the list as it is.
        ("10.0.0.0/24", ["10.0.0.0/24", "2001:db8::/80"], ("10.0.0.0/24", "2001:db8::/80")),
        # Only the list: kept (the reverse conversion fills podCIDR from it).
        (None, ["2001:db8::/80", "10.0.0.0/24"], ("2001:db8::/80", "10.0.0.0/24")),
        ("", ["2001:db8::/80"], ("2001:db8::/80",)),
        # Only the singular field: a list of one.
        ("10.0.0.0/24", None, ("10.0.0.0/24",)),
        ("10.0.0.0/24", [], ("10.0.0.0/24",)),
        # Disagreeing: the singular field replaces the whole list.
        ("10.0.9.0/24", ["10.0.0.0/24", "2001:db8::/80"], ("10.0.9.0/24",)),
        ("2001:db8::/80", ["10.0.0.0/24", "2001:db8::/80"], ("2001:db8::/80",)),
        # Neither.
        (None, None, ()),
        ("", [], ()),
        # Lax old values are kept as stored text, not rewritten.
        ("2001:DB8::1/80", ["2001:DB8::1/80"], ("2001:DB8::1/80",)),
    ],
)
def test_the_singular_pod_cidr_wins_as_in_the_api_server_conversion(
    pod_cidr: str | None, pod_cidrs: list[str] | None, stored: tuple[str, ...]
) -> None:
    spec: dict[str, Any] = {}
    if pod_cidr is not None:
        spec["podCIDR"] = pod_cidr
    if pod_cidrs is not None:
        spec["podCIDRs"] = pod_cidrs
    assert read_node(node(spec=spec)).pod_cidrs == stored
    assert stored_pod_cidrs(pod_cidr, pod_cidrs) == stored


# -- addresses, taints, deletion ---------------------------------------------------------------


def test_addresses_come_internal_then_external_then_provided_each_once() -> None:
    data = node(
        metadata={"annotations": {PROVIDED: " 2001:db8::e , 10.0.0.1,2001:DB8::1 ,"}},
        status={
            "addresses": [
                {"type": "ExternalIP", "address": "2001:db8::e"},
                {"type": "Hostname", "address": "n1"},
                {"type": "InternalIP", "address": "10.0.0.1"},
                {"type": "InternalDNS", "address": "n1.cluster.local"},
                {"type": "InternalIP", "address": "2001:0db8:0000::0001"},
                {"type": "ExternalIP", "address": "203.0.113.5"},
            ]
        },
    )
    kube_node = read_node(data)
    assert kube_node.addresses == ("10.0.0.1", "2001:db8::1", "2001:db8::e", "203.0.113.5")
    assert kube_node.problems == ()


def test_provided_node_ip_alone_gives_the_addresses() -> None:
    data = node(metadata={"annotations": {PROVIDED: "2a02:a:152:202::100,10.1.0.4"}})
    assert read_node(data).addresses == ("2a02:a:152:202::100", "10.1.0.4")


def test_invalid_addresses_are_left_out_and_noted() -> None:
    data = node(
        metadata={"annotations": {PROVIDED: "2001:db8::1,not-an-ip"}},
        status={
            "addresses": [
                {"type": "InternalIP", "address": "10.0.0.256"},
                {"type": "InternalIP", "address": "fe80::1%eth0"},
                {"type": "InternalIP", "address": "10.0.0.0/24"},
                {"type": "ExternalIP", "address": 7},
                {"type": "InternalIP", "address": "10.0.0.7"},
            ]
        },
    )
    kube_node = read_node(data)
    assert kube_node.addresses == ("10.0.0.7", "2001:db8::1")
    assert kube_node.problems == (
        "status.addresses[0] (InternalIP) address '10.0.0.256' is not an IP address; ignored.",
        "status.addresses[1] (InternalIP) address 'fe80::1%eth0' is not an IP address; ignored.",
        "status.addresses[2] (InternalIP) address '10.0.0.0/24' is not an IP address; ignored.",
        "status.addresses[3] (ExternalIP) has address int '7', not text; ignored.",
        f"annotation {PROVIDED} address 'not-an-ip' is not an IP address; ignored.",
    )


def test_the_uninitialized_taint() -> None:
    tainted = node(
        spec={"taints": [{"key": "other", "effect": "NoExecute"}, {"key": UNINITIALIZED}]}
    )
    assert read_node(tainted).uninitialized is True
    other = node(spec={"taints": [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]})
    assert read_node(other).uninitialized is False
    assert read_node(node(spec={})).uninitialized is False
    # Only spec.taints counts, not a label or an annotation of that name.
    labelled = node(
        metadata={"labels": {UNINITIALIZED: "true"}, "annotations": {UNINITIALIZED: ""}}
    )
    assert read_node(labelled).uninitialized is False


def test_deletion_timestamp_marks_a_deleting_node() -> None:
    assert read_node(node(metadata={"deletionTimestamp": "2024-05-02T00:00:00Z"})).deleting
    assert not read_node(node()).deleting
    assert not read_node(node(metadata={"deletionTimestamp": None})).deleting


def test_uid_and_resource_version_may_be_missing() -> None:
    kube_node = read_node(node(metadata={"uid": "", "resourceVersion": None}))
    assert (kube_node.uid, kube_node.resource_version, kube_node.creation_timestamp) == (
        None,
        None,
        None,
    )


# -- sorting and the core's Node --------------------------------------------------------------


def test_sort_key_is_oldest_first_then_name_and_unknown_times_last() -> None:
    nodes = [
        KubeNode("d"),
        KubeNode("c", creation_timestamp="not a time"),
        KubeNode("b", creation_timestamp="2024-05-01T10:00:00Z"),
        KubeNode("a", creation_timestamp="2024-05-01T10:00:00Z"),
        KubeNode("e", creation_timestamp="2024-05-01T11:30:00+02:00"),  # 09:30 UTC
        KubeNode("f", creation_timestamp="2024-05-01T10:00:00"),  # no offset: not RFC 3339
    ]
    ordered = sorted(nodes, key=lambda n: n.sort_key)
    assert [n.name for n in ordered] == ["e", "a", "b", "c", "d", "f"]
    assert KubeNode("a", creation_timestamp="2024-05-01T10:00:00Z").sort_key == (
        dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC),
        "a",
    )


def test_an_unparseable_creation_time_is_kept_and_noted() -> None:
    kube_node = read_node(node(metadata={"creationTimestamp": "yesterday"}))
    assert kube_node.creation_timestamp == "yesterday"
    assert kube_node.problems == (
        "metadata.creationTimestamp 'yesterday' is not an RFC 3339 time; the node sorts last.",
    )


def test_to_node_builds_the_core_node() -> None:
    core = WORKER_3.to_node(["2a02:a:152:202::100/121"])
    assert core == Node(
        "worker-3",
        addresses=(Prefix.parse("10.1.0.4/32"), Prefix.parse("2a02:a:152:202::100/128")),
        subnets=(Interface.parse("2a02:a:152:202::100/121"),),
        uid="4c1f6a8e-6f43-4a0e-9d55-3b8f0a1f2c11",
    )
    assert WORKER_9.to_node().subnets == ()
    assert len(WORKER_9.to_node().addresses) == 3


# -- the official client and lightkube ---------------------------------------------------------


def official_node() -> k8s.V1Node:
    return k8s.V1Node(
        api_version="v1",
        kind="Node",
        metadata=k8s.V1ObjectMeta(
            name="worker-3",
            uid="4c1f6a8e-6f43-4a0e-9d55-3b8f0a1f2c11",
            resource_version="81234",
            creation_timestamp=dt.datetime(
                2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))
            ),
            deletion_timestamp=dt.datetime(2024, 5, 3, 0, 0, 0, 250000, tzinfo=dt.UTC),
            annotations={PROVIDED: "2001:db8:9::9"},
        ),
        spec=k8s.V1NodeSpec(
            pod_cidr="10.0.13.0/24",
            pod_cidrs=["10.0.13.0/24", "2a02:a:152:202::100/121"],
            taints=[k8s.V1Taint(key=UNINITIALIZED, effect="NoSchedule", value="true")],
        ),
        status=k8s.V1NodeStatus(
            addresses=[
                k8s.V1NodeAddress(type="ExternalIP", address="198.51.100.9"),
                k8s.V1NodeAddress(type="Hostname", address="worker-3"),
                k8s.V1NodeAddress(type="InternalIP", address="2a02:a:152:202::100"),
            ]
        ),
    )


OFFICIAL_EXPECTED = KubeNode(
    "worker-3",
    uid="4c1f6a8e-6f43-4a0e-9d55-3b8f0a1f2c11",
    resource_version="81234",
    creation_timestamp="2024-05-01T10:00:00Z",
    addresses=("2a02:a:152:202::100", "198.51.100.9", "2001:db8:9::9"),
    pod_cidrs=("10.0.13.0/24", "2a02:a:152:202::100/121"),
    annotations={PROVIDED: "2001:db8:9::9"},
    uninitialized=True,
    deleting=True,
)


def test_official_client_v1node() -> None:
    assert read_node(official_node()) == OFFICIAL_EXPECTED
    assert read_nodes(official_node()) == [OFFICIAL_EXPECTED]


def test_official_client_node_list_and_to_dict() -> None:
    items = [official_node()]
    assert read_nodes(k8s.V1NodeList(items=items)) == [OFFICIAL_EXPECTED]
    # to_dict() gives snake_case keys and datetime values: read as well.
    assert read_node(official_node().to_dict()) == OFFICIAL_EXPECTED


def test_official_client_node_without_kind_and_with_disagreeing_pod_cidrs() -> None:
    v1 = k8s.V1Node(
        metadata=k8s.V1ObjectMeta(name="n2"),
        spec=k8s.V1NodeSpec(pod_cidr="10.0.1.0/24", pod_cidrs=["10.0.0.0/24"]),
    )
    assert read_node(v1) == KubeNode("n2", pod_cidrs=("10.0.1.0/24",))
    with pytest.raises(
        NodeReadError, match=r"^the object \(name 'web'\) is not a Node: its kind is 'Pod'$"
    ):
        read_node(k8s.V1Pod(kind="Pod", metadata=k8s.V1ObjectMeta(name="web")))


def lightkube_node() -> LightkubeNode:
    return LightkubeNode(
        metadata=lk_meta.ObjectMeta(
            name="worker-3",
            uid="4c1f6a8e-6f43-4a0e-9d55-3b8f0a1f2c11",
            resourceVersion="81234",
            creationTimestamp=dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC),
            deletionTimestamp=dt.datetime(2024, 5, 3, tzinfo=dt.UTC),
            annotations={PROVIDED: "2001:db8:9::9"},
        ),
        spec=lk_core.NodeSpec(
            podCIDR="10.0.13.0/24",
            podCIDRs=["10.0.13.0/24", "2a02:a:152:202::100/121"],
            taints=[lk_core.Taint(key=UNINITIALIZED, effect="NoSchedule", value="true")],
        ),
        status=lk_core.NodeStatus(
            addresses=[
                lk_core.NodeAddress(type="ExternalIP", address="198.51.100.9"),
                lk_core.NodeAddress(type="InternalIP", address="2a02:a:152:202::100"),
            ]
        ),
    )


def test_lightkube_node() -> None:
    assert read_node(lightkube_node()) == OFFICIAL_EXPECTED
    # A client's list() is an iterator of nodes.
    assert read_nodes(iter([lightkube_node()])) == [OFFICIAL_EXPECTED]
    # lightkube's own dict form is camelCase JSON.
    assert read_node(lightkube_node().to_dict()) == OFFICIAL_EXPECTED


def test_lightkube_node_with_singular_pod_cidr_only() -> None:
    n = LightkubeNode(
        metadata=lk_meta.ObjectMeta(name="n3"), spec=lk_core.NodeSpec(podCIDR="10.0.3.0/24")
    )
    assert read_node(n).pod_cidrs == ("10.0.3.0/24",)


def test_reading_a_mapping_imports_no_client_library() -> None:
    code = (
        "import sys, json; from ipv6alloc.kubernetes import parse_nodes, read_nodes; "
        f"nodes = parse_nodes({KUBECTL_JSON!r}); assert len(nodes) == 2; "
        "loaded = {m.split('.')[0] for m in sys.modules}; "
        "print(sorted(loaded & {'kubernetes', 'lightkube', 'yaml', 'pydantic', 'msgspec'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- text and files ---------------------------------------------------------------------------


KUBECTL_YAML = yaml.safe_dump(kubectl_list(), sort_keys=True)


def test_yaml_text_and_bytes() -> None:
    assert parse_nodes(KUBECTL_YAML) == [WORKER_3, WORKER_9]
    assert parse_nodes(KUBECTL_YAML.encode()) == [WORKER_3, WORKER_9]
    assert parse_nodes(KUBECTL_JSON.encode("utf-8-sig")) == [WORKER_3, WORKER_9]


def test_unquoted_yaml_timestamps_become_rfc3339_text() -> None:
    text = "kind: Node\nmetadata:\n  name: n1\n  creationTimestamp: 2024-05-01T10:00:00Z\n"
    assert parse_nodes(text)[0].creation_timestamp == "2024-05-01T10:00:00Z"


def test_multi_document_yaml_of_nodes_and_lists() -> None:
    items = kubectl_list()["items"]
    text = "\n---\n".join(
        [
            yaml.safe_dump(items[0]),
            "",  # an empty document is skipped
            yaml.safe_dump([node("n5"), node("n6")]),
            yaml.safe_dump({"kind": "NodeList", "items": [items[1]]}),
        ]
    )
    names = [n.name for n in parse_nodes(text)]
    assert names == ["worker-3", "n5", "n6", "worker-9"]


def test_multi_document_errors_name_the_document_and_item() -> None:
    text = (
        "kind: Node\nmetadata: {name: a}\n"
        "---\n"
        "- kind: Node\n  metadata: {name: b}\n"
        "- kind: Pod\n  metadata: {name: web}\n"
    )
    with pytest.raises(NodeReadError) as info:
        parse_nodes(text)
    assert str(info.value) == "document 1, item 1 (name 'web') is not a Node: its kind is 'Pod'"


def test_files_paths_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    json_file = tmp_path / "nodes.json"
    json_file.write_text(KUBECTL_JSON, encoding="utf-8")
    yaml_file = tmp_path / "nodes.yaml"
    yaml_file.write_text(KUBECTL_YAML, encoding="utf-8")
    expected = [WORKER_3, WORKER_9]
    assert load_nodes(json_file) == expected
    assert load_nodes(str(yaml_file)) == expected
    with json_file.open("rb") as binary:
        assert load_nodes(binary) == expected
    assert load_nodes(io.StringIO(KUBECTL_YAML)) == expected
    monkeypatch.setattr(sys, "stdin", io.StringIO(KUBECTL_JSON))
    assert load_nodes("-") == expected


def test_file_errors_start_with_the_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "List", "items": [{"kind": "Node", "metadata": {}}]}')
    with pytest.raises(NodeReadError) as info:
        load_nodes(bad)
    assert str(info.value) == f"{bad}: item 0: metadata.name is missing"
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(NodeReadError, match=r"^<stdin>: the text is empty$"):
        load_nodes("-")
    with pytest.raises(FileNotFoundError):
        load_nodes(tmp_path / "missing.json")
    with pytest.raises(TypeError, match="expected a path, '-' or a readable file, got int"):
        load_nodes(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the text is empty"),
        ("  \n", "the text is empty"),
        (b"\xff\xfe{", "the text is not UTF-8 (invalid start byte at byte 0)"),
        ("kind: [unclosed", "the text is neither JSON nor YAML: while parsing a flow sequence"),
        ("42", "the object is neither a Node nor a list of Nodes: got int '42'"),
        ('"node"', "expected Nodes, got str 'node': read text with parse_nodes() and files"),
        ("[1]", "item 0 is not a Node: got int '1'"),
    ],
)
def test_bad_text(text: str | bytes, message: str) -> None:
    with pytest.raises(NodeReadError) as info:
        parse_nodes(text)
    assert str(info.value).startswith(message)


def test_yaml_without_pyyaml_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    assert parse_nodes(KUBECTL_JSON) == [WORKER_3, WORKER_9]  # JSON needs no PyYAML
    with pytest.raises(NodeReadError) as info:
        parse_nodes("kind: Node\nmetadata:\n  name: n1\n")
    message = str(info.value)
    assert message.startswith("the text is not JSON (Expecting value: line 1 column 1 (char 0))")
    assert message.endswith("reading YAML needs PyYAML: pip install 'ipv6alloc[kubernetes]'")


# -- what is not a Node ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"kind": "List", "items": [node("a"), {"kind": "Pod", "metadata": {"name": "web"}}]},
            "item 1 (name 'web') is not a Node: its kind is 'Pod'",
        ),
        (
            {"kind": "Pod", "metadata": {"name": "web"}},
            "the object (name 'web') is not a Node: its kind is 'Pod'",
        ),
        ({"kind": "Service"}, "the object is not a Node: its kind is 'Service'"),
        (
            {"kind": 5, "metadata": {"name": "x"}},
            "the object (name 'x') is not a Node: its kind is int '5'",
        ),
        ({"kind": "Node"}, "the object has no metadata, so no metadata.name"),
        ({"kind": "Node", "metadata": {}}, "the object: metadata.name is missing"),
        ({"kind": "Node", "metadata": "n1"}, "the object: metadata must be a mapping, not 'n1'"),
        (
            {"kind": "Node", "metadata": {"name": ""}},
            "the object: metadata.name must be non-empty text, not ''",
        ),
        (
            {"kind": "Node", "metadata": {"name": ["a"]}},
            "the object: metadata.name must be non-empty text, not a list of 1 item",
        ),
        ([node("a"), node("b"), 7], "item 2 is not a Node: got int '7'"),
        ([node("a"), node("a")], "item 1: node 'a' appears twice (also item 0)"),
        (
            {"kind": "List", "items": {"a": 1}},
            "the list: items must be a list of Nodes, not a mapping of 1 key",
        ),
        (
            "nodes.json",
            (
                "expected Nodes, got str 'nodes.json': read text with parse_nodes() and files "
                "with load_nodes()"
            ),
        ),
        (
            Path("nodes.json"),
            (
                "expected Nodes, got PosixPath 'nodes.json': read text with parse_nodes() and "
                "files with load_nodes()"
            ),
        ),
        (None, "the object is neither a Node nor a list of Nodes: got null"),
        (3.5, "the object is neither a Node nor a list of Nodes: got float '3.5'"),
    ],
)
def test_what_is_not_a_node_is_named(source: object, message: str) -> None:
    assert error_of(source) == message


def test_node_read_error_is_a_value_error_shown_in_the_edge() -> None:
    assert issubclass(NodeReadError, Ipv6AllocError)
    assert issubclass(NodeReadError, ValueError)
    assert NodeReadError.__module__ == "ipv6alloc.kubernetes"
    assert KubeNode.__module__ == "ipv6alloc.kubernetes"
    with pytest.raises(NodeReadError) as info:
        read_node(7)
    assert str(info.value) == "the object is not a Node: got int '7'"


def test_errors_quote_long_values_cut_after_forty_characters() -> None:
    message = error_of({"kind": "x" * 100})
    assert message == f"the object is not a Node: its kind is '{'x' * 40}...'"


# -- garbage in the fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("x", "node 'n1': spec must be a mapping, not 'x'"),
        ([], "node 'n1': spec must be a mapping, not a list of 0 items"),
        ({"podCIDR": 5}, "node 'n1': spec.podCIDR must be text, not int '5'"),
        (
            {"podCIDRs": "10.0.0.0/24"},
            "node 'n1': spec.podCIDRs must be a list of text, not '10.0.0.0/24'",
        ),
        ({"podCIDRs": ["10.0.0.0/24", None]}, "node 'n1': spec.podCIDRs[1] must be text, not null"),
    ],
)
def test_garbage_in_the_pod_cidr_fields_is_an_error(spec: object, message: str) -> None:
    assert error_of(node(spec=spec)) == message
    assert error_of([node("n0"), node(spec=spec)]) == message.replace(
        "node 'n1'", "item 1 (node 'n1')"
    )


@pytest.mark.parametrize(
    ("sections", "problem"),
    [
        ({"status": "up"}, "status is 'up', not a mapping; its addresses are ignored."),
        (
            {"status": {"addresses": {"a": 1}}},
            "status.addresses is a mapping of 1 key, not a list; ignored.",
        ),
        (
            {"status": {"addresses": ["10.0.0.1"]}},
            "status.addresses[0] is '10.0.0.1', not an address entry; ignored.",
        ),
        (
            {"status": {"addresses": [{"type": 1, "address": "10.0.0.1"}]}},
            "status.addresses[0] has type int '1', not text; ignored.",
        ),
        ({"spec": {"taints": "none"}}, "spec.taints is 'none', not a list; ignored."),
        (
            {"spec": {"taints": [UNINITIALIZED]}},
            f"spec.taints[0] is '{UNINITIALIZED[:40]}...', not a taint; ignored.",
        ),
        ({"spec": {"taints": [{"key": None}]}}, "spec.taints[0] has key null, not text; ignored."),
        (
            {"metadata": {"annotations": ["a"]}},
            "metadata.annotations is a list of 1 item, not a mapping; ignored.",
        ),
        ({"metadata": {"annotations": {"a": 1}}}, "annotation 'a' is int '1', not text; ignored."),
        (
            {"metadata": {"annotations": {"a": "b", 2: "c"}}},
            "annotation key int '2' is not text; ignored.",
        ),
        ({"metadata": {"uid": 12}}, "metadata.uid is int '12', not text; ignored."),
        (
            {"metadata": {"resourceVersion": 7}},
            "metadata.resourceVersion is int '7', not text; ignored.",
        ),
        (
            {"metadata": {"creationTimestamp": 1714557600}},
            "metadata.creationTimestamp is int '1714557600', not a time; ignored.",
        ),
    ],
)
def test_garbage_in_optional_fields_is_a_problem(sections: dict[str, Any], problem: str) -> None:
    kube_node = read_node(node(**copy.deepcopy(sections)))
    assert kube_node.problems == (problem,)
    assert kube_node.addresses == ()
    assert kube_node.uninitialized is False


def test_garbage_deletion_timestamp_reads_as_set() -> None:
    kube_node = read_node(node(metadata={"deletionTimestamp": 5}))
    assert kube_node.deleting is True
    assert kube_node.problems == (
        "metadata.deletionTimestamp is int '5', not a time; read as set.",
    )


def test_good_entries_survive_next_to_garbage() -> None:
    data = node(
        metadata={"annotations": {"keep": "me", "drop": None}},
        spec={"taints": [None, {"key": UNINITIALIZED}]},
        status={"addresses": [None, {"type": "InternalIP", "address": "10.0.0.1"}]},
    )
    kube_node = read_node(data)
    assert kube_node.annotations == {"keep": "me"}
    assert kube_node.uninitialized is True
    assert kube_node.addresses == ("10.0.0.1",)
    assert len(kube_node.problems) == 3


# Arbitrary JSON-like values, biased towards the keys and values a Node holds, so that the
# reader meets garbage at every level of a real shape, not only at the top.
_KEYS = st.sampled_from(
    [
        "kind",
        "metadata",
        "name",
        "items",
        "spec",
        "status",
        "podCIDR",
        "podCIDRs",
        "addresses",
        "type",
        "address",
        "annotations",
        "taints",
        "key",
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "deletionTimestamp",
        PROVIDED,
    ]
) | st.text(max_size=4)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(
        ["Node", "List", "NodeList", "InternalIP", "ExternalIP", UNINITIALIZED, "10.0.0.1"]
    )
)
JSON_LIKE = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=6),
    max_leaves=40,
)


@given(JSON_LIKE)
def test_arbitrary_values_raise_only_node_read_error(value: object) -> None:
    for reader in (read_nodes, read_node):
        try:
            result = reader(value)
        except NodeReadError:
            continue
        nodes = result if isinstance(result, list) else [result]
        assert all(n.name for n in nodes)
    with contextlib.suppress(NodeReadError):
        parse_nodes(json.dumps(value))


@given(JSON_LIKE)
def test_arbitrary_values_in_optional_fields_are_problems_never_errors(value: object) -> None:
    metadata = {
        "name": "n1",
        **dict.fromkeys(
            ["uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "annotations"],
            value,
        ),
    }
    for data in (
        {"kind": "Node", "metadata": metadata},
        {"kind": "Node", "metadata": {"name": "n1"}, "status": value},
        {"kind": "Node", "metadata": {"name": "n1"}, "spec": {"taints": value}},
        {"kind": "Node", "metadata": {"name": "n1"}, "status": {"addresses": value}},
    ):
        kube_node = read_node(data)
        assert kube_node.name == "n1"
        kube_node.to_node()  # every address kept is one the core accepts


@given(JSON_LIKE)
def test_arbitrary_spec_is_read_or_an_error_naming_the_node_and_field(value: object) -> None:
    try:
        kube_node = read_node({"kind": "Node", "metadata": {"name": "n1"}, "spec": value})
    except NodeReadError as exc:
        message = str(exc)
    else:
        assert all(isinstance(cidr, str) for cidr in kube_node.pod_cidrs)
        return
    assert message.startswith("node 'n1': spec")


@given(st.text(max_size=60) | st.binary(max_size=60))
def test_arbitrary_text_raises_only_node_read_error(text: str | bytes) -> None:
    with contextlib.suppress(NodeReadError):
        parse_nodes(text)


def test_the_edge_exports_what_it_promises() -> None:
    """The public names, each importable, documented and shown as the edge's; nothing else."""
    # The promise itself, written out: adding or dropping a public name is a decision.
    assert sorted(kube.__all__) == [
        "ACTIONS",
        "Action",
        "AnnotationSource",
        "ApplyResult",
        "CallableSource",
        "Controller",
        "DEFAULT_SOURCES",
        "DEFAULT_SUBNET_ANNOTATION",
        "KubeNode",
        "NodeOutcome",
        "NodePlan",
        "NodeReadError",
        "NodeWriter",
        "Outcome",
        "Plan",
        "ProviderMap",
        "Reconciler",
        "RetryPolicy",
        "SubnetLookup",
        "SubnetSource",
        "SubnetSourceError",
        "apply",
        "find_subnets",
        "lead",
        "load_nodes",
        "parse_nodes",
        "plan",
        "read_node",
        "read_nodes",
    ]
    # Nothing public leaks: every name the package holds without an underscore is exported.
    assert {name for name in vars(kube) if not name.startswith("_")} == set(kube.__all__)
    for name in kube.__all__:
        value = getattr(kube, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            # A docstring of its own (not a dataclass's generated signature): the reference
            # page renders it.
            doc = value.__doc__ or ""
            assert doc.strip(), name
            assert not doc.startswith(f"{name}("), name
        if inspect.isclass(value):
            assert value.__module__ == "ipv6alloc.kubernetes", name


def test_an_iterator_failing_on_the_network_raises_its_own_error() -> None:
    def listing() -> Any:
        yield node("a")
        raise ConnectionResetError("the API server went away")

    with pytest.raises(ConnectionResetError, match="the API server went away"):
        read_nodes(listing())


def test_a_client_node_without_metadata_is_read_as_a_node() -> None:
    assert error_of(k8s.V1Node()) == "the object has no metadata, so no metadata.name"
    assert error_of([k8s.V1Node(kind="Node")]) == "item 0 has no metadata, so no metadata.name"
