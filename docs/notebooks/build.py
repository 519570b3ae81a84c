"""Build the capacity planning notebook, and the plots the docs show, from one source.

    python docs/notebooks/build.py notebook   # write and run capacity-planning.ipynb
    python docs/notebooks/build.py plots      # docs/images/capacity-*.png (make capacity-plots)

The notebook's cells are written here (:data:`CELLS`), so that a change to them is a change to a
readable Python file, then run with nbclient, and stored with their outputs: the notebook reads
on a code host without running. ``tests/test_notebook.py`` runs it again and checks that every
cell still runs and still prints what is stored. ``plots`` runs the cells tagged ``cluster``
(the 1,000-node, five-provider cluster) and saves its two plots.

Needs the ``notebook`` extra (``pip install -e '.[notebook]'``; ``make test`` installs it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "capacity-planning.ipynb"
IMAGES = HERE.parent / "images"
#: The tag of the cells that build the five-provider cluster's report (``big``).
CLUSTER_TAG = "cluster"
#: Seconds one cell may run.
CELL_TIMEOUT = 120


def _md(text: str) -> tuple[str, str, tuple[str, ...]]:
    return ("markdown", text.strip("\n"), ())


def _code(text: str, *tags: str) -> tuple[str, str, tuple[str, ...]]:
    return ("code", text.strip("\n"), tags)


CELLS = [
    _md("""
# Capacity planning with `ipv6alloc.capacity`

How many more nodes fit in each cluster pool and provider subnet under this policy, how many
pods per node that gives, which pool runs out first, and what changes if we switch policy or
add 500 nodes at one provider. A `CapacityReport` answers from the allocator's frozen
statistics; this notebook walks two clusters through it: the five-node example cluster this
project started from, and a made-up 1,000-node cluster spread over five providers.

The notebook is run by `make test` and stored with its outputs. To run it yourself:
`pip install 'ipv6alloc[notebook]'` (pandas, matplotlib and a Jupyter kernel). Plots are
matplotlib figures, returned and never shown behind your back: `%matplotlib inline` makes
Jupyter draw a figure a cell returns.
"""),
    _code(
        """
%matplotlib inline
from ipv6alloc import Node, NodeAllocator, TalosPolicy
from ipv6alloc.capacity import CapacityReport
""",
        CLUSTER_TAG,
    ),
    _md("""
## 1. The example cluster

Five nodes, each on its own provider subnet: three /64s and two /121s. The cluster pools are
`10.0.0.0/12` (a /24 per node) and `fd40:10::/64` (a /80 per node, for nodes without a usable
subnet); the service CIDRs are kept out of both. Under the default `SafePolicy` a /64 gives /80
pod prefixes and a /121 its upper /122 half (the lower half holds the node's address and the
subnet-router anycast address).
"""),
    _code("""
example = NodeAllocator(
    ["10.0.0.0/12", "fd40:10::/64"],
    node_mask={4: 24, 6: 80},
    service_cidrs=["10.100.0.0/22", "fd40:10:100::/112"],
)
for name, subnet in [
    ("cp-1", "2001:a:b:2875::7952/64"),
    ("worker-1", "2a00:a:0:1c4::64/64"),
    ("worker-2", "2a09:a:f:42f6::1/64"),
    ("worker-3", "2a02:a:152:202::100/121"),
    ("worker-4", "2a02:a:153:201::100/121"),
]:
    example.assign(Node.create(name, subnets=[subnet]))

report = CapacityReport.from_allocator(example)
report
"""),
    _md("""
