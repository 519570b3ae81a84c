"""``ipv6alloc plan``: plan the podCIDRs of nodes read from a file, stdin or the example cluster.

Expected prefixes are worked out by hand from the rules (domain.md, docs/policies.md), never
copied from the command's output: under SafePolicy a /64 gives /80s and its first /80 holds the
subnet-router anycast address and the node's address, so a node on ``P::7/64`` gets
``P:1::/80``; a /121 whose first address is the node's gives its upper /122; under TalosPolicy
a /64 gives its first /80 and a /121 is handed out whole. IPv4 /24s come from the cluster pool
in order, next-fit.
"""

from __future__ import annotations

import io
import ipaddress
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from ipv6alloc import SafePolicy
from ipv6alloc._cli import main
from ipv6alloc._demo import DEMO_CLUSTER, run_demo
from ipv6alloc.testing import node_object

if TYPE_CHECKING:
    from pathlib import Path

DUAL = ["--cluster-cidr", "10.0.0.0/16,fd00::/48", "--node-cidr-mask-size-ipv6", "80"]
#: The article's IPv6 prefixes (domain.md: the reference tool's output for the five nodes).
ARTICLE_IPV6 = {
    "cp-1": "2001:a:b:2875::/80",
    "worker-1": "2a00:a:0:1c4::/80",
    "worker-2": "2a09:a:f:42f6::/80",
    "worker-3": "2a02:a:152:202::100/121",
    "worker-4": "2a02:a:153:201::100/121",
}


def kube_node(
    name: str,
    day: int,
    *,
    subnet: str | None = None,
    address: str | None = None,
    pod_cidrs: list[str] | None = None,
    resource_version: str | None = None,
    annotations: dict[str, str] | None = None,
    uninitialized: bool = False,
) -> dict[str, Any]:
    """A Node as ``kubectl get nodes -o json`` prints it, created on day ``day`` of 2024-01.

    ``subnet`` goes into the ``ipv6alloc.io/node-subnets`` annotation, and its address is the
    node's ``InternalIP`` unless ``address`` names another.
    """
    annotations = dict(annotations or {})
    if subnet is not None:
        annotations["ipv6alloc.io/node-subnets"] = subnet
        address = address or subnet.split("/")[0]
    doc = node_object(
        name,
        addresses=[address] if address else [],
        pod_cidrs=pod_cidrs or [],
        annotations=annotations,
        uninitialized=uninitialized,
    )
    doc["metadata"].update(
        uid=f"uid-{name}",
        resourceVersion=resource_version or str(100 + day),
        creationTimestamp=f"2024-01-{day:02d}T00:00:00Z",
    )
    return doc


def node_list(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": list(items),
    }


def write(tmp_path: Path, doc: object, name: str = "nodes.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(path)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["plan", *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def plan_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status, out, err = run(capsys, *argv, "-o", "json")
    assert err == ""
    doc: dict[str, Any] = json.loads(out)
    return status, doc


def pod_cidrs(doc: dict[str, Any]) -> dict[str, list[str]]:
    return {node["name"]: node["podCIDRs"] for node in doc["nodes"]}


def actions(doc: dict[str, Any]) -> dict[str, str]:
    return {node["name"]: node["action"] for node in doc["nodes"]}


# -- the example cluster -------------------------------------------------------------------------


def test_example_cluster_matches_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    """Without -f: the demo's cluster, planned as Nodes, gives what the core gives the demo."""
    status, doc = plan_json(capsys)
    assert status == 0
    expected = {
        row.node.name: [str(p) for p in row.assignment.pod_cidrs] for row in run_demo(SafePolicy())
    }
    assert pod_cidrs(doc) == expected
    assert [n["name"] for n in doc["nodes"]] == [name for name, _ in DEMO_CLUSTER.nodes]
    for node in doc["nodes"]:
        assert node["action"] == "assign"
        versions = [ipaddress.ip_network(p).version for p in node["podCIDRs"]]
        assert versions == [4, 6]  # the example's cluster CIDR order: IPv4 first
        assert node["subnet"] == dict(DEMO_CLUSTER.nodes)[node["name"]]
    assert doc["summary"]["assign"] == len(DEMO_CLUSTER.nodes)


def test_example_cluster_under_talos_gives_the_articles_prefixes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, doc = plan_json(capsys, "--policy", "talos")
    assert status == 0
    assert {name: cidrs[1] for name, cidrs in pod_cidrs(doc).items()} == ARTICLE_IPV6


def test_table_has_a_row_per_node_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NODE", "ACTION", "PODCIDRS"]
    demo = {row.node.name: row.assignment for row in run_demo(SafePolicy())}
    for name, assignment in demo.items():
        row = next(line for line in lines if line.startswith(name + " "))
        assert row.split()[1:3] == ["assign", ",".join(str(p) for p in assignment.pod_cidrs)]
    assert lines[-1] == "5 nodes: 5 assign"
    # Aligned: every row's second column starts where the header's does.
    column = lines[0].index("ACTION")
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in lines[:6])


