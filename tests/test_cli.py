"""The ``ipv6alloc`` command line: the demo on the built-in example cluster."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ipv6alloc._cli import main

# Hand-derived from the rules (domain.md): under TalosPolicy the article's output; under the
# default SafePolicy the first /80 of each /64 holds the anycast and node address, so the
# second /80 is taken, and each /121 whose first address is the node's gives its upper /122.
TALOS_IPV6 = {
    "cp-1": "2001:a:b:2875::/80",
    "worker-1": "2a00:a:0:1c4::/80",
    "worker-2": "2a09:a:f:42f6::/80",
    "worker-3": "2a02:a:152:202::100/121",
    "worker-4": "2a02:a:153:201::100/121",
}
SAFE_IPV6 = {
    "cp-1": "2001:a:b:2875:1::/80",
    "worker-1": "2a00:a:0:1c4:1::/80",
    "worker-2": "2a09:a:f:42f6:1::/80",
    "worker-3": "2a02:a:152:202::140/122",
    "worker-4": "2a02:a:153:201::140/122",
}
IPV4 = {"cp-1": "10.0.0.0/24", "worker-1": "10.0.1.0/24", "worker-2": "10.0.2.0/24",
        "worker-3": "10.0.3.0/24", "worker-4": "10.0.4.0/24"}  # fmt: skip


def demo_json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["demo", "-o", "json"]) == 0
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    return doc


def test_demo_json_assigns_both_policies(capsys: pytest.CaptureFixture[str]) -> None:
    doc = demo_json(capsys)
    runs = doc["runs"]
    assert isinstance(runs, list)
    assert [run["policy"] for run in runs] == ["safe", "talos"]
    for run, expected in zip(runs, (SAFE_IPV6, TALOS_IPV6), strict=True):
        got = {n["name"]: n["podCIDRs"] for n in run["nodes"]}
        assert got == {name: [IPV4[name], expected[name]] for name in expected}


def test_demo_marks_prefixes_holding_a_node_address(capsys: pytest.CaptureFixture[str]) -> None:
    runs = demo_json(capsys)["runs"]
    assert isinstance(runs, list)
    safe, talos = runs
    assert all(n["containsNodeAddress"] == [] for n in safe["nodes"])
    assert {n["name"]: n["containsNodeAddress"] for n in talos["nodes"]} == {
        "cp-1": ["2001:a:b:2875::7952"],
        "worker-1": ["2a00:a:0:1c4::64"],
        "worker-2": ["2a09:a:f:42f6::1"],
        "worker-3": ["2a02:a:152:202::100"],
        "worker-4": ["2a02:a:153:201::100"],
    }


def test_demo_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    safe, talos = out.split("policy TalosPolicy()")
    for name, prefix in SAFE_IPV6.items():
        row = next(line for line in safe.splitlines() if line.startswith(name + " "))
        assert row.split()[-1] == prefix
        assert IPV4[name] in row
    for name, prefix in TALOS_IPV6.items():
        row = next(line for line in talos.splitlines() if line.startswith(name + " "))
        assert row.split()[-2:] == [prefix, "*"]
    assert "reasons:" in safe
    assert "upper /122 half" in safe


def test_console_entry_point_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ipv6alloc", "demo", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["cluster"]["clusterCIDRs"] == ["10.0.0.0/12", "fd40:10::/64"]


def test_unknown_command_exits_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err
