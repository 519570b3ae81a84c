"""``ipv6alloc capacity``: the capacity report of a cluster's Nodes, or of the example cluster.

Expected numbers are worked out by hand for the example cluster (docs/cli.md: cluster CIDRs
10.0.0.0/12 with /24s and fd40:10::/64 with /80s, five nodes, three on /64s and two on /121s
whose first address is the node's): under SafePolicy each /64 holds 2**16 /80s, the first
spoiled by the anycast address and the node's own, one held; each /121 holds two /122s, the
upper held, the lower spoiled. The IPv4 pool holds 2**12 /24s, five held.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from ipv6alloc._cli import main
from ipv6alloc.capacity import FIELDS

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLE_POOLS = [
    "10.0.0.0/12",
    "fd40:10::/64",
    "2001:a:b:2875::/64",
    "2a00:a:0:1c4::/64",
    "2a09:a:f:42f6::/64",
    "2a02:a:152:202::100/121",
    "2a02:a:153:201::100/121",
]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["capacity", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    status, out, err = run(capsys, "-o", "json", *argv)
    assert (status, err) == (0, "")
    data: dict[str, Any] = json.loads(out)
    return data


def pool(data: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(p for p in data["pools"] if p["pool"] == prefix)


def test_table_of_the_example_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["POOL", "KIND", "POD"]
    assert [line.split()[0] for line in lines[1:8]] == EXAMPLE_POOLS
    assert lines[1].split()[:8] == [
        "10.0.0.0/12",
        "cluster",
        "/24",
        "110",
        "4,096",
        "5",
        "4,091",
        "0",
    ]
    assert lines[3].split()[:8] == [
        "2001:a:b:2875::/64",
        "provider",
        "/80",
        "110",
        "65,536",
        "1",
        "65,534",
        "1",
    ]
    assert lines[6].split()[:8] == [
        "2a02:a:152:202::100/121",
        "provider",
        "/122",
        "64",
        "2",
        "1",
        "0",
        "1",
    ]
    assert lines[6].split()[-1] == "critical"
    assert lines[-1].startswith("first to run out: 10.0.0.0/12 (cluster), after 4,091 more nodes")


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    data = as_json(capsys)
    assert list(data) == ["pools", "totals", "not_fit", "first_exhausted"]
    assert [p["pool"] for p in data["pools"]] == EXAMPLE_POOLS
    assert all(list(p) == list(FIELDS) for p in data["pools"])
    v4 = pool(data, "10.0.0.0/12")
    assert (v4["prefixes_total"], v4["prefixes_used"], v4["nodes_fit"]) == (4096, 5, 4091)
    # 2**48 addresses in a /80: below 2**53, still a number.
    assert pool(data, "fd40:10::/64")["addresses_per_prefix"] == 2**48
    assert data["not_fit"] == []
    assert data["first_exhausted"] == {"pool": "10.0.0.0/12", "share": 1.0, "new_nodes": 4091}
    assert [(t["family"], t["kind"], t["pools"]) for t in data["totals"]] == [
        (4, "cluster", 1),
        (6, "cluster", 1),
        (6, "provider", 5),
    ]


def test_csv_output(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "-o", "csv")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == ",".join(FIELDS)
    assert [line.split(",")[0] for line in lines[1:]] == EXAMPLE_POOLS
    assert lines[1].split(",")[:11] == [
        "10.0.0.0/12",
        "4",
        "cluster",
        "24",
        "256",
        "110",
        "4096",
        "5",
        "4091",
        "0",
        "4091",
    ]


def test_add_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    data = as_json(capsys, "--add-nodes", "3")
    assert pool(data, "10.0.0.0/12")["prefixes_used"] == 8
    assert pool(data, "fd40:10::/64")["prefixes_used"] == 3  # no subnet: the fallback pool
    assert data["not_fit"] == []


def test_add_more_nodes_than_fit(capsys: pytest.CaptureFixture[str]) -> None:
    data = as_json(capsys, "--add-nodes", "4100")
    assert pool(data, "10.0.0.0/12")["nodes_fit"] == 0
    assert len(data["not_fit"]) == 4100 - 4091
    assert data["not_fit"][0] == {
        "node": "what-if-4092",
        "reason": "pool '10.0.0.0/12' has no free /24 left",
    }
    status, out, _ = run(capsys, "--add-nodes", "4100")
    assert status == 0
    assert "9 node(s) would not fit:\n  what-if-4092: pool '10.0.0.0/12' has no free /24" in out


def test_add_nodes_at_a_provider(capsys: pytest.CaptureFixture[str]) -> None:
    data = as_json(
        capsys, "--add-nodes", "2", "--at", "2a02:a:152:300::/120", "--subnet-prefixlen", "121"
    )
    new = [p["pool"] for p in data["pools"] if p["pool"].startswith("2a02:a:152:300:")]
    assert new == ["2a02:a:152:300::/121", "2a02:a:152:300::80/121"]
    assert pool(data, "10.0.0.0/12")["prefixes_used"] == 7


def test_max_pods_and_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    data = as_json(capsys, "--max-pods", "250", "--warn", "0", "--critical", "0.5")
    assert pool(data, "10.0.0.0/12")["pods_per_node"] == 250
    assert pool(data, "2a02:a:152:202::100/121")["pods_per_node"] == 64
    # Warn from 0 %: every pool with room is warn; a /121 half used is critical from 50 %.
    assert [p["status"] for p in data["pools"]] == ["warn"] * 5 + ["critical"] * 2


def test_talos_policy(capsys: pytest.CaptureFixture[str]) -> None:
    data = as_json(capsys, "--policy", "talos")
    slash121 = pool(data, "2a02:a:152:202::100/121")
    assert (slash121["pod_prefixlen"], slash121["prefixes_total"]) == (121, 1)
    slash64 = pool(data, "2001:a:b:2875::/64")
    assert (slash64["prefixes_used"], slash64["nodes_fit"]) == (1, 65535)


NODES = {
    "kind": "List",
    "items": [
        {
            "kind": "Node",
            "metadata": {
                "name": "w1",
                "annotations": {"ipv6alloc.io/node-subnets": "2001:db8:1::7/64"},
            },
        }
    ],
}
FLAGS = ["--cluster-cidr", "10.0.0.0/22,fd00::/64", "--node-cidr-mask-size-ipv6", "80"]


def test_nodes_from_a_file_and_from_stdin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "nodes.json"
    path.write_text(json.dumps(NODES))
    data = as_json(capsys, "-f", str(path), *FLAGS)
    assert [p["pool"] for p in data["pools"]] == ["10.0.0.0/22", "fd00::/64", "2001:db8:1::/64"]
    assert pool(data, "10.0.0.0/22")["nodes_fit"] == 3
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(NODES)))
    assert as_json(capsys, "-f", "-", *FLAGS) == data


def test_plot_writes_a_png(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for kind in ("utilization", "fragmentation"):
        path = tmp_path / f"{kind}.png"
        status, out, err = run(capsys, "--plot", str(path), "--plot-kind", kind)
        assert (status, err) == (0, "")
        assert out.startswith("POOL")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-f", "/nonexistent/nodes.json", *FLAGS], "/nonexistent/nodes.json: No such file"),
        (["-f", "-", *FLAGS], "is neither JSON nor YAML"),
        (["-f", "/nonexistent/nodes.json"], "--cluster-cidr is required"),
        (["--warn", "0.9", "--critical", "0.5"], "thresholds must satisfy 0 <= warn <= critical"),
        (["--add-nodes", "1", "--at", "10.1.0.0/16"], "at must be an IPv6 provider prefix"),
        (["--add-nodes", "1", "--at", "nonsense"], "'nonsense' is not a valid"),
        (["--cluster-cidr", "10.0.0.0/16,10.1.0.0/16"], "are both IPv4: at most one per family"),
        (["--plot", "out.unknown"], "Format 'unknown' is not supported"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("{{{ not: [valid"))
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith("ipv6alloc capacity: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_plot_without_matplotlib(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    status, _, err = run(capsys, "--plot", str(tmp_path / "x.png"))
    assert status == 2
    assert err == (
        "ipv6alloc capacity: error: CapacityReport.plot() needs matplotlib: "
        "pip install 'ipv6alloc[plot]'\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--max-pods", "0"], "argument --max-pods: '0' is not a whole number from 1"),
        (["--add-nodes", "-3"], "argument --add-nodes: '-3' is not a whole number from 0"),
        (["--add-nodes", "many"], "argument --add-nodes: 'many' is not a whole number from 0"),
        (["--warn", "2"], "argument --warn: '2' is not a number from 0 to 1"),
        (["-o", "yaml"], "argument -o/--output: invalid choice: 'yaml'"),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["capacity", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_the_command_runs_as_a_program_and_loads_its_edge_only_when_chosen() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ipv6alloc", "capacity", "-o", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.count("\n") == 1 + len(EXAMPLE_POOLS)
    code = (
        "import sys, contextlib, io\n"
        "from ipv6alloc._cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['demo'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('ipv6alloc.capacity')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
