"""The Kubernetes commands of the ``ipv6alloc`` command line: ``ipv6alloc plan``.

:mod:`ipv6alloc._cli` registers the commands and loads this module only when one of them runs,
so ``ipv6alloc demo`` never loads the Kubernetes edge. The cluster's settings are flags named
as kube-controller-manager names them (``--cluster-cidr``, ``--node-cidr-mask-size-ipv6``,
``--service-cluster-ip-range``), plus this project's own (``--policy``, ``--provider-map``, ...):
:func:`add_cluster_flags` adds them to a parser, :func:`build_allocator` turns them into a
:class:`~ipv6alloc.NodeAllocator` and the subnet sources, for every command that needs them.

Exit status of a command: 0 when every node is fine (``wait`` is not a failure), 1 when a node
is in ``conflict`` or ``error``, 2 for bad input or configuration, with one line on standard
error naming the problem (argparse's usage errors exit 2 as well).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .._demo import DEMO_CLUSTER
from .._errors import ConfigurationError, Ipv6AllocError
from .._node_allocator import NodeAllocator
from .._policy import SafePolicy, TalosPolicy
from ._example import example_nodes
from ._load import load_nodes, read_nodes
from ._plan import Plan, plan
from ._providers import ProviderMap
from ._sources import DEFAULT_SUBNET_ANNOTATION, AnnotationSource
from ._text import one_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from .._interface import Policy
    from ._read import KubeNode
    from ._sources import SubnetSource

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "add_cluster_flags",
    "add_plan_arguments",
    "build_allocator",
    "run_plan",
]

#: Every node is fine (nodes that wait included).
EXIT_OK: Final = 0
#: Some node is in ``conflict`` or ``error``.
EXIT_FAILED: Final = 1
#: Bad input or configuration (argparse uses 2 for usage errors too).
EXIT_USAGE: Final = 2

#: ``--policy`` names and the policy each builds.
_POLICIES: Final[dict[str, Callable[[], Policy]]] = {"safe": SafePolicy, "talos": TalosPolicy}
#: Upstream's node mask defaults (kube-controller-manager): IPv4 /24, IPv6 /64.
_DEFAULT_MASKS: Final = {4: 24, 6: 64}
#: Messages are one line; long ones are cut only far beyond any real one.
_MESSAGE_LIMIT: Final = 2000


def _comma_list(text: str) -> list[str]:
    """One flag value, split at commas: ``"10.0.0.0/16, fd00::/48"`` gives two entries.

    >>> _comma_list("10.0.0.0/16,fd00::/48")
    ['10.0.0.0/16', 'fd00::/48']

    Raises:
        argparse.ArgumentTypeError: an entry is empty (``"10.0.0.0/16,"``).
    """
    entries = [piece.strip() for piece in text.split(",")]
    if not all(entries):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty entry")
    return entries


def add_cluster_flags(parser: argparse.ArgumentParser) -> None:
    """Add the cluster's settings as flags: what :func:`build_allocator` reads.

    ``--cluster-cidr``, ``--service-cluster-ip-range`` and ``--reserve`` may be given several
    times, and each value may hold several comma-separated entries, as kube-controller-manager
    takes ``--cluster-cidr=10.0.0.0/16,fd00::/48``. The node masks default to None here:
    :func:`build_allocator` fills in the defaults.

    >>> parser = argparse.ArgumentParser()
    >>> add_cluster_flags(parser)
    >>> parser.parse_args(["--cluster-cidr", "fd00::/48,10.0.0.0/16"]).cluster_cidr
    ['fd00::/48', '10.0.0.0/16']

    Args:
        parser: the parser (or argument group) of a command.
    """
    group = parser.add_argument_group("cluster settings (kube-controller-manager's names)")
    group.add_argument(
        "--cluster-cidr",
        action="extend",
        type=_comma_list,
        metavar="CIDR",
        help="a cluster pod CIDR, at most one per family; repeatable or comma-separated, in "
        "podCIDRs order. The IPv6 one is the fallback for nodes without a provider subnet",
    )
    group.add_argument(
        "--node-cidr-mask-size-ipv4",
        type=int,
        metavar="N",
        help="prefix length of each node's IPv4 pod CIDR (default 24)",
    )
    group.add_argument(
        "--node-cidr-mask-size-ipv6",
        type=int,
        metavar="N",
        help="prefix length of each node's IPv6 pod CIDR from the IPv6 cluster CIDR "
        "(default 64, 80 for the example cluster); the policy sizes prefixes in provider "
        "subnets",
    )
    group.add_argument(
        "--service-cluster-ip-range",
        action="extend",
        type=_comma_list,
        metavar="CIDR",
        help="a service CIDR, kept out of every pod CIDR; repeatable or comma-separated",
    )
    own = parser.add_argument_group("ipv6alloc settings")
    own.add_argument(
        "--policy",
        choices=tuple(_POLICIES),
        default="safe",
        help="mask policy for provider subnets: safe (SafePolicy, the default) or talos "
        "(TalosPolicy, the reference tool's table)",
    )
    own.add_argument(
        "--subnet-annotation",
        default=DEFAULT_SUBNET_ANNOTATION,
        metavar="KEY",
        help="annotation holding each node's provider subnets "
        f"(default {DEFAULT_SUBNET_ANNOTATION})",
    )
    own.add_argument(
        "--provider-map",
        metavar="FILE",
        help="provider map (JSON or YAML): on-link lengths and policies per provider prefix; "
        "asked after the annotation",
    )
    own.add_argument(
        "--reserve",
        action="extend",
        type=_comma_list,
        metavar="CIDR",
        help="a prefix or address to keep out of pod CIDRs; repeatable or comma-separated",
    )
    own.add_argument(
        "--placement",
        choices=("next-fit", "lowest"),
        default="next-fit",
        help="where in a pool the next prefix goes: next-fit (Kubernetes' order, the default) "
        "or lowest",
    )
    own.add_argument(
        "--no-fallback",
        action="store_false",
        dest="fallback",
        help="a node without a usable provider subnet is an error, instead of getting IPv6 "
        "from the IPv6 cluster CIDR",
    )


def build_allocator(
    args: argparse.Namespace, *, example: bool = False
) -> tuple[NodeAllocator, tuple[SubnetSource, ...]]:
    """The node allocator and the subnet sources the flags of :func:`add_cluster_flags` ask for.

    The sources are the annotation (``--subnet-annotation``), then the provider map
    (``--provider-map``) if given. With a provider map, the allocator's policy is the map's
    :meth:`~ipv6alloc.kubernetes.ProviderMap.policy`, and ``--policy`` covers the subnets no
    entry names a policy for. Runtime complexity: that of reading the provider map and of
    building the allocator.

    >>> parser = argparse.ArgumentParser()
    >>> add_cluster_flags(parser)
    >>> build_allocator(parser.parse_args(["--cluster-cidr", "10.0.0.0/16,fd00::/48"]))
    (NodeAllocator(2 cluster pools, 0 nodes, policy=SafePolicy()), \
(AnnotationSource('ipv6alloc.io/node-subnets'),))
    >>> build_allocator(parser.parse_args([]))
    Traceback (most recent call last):
    ...
    ipv6alloc.ConfigurationError: --cluster-cidr is required: the cluster's pod CIDRs, \
such as --cluster-cidr 10.0.0.0/16,fd00::/48

    Args:
        args: the parsed flags.
        example: without ``--cluster-cidr``, use the built-in example cluster's settings
            (its cluster CIDRs, node masks 24 and 80, and service CIDRs) instead of failing.
            Flags that are given still win.

    Returns:
        ``(allocator, sources)``: a new allocator holding no node, and the sources in the
        order to ask them.

    Raises:
        ConfigurationError: no ``--cluster-cidr`` (unless ``example``), settings the
            allocator refuses (two cluster CIDRs of one family, a node mask its cluster CIDR
            cannot hold), or a provider map that is not valid.
        InvalidPrefixError: a CIDR that is not a valid prefix.
        OSError: the provider map cannot be read.
    """
    cluster_cidrs: list[str] = list(args.cluster_cidr or ())
    services: list[str] | None = args.service_cluster_ip_range
    masks = dict(_DEFAULT_MASKS)
    if not cluster_cidrs:
        if not example:
            raise ConfigurationError(
                "--cluster-cidr is required: the cluster's pod CIDRs, such as "
                "--cluster-cidr 10.0.0.0/16,fd00::/48"
            )
        cluster_cidrs = list(DEMO_CLUSTER.cluster_cidrs)
        masks = dict(DEMO_CLUSTER.node_mask)
        if services is None:
            services = list(DEMO_CLUSTER.service_cidrs)
    if args.node_cidr_mask_size_ipv4 is not None:
        masks[4] = args.node_cidr_mask_size_ipv4
    if args.node_cidr_mask_size_ipv6 is not None:
        masks[6] = args.node_cidr_mask_size_ipv6
    policy = _POLICIES[args.policy]()
    sources: list[SubnetSource] = [AnnotationSource(args.subnet_annotation)]
    if args.provider_map is not None:
        providers = ProviderMap.load(Path(args.provider_map))
        policy = providers.policy(default=policy)
        sources.append(providers)
    allocator = NodeAllocator(
        cluster_cidrs,
        node_mask=masks,
        policy=policy,
        service_cidrs=services or (),
        reserved=args.reserve or (),
        placement=args.placement,
        fallback=args.fallback,
    )
    return allocator, tuple(sources)


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``ipv6alloc plan``: ``-f``, ``-o`` and the cluster flags.

    >>> parser = argparse.ArgumentParser(prog="ipv6alloc plan")
    >>> add_plan_arguments(parser)
    >>> args = parser.parse_args(["-f", "-", "-o", "patch", "--cluster-cidr", "fd00::/48"])
    >>> args.file, args.output, args.cluster_cidr
    ('-', 'patch', ['fd00::/48'])

    Args:
        parser: the command's parser.
    """
    parser.add_argument(
        "-f",
        "--filename",
        dest="file",
        metavar="FILE",
        help="nodes to plan, JSON or YAML (kubectl get nodes -o json|yaml: a List, a NodeList "
        "or one Node); - reads standard input. Without it, the built-in example cluster",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=("table", "json", "patch"),
        default="table",
        help="table (default): one row per node; json: the plan; patch: one JSON line per "
        "node to write, {name, patch}, for kubectl patch --type merge",
    )
    add_cluster_flags(parser)