One row per pool, counted in pod prefixes, one per node: `TOTAL` aligned blocks of the pod
prefix length, `USED`, `NODES FIT` (blocks still free of allocations, reservations and nested
pools: never free addresses divided by the block size) and `UNUSABLE` (the rest: a /64's first
/80 holds the anycast address and the node's own). A /121 is `critical` although only half
used: its other half can never take a node. The same as text:
"""),
    _code("""
print(report)
"""),
    _md("""
The pool that runs out first, if new nodes keep arriving at the current rates: every node took
a /24 from the IPv4 pool, while each provider subnet is a node's own, and new nodes bring their
own subnets.
"""),
    _code("""
report.first_exhausted.pool, report.exhaustion()[0].new_nodes
"""),
    _md("""
### What if 500 more nodes join, or the policy changes?

`what_if` simulates on a copy: the live allocator is never touched. 500 synthetic nodes without
a provider subnet take IPv4 and IPv6 from the cluster pools; `diff` shows what changed.
"""),
    _code("""
before = example.snapshot()
bigger = report.what_if(add_nodes=500)
report.diff(bigger)
"""),
    _code("""
talos = report.what_if(policy=TalosPolicy())
report.diff(talos)
"""),
    _code("""
example.snapshot() == before, len(example)
"""),
    _md("""
Under `TalosPolicy` the nodes keep the prefixes they hold (podCIDRs are write-once), and a /64
gains its first /80 back (Talos reserves nothing), while a /121 would be handed out whole.
"""),
    _code("""
report.plot()
"""),
    _md("""
## 2. A 1,000-node cluster on five providers

A made-up cluster, generated deterministically, as `kubectl get nodes -o json` would print it:
each node's IPv6 address is its `InternalIP`, and a provider map says which on-link length each
provider gives.

| provider | prefix | each node's subnet | nodes | pod prefixes (`SafePolicy`) |
|---|---|---|---|---|
| metal | `2a01:4f8::/32` | an on-link /64 shared by a rack of 20 | 300 | /80 |
| cloud | `2600:1900:4000::/44` | its own /96 | 250 | /112 |
| vps | `2a02:a:152::/48` | its own /121 | 200 | the upper /122 |
| delegated | `2a0e:8f00::/32` | a /56 delegated to it | 150 | /80 from its first /64 |
| tiny | `2a05:d000::/32` | only its /128 | 100 | none: IPv6 from the cluster pool |

The IPv4 cluster pool is a /14: 1,024 /24s for 1,000 nodes.
"""),
    _code(
        """
import datetime
import ipaddress

from ipv6alloc.kubernetes import ProviderMap

PROVIDERS = {
    # name: (prefix, on-link length, nodes)
    "metal": ("2a01:4f8::/32", 64, 300),
    "cloud": ("2600:1900:4000::/44", 96, 250),
    "vps": ("2a02:a:152::/48", 121, 200),
    "delegated": ("2a0e:8f00::/32", 56, 150),
    "tiny": ("2a05:d000::/32", 128, 100),
}
provider_map = ProviderMap(
    [{"prefix": prefix, "prefixlen": length} for prefix, length, _ in PROVIDERS.values()]
)


def address(provider: str, i: int) -> str:
    \"\"\"The i-th node's address at a provider: its own subnet, or its rack's /64.\"\"\"
    prefix, length, _ = PROVIDERS[provider]
    base = int(ipaddress.IPv6Network(prefix).network_address)
    if provider == "metal":  # racks of 20 nodes on one /64 each
        value = base | (i // 20 + 1) << 64 | (i % 20 + 0x10)
    else:  # the i-th subnet of the length, the node at its second address
        value = base | (i + 1) << (128 - length) | (0 if length == 128 else 2)
    return str(ipaddress.IPv6Address(value))


def cluster_nodes() -> dict:
    \"\"\"The 1,000 Nodes, one minute apart, as a kind: List.\"\"\"
    joined = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    items = []
    for provider, (_, _, count) in PROVIDERS.items():
        for i in range(count):
            name = f"{provider}-{i:03d}"
            items.append({
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "creationTimestamp": (joined + datetime.timedelta(minutes=len(items)))
                    .strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
                "status": {"addresses": [{"type": "InternalIP", "address": address(provider, i)}]},
            })
    return {"kind": "List", "items": items}


big = CapacityReport.from_nodes(
    cluster_nodes(),
    ["10.0.0.0/14", "fd40:10::/64"],
    node_mask={4: 24, 6: 80},
    service_cidrs=["10.100.0.0/22", "fd40:10:100::/112"],
    sources=[provider_map],
)
big
""",
        CLUSTER_TAG,
    ),
    _md("""
617 pools: the two cluster pools, 15 rack /64s, and one subnet per other node (the /128-only
nodes have none: they fell back to the IPv6 cluster pool). The totals per family and kind:
"""),
    _code("""
for totals in big.totals:
    print(totals)
"""),
    _md("""
Which pool runs out first? The IPv4 pool: every new node takes a /24 there, and 24 are left.
The rack /64s come next in the order but are far from full: each took 19 nodes after its
first, so about 1.9 % of new nodes land in each.
"""),
    _code("""
for e in big.exhaustion()[:3]:
    print(f"{e.row.pool}: {e.row.status}, {e.new_nodes:,} more nodes ({e.share:.1%} land there)")
"""),
    _md("""
With pandas, the rows are a DataFrame: pods per node and free room per provider.
"""),
    _code(
        """
def provider_of(row) -> str:
    # The provider whose prefix holds the pool, or "cluster".
    if row.kind == "cluster":
        return "cluster"
    return next(name for name, (prefix, _, _) in PROVIDERS.items() if row.pool.subnet_of(prefix))


df = big.to_pandas()
df["provider"] = [provider_of(row) for row in big.rows]
df.groupby(["provider", "pod_prefixlen"]).agg(
    pools=("pool", "count"),
    pods_per_node=("pods_per_node", "max"),
    used=("prefixes_used", "sum"),
    nodes_fit=("nodes_fit", "sum"),
    critical=("status", lambda s: int((s == "critical").sum())),
)
""",
        CLUSTER_TAG,
    ),
    _md("""
### Add 500 nodes at the cloud provider

500 synthetic nodes, each on its own /96 of the cloud's prefix. Only 24 get prefixes: the IPv4
pool is full after them. Each node that does not fit comes with the reason.
"""),
    _code("""
cloud = big.what_if(add_nodes=500, at="2600:1900:4000::/44", subnet_prefixlen=96)
len(cloud.not_fit), cloud.not_fit[0]
"""),
    _code("""
cloud.select(kind="cluster")
"""),
    _md("""
Longer IPv4 node masks (/25: 128 addresses, still above the 110 pods a kubelet runs by
default) would help, but podCIDRs are write-once: the nodes keep their /24s and only the 24
free /24s split into 48 /25s. Re-assigning everything (a new cluster) is the other answer.
"""),
    _code("""
for label, options in [
    ("/24, as now", {}),
    ("/25 from now on", {"node_mask": {4: 25}}),
    ("/25, a new cluster", {"node_mask": {4: 25}, "reassign": True}),
]:
    trial = big.what_if(add_nodes=500, at="2600:1900:4000::/44", subnet_prefixlen=96, **options)
    ipv4 = trial.get("10.0.0.0/14")
    print(f"{label:20} {len(trial.not_fit):3} do not fit; IPv4 pool {ipv4.utilization:.0%} used,"
          f" {ipv4.nodes_fit:,} left, {ipv4.status}")
"""),
    _md("""
### Switch to the reference tool's table

Under `TalosPolicy` the /121s would be handed out whole and nothing is reserved; the nodes keep
what they hold. The changes, counted by pod prefix length before and after:
"""),
    _code("""
import pandas as pd

changes = pd.DataFrame(big.diff(big.what_if(policy=TalosPolicy())).to_records())
changes.groupby(["kind", "pod_prefixlen_before", "pod_prefixlen_after"]).agg(
    pools=("pool", "count"), nodes_fit_delta=("nodes_fit_delta", "sum")
)
"""),
    _md("""
### Plots

Utilization per pool, the fullest first, with the thresholds drawn (warn from 75 %, critical
from 90 % or when no node fits). With 617 pools, `plot` draws the highest bars (`max_pools`):
here the IPv4 pool, then /121s that are all half used.
"""),
    _code("""
big.plot(max_pools=12)
"""),
    _md("""
A report can also be built from any rows: the cluster pools and the first two subnets of each
provider give a view of every kind of pool. The same plots are in the documentation.
"""),
    _code(
        """
def first_of_each(report, per_provider=2):
    # The cluster pools, and the first rows of each provider's subnets.
    seen = {}
    rows = []
    for row in report.rows:
        provider = provider_of(row)
        seen[provider] = seen.get(provider, 0) + 1
        if provider == "cluster" or seen[provider] <= per_provider:
            rows.append(row)
    return CapacityReport(rows, nodes=report.nodes, thresholds=report.thresholds)


sample = first_of_each(big)
sample.plot()
""",
        CLUSTER_TAG,
    ),
    _md("""
Fragmentation: 1 - the largest free aligned block / the free addresses. A single reserved
address at the start of a pool (the subnet-router anycast address, the node's own) leaves its
largest free block half the pool: 50 %.
"""),
    _code("""
sample.plot("fragmentation")
"""),
]


def build() -> Any:
    """The notebook of :data:`CELLS`, not run yet."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for index, (kind, text, tags) in enumerate(CELLS):
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(text)
        else:
            cell = nbformat.v4.new_code_cell(text)
        cell["id"] = f"cell-{index:02d}"  # stable ids: a rebuild changes only what changed
        if tags:
            cell.metadata["tags"] = list(tags)
        nb.cells.append(cell)
    return nb


def run(nb: Any, cwd: Path = HERE) -> Any:
    """Run every cell of ``nb`` in a fresh ``python3`` kernel; raises on the first failing cell."""
    client = NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def write_notebook() -> None:
    """Build, run and store the notebook with its outputs."""
    nb = run(build())
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(HERE.parent.parent)}")


def write_plots() -> None:
    """Run the cells tagged ``cluster`` here, then save the report's two plots as PNGs."""
    scope: dict[str, Any] = {}
    for kind, text, tags in CELLS:
        if kind == "code" and CLUSTER_TAG in tags:
            source = "\n".join(line for line in text.splitlines() if not line.startswith("%"))
            exec(compile(source, f"<cell tagged {CLUSTER_TAG}>", "exec"), scope)
    report = scope["sample"]
    IMAGES.mkdir(exist_ok=True)
    for kind in ("utilization", "fragmentation"):
        path = IMAGES / f"capacity-{kind}.png"
        report.plot(kind).savefig(path, dpi=100, metadata={"Software": None})
        print(f"wrote {path.relative_to(HERE.parent.parent)}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("notebook", "plots"))
    args = parser.parse_args(argv)
    if args.what == "notebook":
        write_notebook()
    else:
        write_plots()
    return 0


if __name__ == "__main__":
    sys.exit(main())