def test_example_flags_override_the_examples_settings(capsys: pytest.CaptureFixture[str]) -> None:
    """--cluster-cidr replaces the example's settings: upstream's /64 mask, no service CIDR."""
    status, doc = plan_json(capsys, "--cluster-cidr", "fd00::/48", "--policy", "talos")
    assert status == 0
    # IPv6 only now: the IPv4 /24s are gone, the IPv6 prefixes still come from the subnets.
    assert pod_cidrs(doc) == {name: [prefix] for name, prefix in ARTICLE_IPV6.items()}


# -- reading nodes -------------------------------------------------------------------------------


def two_nodes() -> dict[str, Any]:
    return node_list(
        kube_node("w-a", 1, subnet="2001:db8:0:1::7/64"),
        kube_node("w-b", 2, subnet="2a02:a:152:202::100/121"),
    )


EXPECTED_TWO = {
    "w-a": ["10.0.0.0/24", "2001:db8:0:1:1::/80"],
    "w-b": ["10.0.1.0/24", "2a02:a:152:202::140/122"],
}


def test_reads_a_kubectl_json_list_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, doc = plan_json(capsys, "-f", write(tmp_path, two_nodes()), *DUAL)
    assert status == 0
    assert pod_cidrs(doc) == EXPECTED_TWO


def test_reads_a_yaml_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = """\
apiVersion: v1
kind: List
items:
  - kind: Node
    metadata:
      name: w-a
      creationTimestamp: "2024-01-01T00:00:00Z"
      annotations: {ipv6alloc.io/node-subnets: "2001:db8:0:1::7/64"}
    status:
      addresses: [{type: InternalIP, address: "2001:db8:0:1::7"}]
  - kind: Node
    metadata:
      name: w-b
      creationTimestamp: "2024-01-02T00:00:00Z"
      annotations: {ipv6alloc.io/node-subnets: "2a02:a:152:202::100/121"}
"""
    status, doc = plan_json(capsys, "--filename", write(tmp_path, text, "nodes.yaml"), *DUAL)
    assert status == 0
    assert pod_cidrs(doc) == EXPECTED_TWO


def test_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(two_nodes())))
    status, doc = plan_json(capsys, "-f", "-", *DUAL)
    assert status == 0
    assert pod_cidrs(doc) == EXPECTED_TWO


def test_reads_a_single_node(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, kube_node("solo", 1, subnet="2001:db8:0:1::7/64"))
    status, doc = plan_json(capsys, "-f", path, *DUAL)
    assert status == 0
    assert pod_cidrs(doc) == {"solo": ["10.0.0.0/24", "2001:db8:0:1:1::/80"]}


def holder_and_newcomer() -> dict[str, Any]:
    return node_list(
        kube_node(
            "w-old",
            1,
            subnet="2001:db8:0:1::7/64",
            resource_version="41",
            pod_cidrs=["10.0.0.0/24", "2001:db8:0:1:1::/80"],
        ),
        kube_node("w-new", 2, subnet="2001:db8:0:2::8/64", resource_version="42"),
    )


def test_existing_pod_cidrs_are_kept_and_only_new_nodes_assigned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, doc = plan_json(capsys, "-f", write(tmp_path, holder_and_newcomer()), *DUAL)
    assert status == 0
    assert actions(doc) == {"w-old": "adopt", "w-new": "assign"}
    # 10.0.0.0/24 is held: the newcomer gets the next /24.
    assert pod_cidrs(doc) == {
        "w-old": ["10.0.0.0/24", "2001:db8:0:1:1::/80"],
        "w-new": ["10.0.1.0/24", "2001:db8:0:2:1::/80"],
    }


