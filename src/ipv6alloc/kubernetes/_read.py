"""Reading one Node object: :class:`KubeNode` and :func:`read_node`.

A Node comes in many shapes: a plain mapping (an item of ``kubectl get nodes -o json``, kopf's
``body``, kr8s's ``.raw``), the official client's ``V1Node`` (snake_case attributes, times as
``datetime``) or lightkube's ``Node`` (camelCase attributes, times as ``datetime``). The reader
tells them apart by duck typing and never imports a client library: each field is looked up by
its JSON name (``podCIDRs``) first, then by the official client's attribute names
(``pod_cidrs``; older releases of that client spell it ``pod_cid_rs``).

``spec.podCIDR`` and ``spec.podCIDRs`` are read as the API server stores them. Its conversion
from the versioned object (``Convert_v1_NodeSpec_To_core_NodeSpec`` in
``pkg/apis/core/v1/conversion.go`` of kubernetes/kubernetes) keeps the list unless the singular
field says otherwise: when ``podCIDR`` is set and ``podCIDRs`` is empty, or when both are set
and ``podCIDR`` differs from ``podCIDRs[0]``, the stored list is ``[podCIDR]``; the reverse
conversion then sets ``podCIDR`` to ``podCIDRs[0]``. See :func:`stored_pod_cidrs`.

Fields the allocation depends on must be read exactly, or not at all: a ``kind`` other than
``Node``, a missing ``metadata.name``, or a ``spec``, ``podCIDR`` or ``podCIDRs`` of the wrong
type raise :class:`NodeReadError`. Garbage in the other fields (an address entry that is not a
mapping, an address that is not an IP address, an annotation that is not text) is left out and
noted in :attr:`KubeNode.problems`, one sentence each.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from .._errors import InvalidPrefixError, quote
from .._node import Node
from .._prefix import Prefix, address_text
from ._errors import NodeReadError

if TYPE_CHECKING:
    from .._interface import InterfaceLike

__all__ = [
    "PROVIDED_NODE_IP_ANNOTATION",
    "UNINITIALIZED_TAINT",
    "KubeNode",
    "describe",
    "is_record",
    "read_node",
    "read_one",
    "stored_pod_cidrs",
]

#: The annotation the kubelet sets to the ``--node-ip`` it was given (one IP or a dual-stack
#: pair, comma-separated) when an external cloud provider is to initialize the node.
PROVIDED_NODE_IP_ANNOTATION: Final = "alpha.kubernetes.io/provided-node-ip"
#: The taint a node carries until its cloud controller manager has initialized it.
UNINITIALIZED_TAINT: Final = "node.cloudprovider.kubernetes.io/uninitialized"

#: The address types read from ``status.addresses``, in this order.
_ADDRESS_TYPES = ("InternalIP", "ExternalIP")
#: Sorts after every real time: the sort key of a node without a usable creation time.
_NO_TIME = dt.datetime.max.replace(tzinfo=dt.UTC)
_MISSING: Final = object()
#: Values that are data, not records: a record is a mapping or a client's model object.
_PLAIN = (
    str,
    bytes,
    bytearray,
    bool,
    int,
    float,
    complex,
    list,
    tuple,
    set,
    frozenset,
    dt.date,
    dt.time,
    type(None),
)


# -- the value -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class KubeNode:
    """The facts read from one Node object.

    Build one with :func:`read_node`; the constructor takes the values as read (sequences become
    tuples, ``annotations`` a read-only copy).

    >>> n = KubeNode("worker-1", addresses=("2001:db8::7",), annotations={"a": "b"})
    >>> n
    KubeNode('worker-1', addresses=('2001:db8::7',), annotations={'a': 'b'})
    >>> n.annotations["a"], n.pod_cidrs, n.uninitialized
    ('b', (), False)

    Attributes:
        name: ``metadata.name``.
        uid: ``metadata.uid``, None when not set.
        resource_version: ``metadata.resourceVersion``, None when not set.
        creation_timestamp: ``metadata.creationTimestamp`` as RFC 3339 text (as given in text;
            a client's ``datetime`` is written as ``2024-05-01T10:00:00Z``), None when not set.
        addresses: The node's IP addresses in canonical text: the ``InternalIP`` entries of
            ``status.addresses``, then the ``ExternalIP`` ones, then those of the
            ``alpha.kubernetes.io/provided-node-ip`` annotation; each once.
        pod_cidrs: ``spec.podCIDRs`` as the API server stores it (see
            :func:`stored_pod_cidrs`), the raw text of each entry.
        annotations: ``metadata.annotations``, read-only.
        uninitialized: Whether ``spec.taints`` holds the
            ``node.cloudprovider.kubernetes.io/uninitialized`` taint (no addresses yet: wait).
        deleting: Whether ``metadata.deletionTimestamp`` is set. The node still exists and
            still holds its prefixes.
        problems: Things read but left out, one sentence each.

    Raises:
        NodeReadError: ``name`` is not non-empty text.
    """

    name: str
    uid: str | None = None
    resource_version: str | None = None
    creation_timestamp: str | None = None
    addresses: tuple[str, ...] = ()
    pod_cidrs: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(
        default_factory=lambda: types.MappingProxyType({}), hash=False
    )
    uninitialized: bool = False
    deleting: bool = False
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        name: object = self.name  # checked at run time: names come from untyped data
        if not isinstance(name, str) or not name:
            raise NodeReadError(f"a node name must be non-empty text, not {describe(name)}")
        put = object.__setattr__
        for attribute in ("addresses", "pod_cidrs", "problems"):
            value: object = getattr(self, attribute)
            if type(value) is not tuple:
                if isinstance(value, str) or not isinstance(value, Iterable):
                    raise NodeReadError(
                        f"node {quote(name)}: {attribute} must be a sequence of text, "
                        f"not {describe(value)}"
                    )
                put(self, attribute, tuple(value))
        if not isinstance(self.annotations, types.MappingProxyType):
            put(self, "annotations", types.MappingProxyType(dict(self.annotations)))

    @property
    def sort_key(self) -> tuple[dt.datetime, str]:
        """``(creation time, name)``: sorts nodes oldest first, then by name.

        A node whose creation time is missing or not RFC 3339 sorts after all others.

        >>> old = KubeNode("b", creation_timestamp="2024-01-01T00:00:00Z")
        >>> new = KubeNode("a", creation_timestamp="2024-06-01T00:00:00+02:00")
        >>> [n.name for n in sorted([KubeNode("c"), new, old], key=lambda n: n.sort_key)]
        ['b', 'a', 'c']
        """
        return (_parse_time(self.creation_timestamp) or _NO_TIME, self.name)

    def to_node(self, subnets: Iterable[InterfaceLike] | InterfaceLike = ()) -> Node:
        """The core's :class:`~ipv6alloc.Node`: name, uid, addresses and the given subnets.

        >>> KubeNode("w", uid="5f1c", addresses=("192.0.2.7",)).to_node(["2001:db8::7/64"])
        Node(name='w', addresses=(Prefix('192.0.2.7/32'), Prefix('2001:db8::7/128')), \
subnets=(Interface('2001:db8::7/64'),), uid='5f1c')

        Args:
            subnets: the node's provider subnets in interface form (``address/len``), most
                preferred first, such as :attr:`SubnetLookup.subnets
                <ipv6alloc.kubernetes.SubnetLookup.subnets>`.

        Returns:
            The node, ready for :meth:`~ipv6alloc.NodeAllocator.assign`.

        Raises:
            InvalidPrefixError: a subnet is malformed, or a field was built by hand with a value
                the core refuses.
        """
        return Node.create(self.name, subnets=subnets, addresses=self.addresses, uid=self.uid)

    def __repr__(self) -> str:
        shown = [repr(self.name)]
        for attribute in (
            "uid",
            "resource_version",
            "creation_timestamp",
            "addresses",
            "pod_cidrs",
            "uninitialized",
            "deleting",
            "problems",
        ):
            value = getattr(self, attribute)
            if value:
                shown.append(f"{attribute}={value!r}")
        if self.annotations:
            shown.append(f"annotations={dict(self.annotations)!r}")
        return f"KubeNode({', '.join(shown)})"


def stored_pod_cidrs(pod_cidr: str | None, pod_cidrs: Iterable[str] | None) -> tuple[str, ...]:
    """``spec.podCIDRs`` as the API server stores it, from the two fields as sent.

    The singular field wins when they disagree (``Convert_v1_NodeSpec_To_core_NodeSpec`` in
    kubernetes/kubernetes ``pkg/apis/core/v1/conversion.go``): a set ``podCIDR`` with an empty
    list, or one that differs from the list's first entry, replaces the whole list.

    >>> stored_pod_cidrs("10.0.0.0/24", ["10.0.0.0/24", "2001:db8::/80"])
    ('10.0.0.0/24', '2001:db8::/80')
    >>> stored_pod_cidrs("10.0.1.0/24", ["10.0.0.0/24", "2001:db8::/80"])
    ('10.0.1.0/24',)
    >>> stored_pod_cidrs("10.0.1.0/24", None), stored_pod_cidrs(None, ["2001:db8::/80"])
    (('10.0.1.0/24',), ('2001:db8::/80',))
    """
    listed = tuple(pod_cidrs or ())
    if pod_cidr and (not listed or listed[0] != pod_cidr):
        return (pod_cidr,)
    return listed


# -- reading one node ----------------------------------------------------------------------------


def read_node(obj: object) -> KubeNode:
    """Read one Node: a mapping, an official-client ``V1Node`` or a lightkube ``Node``.

    Runtime complexity: O(size of the object's addresses, taints and annotations).

    >>> node = read_node({
    ...     "kind": "Node",
    ...     "metadata": {"name": "w1", "annotations": {
    ...         "alpha.kubernetes.io/provided-node-ip": "10.0.0.5,2001:db8::5"}},
    ...     "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
    ...     "status": {"addresses": [{"type": "Hostname", "address": "w1"},
    ...                              {"type": "InternalIP", "address": "10.0.0.5"}]},
    ... })
    >>> node.addresses, node.pod_cidrs
    (('10.0.0.5', '2001:db8::5'), ('10.244.1.0/24',))
    >>> read_node({"kind": "Pod", "metadata": {"name": "web"}})
    Traceback (most recent call last):
    ...
    ipv6alloc.kubernetes.NodeReadError: the object (name 'web') is not a Node: its kind is 'Pod'

    Args:
        obj: the Node, in any of the shapes above.

    Returns:
        The facts read from it.

    Raises:
        NodeReadError: ``obj`` is not a Node (another ``kind``, not a mapping or model object),
            has no ``metadata.name``, or has a ``spec``, ``spec.podCIDR`` or ``spec.podCIDRs``
            of the wrong type. The message names the node.
    """
    return read_one(obj, "")


def read_one(obj: object, where: str) -> KubeNode:
    """Read one node; ``where`` names it in messages (``"item 3"``, or ``""`` for the object).

    Raises:
        NodeReadError: as :func:`read_node`.
    """
    if not is_record(obj):
        raise NodeReadError(f"{where or 'the object'} is not a Node: got {describe(obj)}")
    metadata = _get(obj, "metadata")
    name = _get(metadata, "name") if is_record(metadata) else None
    known = name if isinstance(name, str) and name else None
    kind = _get(obj, "kind")
    if kind is not None and kind not in ("", "Node"):  # a tuple: kind may be unhashable
        named = f" (name {quote(known)})" if known else ""
        raise NodeReadError(
            f"{where or 'the object'}{named} is not a Node: its kind is {describe(kind)}"
        )
    if known is None:
        subject = where or "the object"
    else:
        subject = f"{where} (node {quote(known)})" if where else f"node {quote(known)}"
    if metadata is None:
        raise NodeReadError(f"{subject} has no metadata, so no metadata.name")
    if not is_record(metadata):
        raise NodeReadError(f"{subject}: metadata must be a mapping, not {describe(metadata)}")
    if known is None:
        shown = "is missing" if name is None else f"must be non-empty text, not {describe(name)}"
        raise NodeReadError(f"{subject}: metadata.name {shown}")
    name = known

    problems: list[str] = []
    uid = _text_field(metadata, "metadata.uid", ("uid",), problems)
    resource_version = _text_field(
        metadata, "metadata.resourceVersion", ("resourceVersion", "resource_version"), problems
    )
    created = _time_field(
        metadata,
        "metadata.creationTimestamp",
        ("creationTimestamp", "creation_timestamp"),
        problems,
    )
    deleting = _deleting(metadata, problems)
    annotations = _annotations(metadata, problems)
    pod_cidrs, uninitialized = _spec(obj, subject, problems)
    addresses = _addresses(obj, annotations, problems)
    return KubeNode(
        name,
        uid,
        resource_version,
        created,
        addresses,
        pod_cidrs,
        types.MappingProxyType(annotations),
        uninitialized,
        deleting,
        tuple(problems),
    )


def _spec(obj: object, subject: str, problems: list[str]) -> tuple[tuple[str, ...], bool]:
    """``(stored podCIDRs, uninitialized)`` from ``spec``; NodeReadError for a bad podCIDR."""
    spec = _get(obj, "spec")
    if spec is None:
        return (), False
    if not is_record(spec):
        raise NodeReadError(f"{subject}: spec must be a mapping, not {describe(spec)}")
    pod_cidr = _get(spec, "podCIDR", "pod_cidr")
    if pod_cidr is not None and not isinstance(pod_cidr, str):
        raise NodeReadError(f"{subject}: spec.podCIDR must be text, not {describe(pod_cidr)}")
    listed = _get(spec, "podCIDRs", "pod_cidrs", "pod_cid_rs")
    if listed is not None:
        if not isinstance(listed, list | tuple):
            raise NodeReadError(
                f"{subject}: spec.podCIDRs must be a list of text, not {describe(listed)}"
            )
        for index, entry in enumerate(listed):
            if not isinstance(entry, str):
                raise NodeReadError(
                    f"{subject}: spec.podCIDRs[{index}] must be text, not {describe(entry)}"
                )
    pod_cidrs = stored_pod_cidrs(pod_cidr, listed)
    return pod_cidrs, _uninitialized(spec, problems)


def _uninitialized(spec: object, problems: list[str]) -> bool:
    taints = _get(spec, "taints")
    if taints is None:
        return False
    if not isinstance(taints, list | tuple):
        problems.append(f"spec.taints is {describe(taints)}, not a list; ignored.")
        return False
    found = False
    for index, taint in enumerate(taints):
        if not is_record(taint):
            problems.append(f"spec.taints[{index}] is {describe(taint)}, not a taint; ignored.")
            continue
        key = _get(taint, "key")
        if not isinstance(key, str):
            problems.append(f"spec.taints[{index}] has key {describe(key)}, not text; ignored.")
        elif key == UNINITIALIZED_TAINT:
            found = True
    return found


def _addresses(obj: object, annotations: Mapping[str, str], problems: list[str]) -> tuple[str, ...]:
    """The node's addresses: InternalIP, ExternalIP, then provided-node-ip; each once."""
    by_type: dict[str, list[str]] = {kind: [] for kind in _ADDRESS_TYPES}
    status = _get(obj, "status")
    entries: object = None
    if status is not None and not is_record(status):
        problems.append(f"status is {describe(status)}, not a mapping; its addresses are ignored.")
    elif status is not None:
        entries = _get(status, "addresses")
    if entries is not None and not isinstance(entries, list | tuple):
        problems.append(f"status.addresses is {describe(entries)}, not a list; ignored.")
        entries = None
    for index, entry in enumerate(entries or ()):
        where = f"status.addresses[{index}]"
        if not is_record(entry):
            problems.append(f"{where} is {describe(entry)}, not an address entry; ignored.")
            continue
        kind = _get(entry, "type")
        if not isinstance(kind, str):
            problems.append(f"{where} has type {describe(kind)}, not text; ignored.")
            continue
        if kind in by_type:
            text = _address(_get(entry, "address"), f"{where} ({kind})", problems)
            if text is not None:
                by_type[kind].append(text)
    provided: list[str] = []
    value = annotations.get(PROVIDED_NODE_IP_ANNOTATION)
    if value is not None:
        where = f"annotation {PROVIDED_NODE_IP_ANNOTATION}"
        for piece in value.split(","):
            entry = piece.strip()
            text = _address(entry, where, problems) if entry else None
            if text is not None:
                provided.append(text)
    # Each once, where first found.
    return tuple(dict.fromkeys((*by_type["InternalIP"], *by_type["ExternalIP"], *provided)))


def _address(value: object, where: str, problems: list[str]) -> str | None:
    """The canonical text of one IP address, or None (and a problem) when it is not one."""
    if not isinstance(value, str):
        problems.append(f"{where} has address {describe(value)}, not text; ignored.")
        return None
    try:
        prefix = Prefix.from_address(value)
    except InvalidPrefixError:
        problems.append(f"{where} address {quote(value)} is not an IP address; ignored.")
        return None
    return address_text(prefix.version, prefix.value)


def _annotations(metadata: object, problems: list[str]) -> dict[str, str]:
    annotations = _get(metadata, "annotations")
    if annotations is None:
        return {}
    if not isinstance(annotations, Mapping):
        problems.append(f"metadata.annotations is {describe(annotations)}, not a mapping; ignored.")
        return {}
    copied: dict[str, str] = {}
    for key, value in annotations.items():
        if not isinstance(key, str):
            problems.append(f"annotation key {describe(key)} is not text; ignored.")
        elif not isinstance(value, str):
            problems.append(f"annotation {quote(key)} is {describe(value)}, not text; ignored.")
        else:
            copied[key] = value
    return copied


def _deleting(metadata: object, problems: list[str]) -> bool:
    value = _get(metadata, "deletionTimestamp", "deletion_timestamp")
    if value is None or value == "":
        return False
    if not isinstance(value, str | dt.datetime):
        problems.append(
            f"metadata.deletionTimestamp is {describe(value)}, not a time; read as set."
        )
    return True


def _text_field(
    record: object, what: str, names: tuple[str, ...], problems: list[str]
) -> str | None:
    value = _get(record, *names)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problems.append(f"{what} is {describe(value)}, not text; ignored.")
        return None
    return value


def _time_field(
    record: object, what: str, names: tuple[str, ...], problems: list[str]
) -> str | None:
    """A time as RFC 3339 text: text as given, a client's ``datetime`` written out."""
    value = _get(record, *names)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _format_time(value)
    if not isinstance(value, str):
        problems.append(f"{what} is {describe(value)}, not a time; ignored.")
        return None
    if _parse_time(value) is None:
        problems.append(f"{what} {quote(value)} is not an RFC 3339 time; the node sorts last.")
    return value


def _format_time(value: dt.datetime) -> str:
    """RFC 3339 text as the API server writes it (``...Z``); a naive time counts as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    fraction = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    return value.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _parse_time(text: str | None) -> dt.datetime | None:
    """An aware datetime from RFC 3339 text, or None: no time, not a time, or no UTC offset."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


# -- duck typing ---------------------------------------------------------------------------------


def is_record(value: object) -> bool:
    """Whether ``value`` holds fields: a mapping, or a client's model object.

    >>> is_record({}), is_record([]), is_record("metadata")
    (True, False, False)
    """
    return isinstance(value, Mapping) or not isinstance(value, _PLAIN)


def _get(record: object, *names: str) -> object:
    """The first of ``names`` that ``record`` holds (a key or an attribute), or None."""
    if isinstance(record, Mapping):
        for name in names:
            value = record.get(name, _MISSING)
            if value is not _MISSING:
                return value
        return None
    if isinstance(record, _PLAIN):
        return None
    for name in names:
        value = getattr(record, name, _MISSING)
        if value is not _MISSING:
            return value
    return None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def describe(value: object) -> str:
    """A value for a message: quoted text, ``null``, or a type and a short quote.

    >>> describe("x"), describe(None), describe(5), describe([1, 2]), describe(object())
    ("'x'", 'null', "int '5'", 'a list of 2 items', 'a value of type object')
    """
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return f"a mapping of {_count(len(value), 'key')}"
    if isinstance(value, list | tuple):
        return f"a list of {_count(len(value), 'item')}"
    if isinstance(value, bool | int | float):
        return f"{type(value).__name__} {quote(value)}"
    return f"a value of type {type(value).__name__}"
