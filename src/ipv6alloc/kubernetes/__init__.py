"""ipv6alloc.kubernetes: read Kubernetes Nodes and find each node's provider subnets.

An edge of the library: it builds on the core (:mod:`ipv6alloc`), which never imports it. It
loads only the standard library and the core; the optional libraries are imported inside the
functions that need them (PyYAML, only for text that is not JSON: ``pip install
'ipv6alloc[kubernetes]'``). No client library is needed: a Node is read from a plain mapping
(``kubectl get nodes -o json``, kopf's ``body``, kr8s's ``.raw``), the official client's
``V1Node`` or lightkube's ``Node``, by duck typing.

Reading nodes:

- :func:`read_node` reads one Node into a :class:`KubeNode` (name, uid, resourceVersion,
  creation time, addresses, ``spec.podCIDRs`` as stored, annotations, the uninitialized
  taint, ``deletionTimestamp``, and the problems met on the way);
- :func:`read_nodes` reads a NodeList, a ``kind: List``, a single Node or a list of Nodes;
  :func:`parse_nodes` reads them from JSON or YAML text, :func:`load_nodes` from a file or
  standard input (``"-"``);
- :class:`NodeReadError` says which item is not a Node, and why.

Finding provider subnets:

- :class:`AnnotationSource` (the ``ipv6alloc.io/node-subnets`` annotation by default),
  :class:`ProviderMap` (on-link lengths and policies per provider prefix, from JSON or YAML)
  and :class:`CallableSource` (any function) implement :class:`SubnetSource`;
- :func:`find_subnets` asks them in order and returns a :class:`SubnetLookup`: ``"ok"``,
  ``"wait"`` (a source failed: never fall back to the cluster pool, podCIDRs are write-once)
  or ``"error"`` (:class:`SubnetSourceError`: malformed data).

Planning:

- :func:`plan` decides what every node should hold under the API server's rules and returns a
  :class:`Plan`: one :class:`NodePlan` per node (``keep``, ``adopt``, ``assign`` with its
  patch bodies, ``conflict``, ``wait``, ``error`` or ``release``), each with a one-line reason.

>>> from ipv6alloc.kubernetes import AnnotationSource, find_subnets, parse_nodes
>>> [node] = parse_nodes('''{"kind": "Node", "metadata": {"name": "w1", "annotations":
...     {"ipv6alloc.io/node-subnets": "2a02:a:152:202::100/121"}}}''')
>>> find_subnets(node, [AnnotationSource()]).subnets
(Interface('2a02:a:152:202::100/121'),)
"""

from .._errors import show_as as _show_as
from ._apply import ApplyResult, NodeOutcome, NodeWriter, Outcome, RetryPolicy, apply
from ._controller import Controller, Reconciler, lead
from ._errors import NodeReadError, SubnetSourceError
from ._load import load_nodes, parse_nodes, read_nodes
from ._plan import ACTIONS, DEFAULT_SOURCES, Action, NodePlan, Plan, plan
from ._providers import ProviderMap
from ._read import KubeNode, read_node
from ._sources import (
    DEFAULT_SUBNET_ANNOTATION,
    AnnotationSource,
    CallableSource,
    SubnetLookup,
    SubnetSource,
    find_subnets,
)

__all__ = [
    "ACTIONS",
    "DEFAULT_SOURCES",
    "DEFAULT_SUBNET_ANNOTATION",
    "Action",
    "AnnotationSource",
    "ApplyResult",
    "CallableSource",
    "Controller",
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

# Show the public classes here in reprs and tracebacks (``ipv6alloc.kubernetes.KubeNode``,
# ``ipv6alloc.kubernetes.NodeReadError``), as the core does for its own. The package imports every
# module before this runs, so no module needs to set its own.
_show_as(__name__, globals(), __all__)