# -- output formats ------------------------------------------------------------------------------


def test_json_has_exactly_the_documented_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = node_list(
        kube_node(
            "w-old",
            1,
            subnet="2001:db8:0:1::7/64",
            pod_cidrs=["10.0.0.0/24", "2001:db8:0:1:1::/80"],
        ),
        kube_node(
            "w-twin", 2, address="2001:db8:0:5::5", pod_cidrs=["10.0.0.0/24", "2001:db8:0:1:1::/80"]
        ),
        kube_node("w-new", 3, subnet="2001:db8:0:2::8/64"),
        kube_node("w-boot", 4, uninitialized=True),
        kube_node("w-bare", 5, address="2001:db8:0:9::9"),
    )
    status, out = plan_json(capsys, "-f", write(tmp_path, doc), *DUAL, "--no-fallback")
    assert status == 1
    assert set(out) == {"nodes", "summary"}
    keys = {"name", "action", "podCIDRs", "reason", "subnet", "warnings"}
    assert all(set(node) == keys for node in out["nodes"])
    assert actions(out) == {
        "w-old": "adopt",
        "w-twin": "conflict",
        "w-new": "assign",
        "w-boot": "wait",
        "w-bare": "error",
    }
    cidrs = pod_cidrs(out)
    assert cidrs["w-twin"] == cidrs["w-boot"] == cidrs["w-bare"] == []
    assert cidrs["w-new"] == ["10.0.1.0/24", "2001:db8:0:2:1::/80"]
    summary = {
        "keep": 0,
        "adopt": 1,
        "assign": 1,
        "conflict": 1,
        "wait": 1,
        "error": 1,
        "release": 0,
    }
    assert out["summary"] == summary
    subnets = {node["name"]: node["subnet"] for node in out["nodes"]}
    assert subnets["w-new"] == "2001:db8:0:2::8/64"
    assert subnets["w-bare"] is None


def test_patch_lines_are_merge_patches_with_the_resource_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = node_list(
        *holder_and_newcomer()["items"],
        kube_node("w-third", 3, subnet="2a02:a:152:202::100/121", resource_version="43"),
    )
    status, out, err = run(capsys, "-f", write(tmp_path, doc), *DUAL, "-o", "patch")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert all(" " not in line for line in lines)  # compact JSON, one object a line
    patches = [json.loads(line) for line in lines]
    assert all(set(p) == {"name", "patch"} for p in patches)
    # Only the nodes to write: the holder already has its podCIDRs.
    assert [p["name"] for p in patches] == ["w-new", "w-third"]
    expected = {
        "w-new": ("42", ["10.0.1.0/24", "2001:db8:0:2:1::/80"]),
        "w-third": ("43", ["10.0.2.0/24", "2a02:a:152:202::140/122"]),
    }
    for p in patches:
        version, cidrs = expected[p["name"]]
        body = p["patch"]
        assert body["metadata"] == {"resourceVersion": version}
        assert body["spec"]["podCIDRs"] == cidrs
        assert body["spec"]["podCIDR"] == body["spec"]["podCIDRs"][0]