def run_plan(args: argparse.Namespace) -> int:
    """Run ``ipv6alloc plan``: plan the nodes and print the plan; returns the exit status.

    Only the plan goes to standard output; a problem with the input or the settings is one
    line on standard error, ``ipv6alloc plan: error: ...``. Runtime complexity: that of
    :func:`~ipv6alloc.kubernetes.plan`.

    Args:
        args: the arguments :func:`add_plan_arguments` parsed.

    Returns:
        :data:`EXIT_OK`, :data:`EXIT_FAILED` (a node in ``conflict`` or ``error``) or
        :data:`EXIT_USAGE` (bad input or configuration).
    """
    try:
        allocator, sources = build_allocator(args, example=args.file is None)
        nodes = _nodes(args.file)
    except (Ipv6AllocError, OSError, UnicodeError) as exc:
        return _fail("ipv6alloc plan", exc)
    result = plan(nodes, allocator, sources=sources)
    if args.output == "json":
        print(json.dumps(result.to_dict(), indent=2))
    elif args.output == "patch":
        for node in result.writes:
            body = {"name": node.name, "patch": node.merge_patch}
            print(json.dumps(body, separators=(",", ":")))
    else:
        print(_table(result))
    return EXIT_OK if result.ok else EXIT_FAILED


def _nodes(file: str | None) -> list[KubeNode]:
    """The nodes of ``file`` (``-``: standard input), or the example cluster's without one."""
    if file is None:
        return read_nodes(example_nodes())
    return load_nodes(file)


def _table(result: Plan) -> str:
    """The plan's table, its warnings (if any) and a summary line: ``5 nodes: 5 assign``."""
    lines = [str(result)]
    warned = [(node.name, text) for node in result for text in node.warnings]
    if warned:
        lines.append("warnings:")
        lines.extend(f"  {name}: {text}" for name, text in warned)
    counts = ", ".join(f"{n} {action}" for action, n in result.summary().items() if n)
    total = f"{len(result)} node{'' if len(result) == 1 else 's'}"
    lines.append(f"{total}: {counts}" if counts else total)
    return "\n".join(lines)


def _fail(command: str, exc: BaseException) -> int:
    """Print ``COMMAND: error: MESSAGE`` on one line of standard error; returns 2."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename:
        message = f"{exc.filename}: {exc.strerror}"
    else:
        message = str(exc) or type(exc).__name__
    print(f"{command}: error: {one_line(message, _MESSAGE_LIMIT)}", file=sys.stderr)
    return EXIT_USAGE