def test_table_counts_actions(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    doc = node_list(
        kube_node("w-new", 1, subnet="2001:db8:0:2::8/64"),
        kube_node("w-boot", 2, uninitialized=True),
    )
    status, out, _ = run(capsys, "-f", write(tmp_path, doc), *DUAL)
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 4  # header, two nodes, summary: no warnings section without warnings
    assert lines[-1] == "2 nodes: 1 assign, 1 wait"


def test_table_lists_warnings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An old node holds the first /80 of its /64 (lax), with both nodes' addresses in it."""
    held = ["10.0.0.0/24", "2001:db8:0:1::/80"]
    doc = node_list(
        kube_node("old", 1, subnet="2001:db8:0:1::7/64", pod_cidrs=held),
        kube_node("new", 2, subnet="2001:db8:0:1::8/64"),
    )
    status, out, _ = run(capsys, "-f", write(tmp_path, doc), *DUAL)
    assert status == 0
    lines = out.splitlines()
    assert lines[3] == "warnings:"
    warned = lines[4:-1]
    assert any(line.startswith("  old: ") and "2001:db8:0:1::7 " in line for line in warned)
    assert any(line.startswith("  new: ") and "2001:db8:0:1::8 " in line for line in warned)
    assert lines[-1] == "2 nodes: 1 adopt, 1 assign"
    _, doc_out = plan_json(capsys, "-f", write(tmp_path, doc), *DUAL)
    assert all(node["warnings"] for node in doc_out["nodes"])


# -- exit status ---------------------------------------------------------------------------------


def test_conflicting_nodes_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    held = ["10.0.0.0/24", "fd00::/80"]
    doc = node_list(
        kube_node("first", 1, address="2001:db8::1", pod_cidrs=held),
        kube_node("second", 2, address="2001:db8::2", pod_cidrs=held),
    )
    status, out = plan_json(capsys, "-f", write(tmp_path, doc), *DUAL)
    assert status == 1
    assert actions(out) == {"first": "adopt", "second": "conflict"}


def test_a_waiting_node_is_not_a_failure(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = node_list(kube_node("booting", 1, uninitialized=True))
    status, out = plan_json(capsys, "-f", write(tmp_path, doc), *DUAL)
    assert status == 0
    assert actions(out) == {"booting": "wait"}


def test_no_fallback_makes_a_node_without_subnet_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, node_list(kube_node("bare", 1, address="2001:db8:0:9::9")))
    status, out = plan_json(capsys, "-f", path, *DUAL)
    assert status == 0
    assert pod_cidrs(out) == {"bare": ["10.0.0.0/24", "fd00::/80"]}  # the cluster pool's first /80
    status, out = plan_json(capsys, "-f", path, *DUAL, "--no-fallback")
    assert status == 1
    assert actions(out) == {"bare": "error"}
    assert pod_cidrs(out) == {"bare": []}


#: (arguments, file content or None, file name, what the message must name); ``{file}`` in
#: the arguments is the file written, ``{tmp}`` the test's directory.
BadCase = tuple[list[str], str | None, str, str]
BAD_CONFIG = [
    pytest.param(
        ([*DUAL, "-f", "{file}"], "{ not: [valid\n", "nodes.txt", "neither JSON nor YAML"),
        id="not-json-or-yaml",
    ),
    pytest.param(
        ([*DUAL, "-f", "{file}"], "just some words\n", "nodes.txt", "expected Nodes"),
        id="not-nodes",
    ),
    pytest.param(([*DUAL, "-f", "{tmp}/missing.json"], None, "", "missing.json"), id="missing"),
    pytest.param(
        (
            ["--cluster-cidr", "fd00::/64", "--node-cidr-mask-size-ipv6", "48"],
            None,
            "",
            "fd00::/64",
        ),
        id="mask-too-short",
    ),
    pytest.param((["--cluster-cidr", "10.0.0.300/16"], None, "", "10.0.0.300/16"), id="bad-cidr"),
    pytest.param(
        (["--cluster-cidr", "10.0.0.0/16,10.1.0.0/16"], None, "", "at most one per family"),
        id="two-ipv4",
    ),
    pytest.param((["--reserve", "2001:db8::/200"], None, "", "2001:db8::/200"), id="bad-reserve"),
    pytest.param(
        (["-f", "{file}"], json.dumps(node_list()), "nodes.json", "--cluster-cidr is required"),
        id="no-cluster-cidr",
    ),
    pytest.param(
        (["--provider-map", "{file}"], '[{"prefix": "2a02:a:152::/48"}]', "map.json", "prefixlen"),
        id="bad-provider-map",
    ),
    pytest.param(
        (["--provider-map", "{tmp}/missing.yaml"], None, "", "missing.yaml"),
        id="missing-provider-map",
    ),
]


@pytest.mark.parametrize("case", BAD_CONFIG)
def test_bad_input_or_configuration_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: BadCase
) -> None:
    argv, content, filename, named = case
    path = write(tmp_path, content, filename) if content is not None else ""
    args = [a.replace("{file}", path).replace("{tmp}", str(tmp_path)) for a in argv]
    status, out, err = run(capsys, *args)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("ipv6alloc plan: error: ")
    assert "Traceback" not in err
    assert named in err


def test_a_fallback_pool_too_small_for_its_mask_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """The article's fd40:10::/96 cannot hold a /80: refused, not accepted silently."""
    status, out, err = run(
        capsys, "--cluster-cidr", "10.0.0.0/12,fd40:10::/96", "--node-cidr-mask-size-ipv6", "80"
    )
    assert (status, out) == (2, "")
    assert err.splitlines() == [err.rstrip("\n")]
    assert "fd40:10::/96" in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["-o", "yaml"], ["--policy", "greedy"], ["--cluster-cidr", "10.0.0.0/16,"]):
        with pytest.raises(SystemExit) as info:
            main(["plan", *argv])
        assert info.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


def test_help_lists_every_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["plan", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for flag in (
        "--filename",
        "--output",
        "--cluster-cidr",
        "--node-cidr-mask-size-ipv4",
        "--node-cidr-mask-size-ipv6",
        "--service-cluster-ip-range",
        "--policy",
        "--subnet-annotation",
        "--provider-map",
        "--reserve",
        "--placement",
        "--no-fallback",
    ):
        assert flag in out


# -- the settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "versions"),
    [
        (["--cluster-cidr", "10.0.0.0/16,fd00::/48"], [4, 6]),
        (["--cluster-cidr", "fd00::/48,10.0.0.0/16"], [6, 4]),
        (["--cluster-cidr", "10.0.0.0/16", "--cluster-cidr", "fd00::/48"], [4, 6]),
        (["--cluster-cidr", "fd00::/48", "--cluster-cidr", "10.0.0.0/16"], [6, 4]),
        (["--cluster-cidr", "fd00::/48, 10.0.0.0/16"], [6, 4]),
    ],
)
def test_cluster_cidr_order_is_the_pod_cidrs_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], versions: list[int]
) -> None:
    path = write(tmp_path, node_list(kube_node("w-a", 1, subnet="2001:db8:0:1::7/64")))
    status, out = plan_json(capsys, "-f", path, *argv, "--node-cidr-mask-size-ipv6", "80")
    assert status == 0
    expected = {4: "10.0.0.0/24", 6: "2001:db8:0:1:1::/80"}
    assert pod_cidrs(out) == {"w-a": [expected[v] for v in versions]}


def test_node_masks(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, node_list(kube_node("bare", 1, address="2001:db8:0:9::9")))
    status, out = plan_json(
        capsys,
        "-f",
        path,
        "--cluster-cidr",
        "10.0.0.0/16,fd00::/48",
        "--node-cidr-mask-size-ipv4",
        "26",
    )
    assert status == 0
    # IPv4 /26 as asked; IPv6 upstream's default /64, the first of the fallback pool.
    assert pod_cidrs(out) == {"bare": ["10.0.0.0/26", "fd00::/64"]}


def test_service_ranges_are_kept_out(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, node_list(kube_node("bare", 1, address="2001:db8:0:9::9")))
    status, out = plan_json(
        capsys,
        "-f",
        path,
        *DUAL,
        "--service-cluster-ip-range",
        "10.0.0.0/24,fd00::/112",
        "--service-cluster-ip-range",
        "10.0.1.0/24",
    )
    assert status == 0
    assert pod_cidrs(out) == {"bare": ["10.0.2.0/24", "fd00::1:0:0:0/80"]}


def test_reserve(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, node_list(kube_node("w-a", 1, subnet="2001:db8:0:1::7/64")))
    status, out = plan_json(
        capsys, "-f", path, *DUAL, "--reserve", "10.0.0.0/24,2001:db8:0:1:1::/80"
    )
    assert status == 0
    # Without the reservations: 10.0.0.0/24 and 2001:db8:0:1:1::/80 (test_reads_...).
    assert pod_cidrs(out) == {"w-a": ["10.0.1.0/24", "2001:db8:0:1:2::/80"]}


def test_subnet_annotation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    key = "example.com/ipv6-subnets"
    doc = node_list(
        kube_node("custom", 1, address="2001:db8:0:1::7", annotations={key: "2001:db8:0:1::7/64"}),
        kube_node("default", 2, subnet="2001:db8:0:2::7/64"),
    )
    status, out = plan_json(capsys, "-f", write(tmp_path, doc), *DUAL, "--subnet-annotation", key)
    assert status == 0
    # The default key is not read any more: that node falls back to the cluster pool.
    assert pod_cidrs(out) == {
        "custom": ["10.0.0.0/24", "2001:db8:0:1:1::/80"],
        "default": ["10.0.1.0/24", "fd00::/80"],
    }


@pytest.mark.parametrize(
    ("policy", "outside"),
    [("safe", "2a02:a:153:201::140/122"), ("talos", "2a02:a:153:201::100/121")],
)
def test_provider_map(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: str, outside: str
) -> None:
    providers = {"providers": [{"prefix": "2a02:a:152::/48", "prefixlen": 121, "policy": "talos"}]}
    doc = node_list(
        # Inside the map, no annotation: the map gives the /121 and names TalosPolicy.
        kube_node("mapped", 1, address="2a02:a:152:202::100"),
        # Inside the map with an annotation: the annotation is asked first (a /64), the
        # map's policy still applies to it (TalosPolicy: the first /80).
        kube_node("annotated", 2, subnet="2a02:a:152:204::100/64"),
        # Outside every entry: --policy decides.
        kube_node("outside", 3, subnet="2a02:a:153:201::100/121"),
    )
    status, out = plan_json(
        capsys,
        "-f",
        write(tmp_path, doc),
        *DUAL,
        "--policy",
        policy,
        "--provider-map",
        write(tmp_path, providers, "providers.json"),
    )
    assert status == 0
    assert {name: cidrs[1] for name, cidrs in pod_cidrs(out).items()} == {
        "mapped": "2a02:a:152:202::100/121",
        "annotated": "2a02:a:152:204::/80",
        "outside": outside,
    }
    subnets = {node["name"]: node["subnet"] for node in out["nodes"]}
    assert subnets["mapped"] == "2a02:a:152:202::100/121"
    assert subnets["annotated"] == "2a02:a:152:204::100/64"


def test_placement_lowest(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The first node fails (no subnet, no fallback) after its IPv4 /24 was tried and given back.

    Next-fit (Kubernetes' cidrset) moved its cursor past that /24 and release does not move it
    back, so the next node gets the /24 after it; lowest placement reuses the hole at once.
    """
    doc = node_list(
        kube_node("bare", 1, address="2001:db8:0:9::9"),
        kube_node("w-a", 2, subnet="2001:db8:0:1::7/64"),
    )
    path = write(tmp_path, doc)
    given = {}
    for placement in ("next-fit", "lowest"):
        status, out = plan_json(
            capsys, "-f", path, *DUAL, "--no-fallback", "--placement", placement
        )
        assert status == 1
        assert actions(out) == {"bare": "error", "w-a": "assign"}
        given[placement] = pod_cidrs(out)["w-a"][0]
    assert given == {"next-fit": "10.0.1.0/24", "lowest": "10.0.0.0/24"}


# -- the program ---------------------------------------------------------------------------------


def test_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ipv6alloc", "plan", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    doc = json.loads(result.stdout)
    assert [n["name"] for n in doc["nodes"]] == [name for name, _ in DEMO_CLUSTER.nodes]


def test_demo_and_import_load_neither_the_edge_nor_yaml() -> None:
    code = (
        "import contextlib, io, sys\n"
        "import ipv6alloc._cli as cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    cli.main(['demo'])\n"
        "loaded = [m for m in sys.modules if m.startswith('ipv6alloc.kubernetes') or m == 'yaml']\n"
        "print(sorted(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_closed_pipe_stops_quietly(tmp_path: Path) -> None:
    """``ipv6alloc plan -o patch | head -1``: no traceback when the reader goes away."""
    items = [kube_node(f"n{i}", 1, subnet=f"2001:db8:{i:x}::7/64") for i in range(2000)]
    path = write(tmp_path, node_list(*items))
    argv = ["plan", "-f", path, "--cluster-cidr", "10.0.0.0/12,fd00::/48", "-o", "patch"]
    with subprocess.Popen(
        [sys.executable, "-m", "ipv6alloc", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        first = json.loads(child.stdout.readline())
        child.stdout.close()  # far more than a pipe's buffer is still to come
        err = child.stderr.read()
    assert first["name"] == "n0"
    assert (child.returncode, err) == (141, "")
