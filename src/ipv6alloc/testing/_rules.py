"""The kinds served and the API server's rules for them: types, conversion, validation.

Sources (kubernetes/kubernetes, cited for facts and messages):

- ``pkg/apis/core/v1/conversion.go``, ``Convert_v1_NodeSpec_To_core_NodeSpec``: a set
  ``podCIDR`` that differs from ``podCIDRs[0]`` (or comes with no list) replaces the list; the
  reverse conversion writes ``podCIDR`` as ``podCIDRs[0]``. Reused from
  :func:`ipv6alloc.kubernetes._read.stored_pod_cidrs`.
- ``pkg/apis/core/validation/validation.go``, ``ValidateNode``: each ``podCIDRs`` entry a CIDR
  (``IsValidCIDRForLegacyField``, see :mod:`._cidr`), and with more than one entry a dual-stack
  pair (``netutils.IsDualStackCIDRStrings``) of at most two, without duplicates;
  ``ValidateNodeUpdate``: ``podCIDRs`` identical once set, entry by entry (one cause per entry
  that differs), ``providerID`` likewise.
- ``pkg/registry/core/node/strategy.go``: ``ValidateUpdate`` runs ``ValidateNode`` and then
  ``ValidateNodeUpdate``; ``PrepareForUpdate`` keeps the stored ``status`` on the main resource
  and the stored ``spec`` on ``/status``, whose validation is ``ValidateNodeUpdate`` alone.
- KEP-4858 (IP/CIDR validation): with strict validation, a value the old object already held is
  still accepted on update (old nodes keep their lax values).
- ``k8s.io/apimachinery/pkg/api/validation``: names are DNS subdomains
  (``NameIsDNSSubdomain``), and an object without a name or ``generateName`` is refused.

A body whose fields have the wrong JSON types is refused as the decoder refuses it (``json:
cannot unmarshal string into Go struct field NodeSpec.spec.podCIDRs of type []string``); that
text imitates Go's and is not pinned to any release.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ..kubernetes._read import _parse_time, stored_pod_cidrs
from ._cidr import INVALID_CIDR, family, parse_sloppy, strict_problem
from ._status import FieldError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "EVENTS",
    "KINDS",
    "LEASES",
    "NODES",
    "Kind",
    "Shape",
    "convert",
    "decode_problem",
    "json_type",
    "name_errors",
    "object_meta",
    "pod_cidrs",
    "prepare_update",
    "text",
    "validate",
]

_DNS_SUBDOMAIN: Final = re.compile(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
)
_DNS_SUBDOMAIN_MESSAGE: Final = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_FORBIDDEN_PODCIDR: Final = 'node updates may not change podCIDR except from "" to valid'
_FORBIDDEN_PROVIDER: Final = 'node updates may not change providerID except from "" to valid'
_NAME_REQUIRED: Final = "name or generateName is required"
_INT32: Final = 2**31


# -- shapes: the JSON types a kind's fields must have -------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Shape:
    """The JSON type of one field, and Go's name for it (for decoder messages).

    Attributes:
        check: ``object``, ``string``, ``bool``, ``int32``, ``array`` or ``map``.
        go: Go's type name (``[]string``, ``v1.NodeSpec``).
        struct: For an object, its Go struct name (names its fields in messages).
        fields: For an object, the shapes of the fields checked.
        item: For an array or a map, the shape of an element.
    """

    check: str
    go: str
    struct: str = ""
    fields: Mapping[str, Shape] = field(default_factory=dict)
    item: Shape | None = None

    def __repr__(self) -> str:
        return f"Shape({self.check} {self.go})"


_STRING = Shape("string", "string")
_STRINGS = Shape("array", "[]string", item=_STRING)
_OBJECT_META = Shape(
    "object",
    "v1.ObjectMeta",
    "ObjectMeta",
    {
        "name": _STRING,
        "generateName": _STRING,
        "namespace": _STRING,
        "uid": Shape("string", "types.UID"),
        "resourceVersion": _STRING,
        "labels": Shape("map", "map[string]string", item=_STRING),
        "annotations": Shape("map", "map[string]string", item=_STRING),
        "finalizers": _STRINGS,
    },
)
_TAINT = Shape(
    "object",
    "v1.Taint",
    "Taint",
    {"key": _STRING, "value": _STRING, "effect": Shape("string", "v1.TaintEffect")},
)
_NODE_ADDRESS = Shape(
    "object",
    "v1.NodeAddress",
    "NodeAddress",
    {"type": Shape("string", "v1.NodeAddressType"), "address": _STRING},
)
_NODE = Shape(
    "object",
    "v1.Node",
    "Node",
    {
        "metadata": _OBJECT_META,
        "spec": Shape(
            "object",
            "v1.NodeSpec",
            "NodeSpec",
            {
                "podCIDR": _STRING,
                "podCIDRs": _STRINGS,
                "providerID": _STRING,
                "unschedulable": Shape("bool", "bool"),
                "taints": Shape("array", "[]v1.Taint", item=_TAINT),
            },
        ),
        "status": Shape(
            "object",
            "v1.NodeStatus",
            "NodeStatus",
            {"addresses": Shape("array", "[]v1.NodeAddress", item=_NODE_ADDRESS)},
        ),
    },
)
_LEASE = Shape(
    "object",
    "v1.Lease",
    "Lease",
    {
        "metadata": _OBJECT_META,
        "spec": Shape(
            "object",
            "v1.LeaseSpec",
            "LeaseSpec",
            {
                "holderIdentity": _STRING,
                "leaseDurationSeconds": Shape("int32", "int32"),
                "leaseTransitions": Shape("int32", "int32"),
                "acquireTime": Shape("string", "v1.MicroTime"),
                "renewTime": Shape("string", "v1.MicroTime"),
            },
        ),
    },
)
_EVENT = Shape(
    "object",
    "v1.Event",
    "Event",
    {
        "metadata": _OBJECT_META,
        "involvedObject": Shape("object", "v1.ObjectReference", "ObjectReference"),
        "reason": _STRING,
        "message": _STRING,
        "type": _STRING,
        "count": Shape("int32", "int32"),
    },
)


def json_type(value: object) -> str:
    """The JSON type name Go's decoder reports (``string``, ``number``, ``array`` ...)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shape_problem(value: object, shape: Shape, path: str, struct: str) -> str | None:
    if value is None:  # null decodes to the zero value
        return None
    ok = {
        "object": isinstance(value, dict),
        "map": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "bool": isinstance(value, bool),
        "int32": isinstance(value, int | float) and not isinstance(value, bool),
    }[shape.check]
    shown = json_type(value)
    if (
        ok
        and shape.check == "int32"
        and isinstance(value, int | float)
        and not (value == int(value) and -_INT32 <= value < _INT32)
    ):
        ok, shown = False, f"number {json.dumps(value)}"
    if not ok:
        where = f"Go struct field {struct}.{path}" if struct else "Go value"
        return f"json: cannot unmarshal {shown} into {where} of type {shape.go}"
    if isinstance(value, dict) and shape.check == "object":
        for key, child in shape.fields.items():
            problem = _shape_problem(
                value.get(key), child, f"{path}.{key}".lstrip("."), shape.struct
            )
            if problem:
                return problem
    elif isinstance(value, dict) and shape.item is not None:
        for item in value.values():
            problem = _shape_problem(item, shape.item, path, struct)
            if problem:
                return problem
    elif isinstance(value, list) and shape.item is not None:
        for item in value:
            problem = _shape_problem(item, shape.item, path, struct)
            if problem:
                return problem
    return None


# -- the kinds served ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class Kind:
    """A kind the emulator serves.

    Attributes:
        kind: ``Node``, ``Lease``, ``Event``.
        resource: The plural resource name (``nodes``).
        group: The API group (``""`` for core).
        namespaced: Whether objects live in a namespace.
        shape: The JSON types checked when decoding.
        merge_lists: For a strategic merge patch, the lists merged rather than replaced: the
            path of each, with its merge key (None for a list of scalars).
        short_names: kubectl's short names.
    """

    kind: str
    resource: str
    group: str
    namespaced: bool
    shape: Shape
    merge_lists: Mapping[tuple[str, ...], str | None]
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """``v1`` or ``group/v1``."""
        return f"{self.group}/v1" if self.group else "v1"

    def __repr__(self) -> str:
        return f"Kind({self.kind!r})"


_META_LISTS: Final[dict[tuple[str, ...], str | None]] = {
    ("metadata", "finalizers"): None,
    ("metadata", "ownerReferences"): "uid",
}
#: ``k8s.io/api/core/v1/types.go``: ``podCIDRs`` is ``patchStrategy:"merge"``; ``taints`` has
#: no patch strategy (a strategic merge patch replaces it); addresses and conditions merge by
#: ``type``.
NODES: Final = Kind(
    "Node",
    "nodes",
    "",
    False,
    _NODE,
    _META_LISTS
    | {
        ("spec", "podCIDRs"): None,
        ("status", "addresses"): "type",
        ("status", "conditions"): "type",
    },
    ("no",),
)
LEASES: Final = Kind("Lease", "leases", "coordination.k8s.io", True, _LEASE, _META_LISTS)
EVENTS: Final = Kind("Event", "events", "", True, _EVENT, _META_LISTS, ("ev",))
KINDS: Final = {kind.resource: kind for kind in (NODES, LEASES, EVENTS)}


def decode_problem(kind: Kind, obj: object) -> str | None:
    """Why Go's decoder would refuse ``obj`` as a ``kind``, or None.

    >>> decode_problem(NODES, {"spec": {"podCIDRs": "10.0.0.0/24"}})
    'json: cannot unmarshal string into Go struct field NodeSpec.spec.podCIDRs of type []string'
    """
    return _shape_problem(obj, kind.shape, "", "")


# -- reading objects -----------------------------------------------------------------------------


def object_meta(obj: Mapping[str, object]) -> dict[str, object]:
    """``metadata`` of an object, or ``{}``."""
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def text(value: object) -> str:
    """``value`` if it is text, else ``""``."""
    return value if isinstance(value, str) else ""


# -- conversion ----------------------------------------------------------------------------------


def pod_cidrs(node: Mapping[str, object] | None) -> list[str]:
    """``spec.podCIDRs`` of a stored (converted) node; ``[]`` when unset."""
    spec = node.get("spec") if node else None
    listed = spec.get("podCIDRs") if isinstance(spec, dict) else None
    return [item for item in listed if isinstance(item, str)] if isinstance(listed, list) else []


def _micro_time(value: object) -> str | None:
    """A ``MicroTime`` as the server writes it, or None when it is not RFC 3339."""
    moment = _parse_time(value) if isinstance(value, str) else None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def convert(kind: Kind, obj: dict[str, object]) -> str | None:
    """Put a decoded object in stored form, in place; or say why it cannot be decoded.

    A Node's ``podCIDR``/``podCIDRs`` go through the conversion (the singular field wins); a
    Lease's times become ``MicroTime`` text (six fractional digits, UTC, ``Z``).

    >>> node = {"spec": {"podCIDR": "10.0.1.0/24", "podCIDRs": ["10.0.0.0/24"]}}
    >>> convert(NODES, node), node
    (None, {'spec': {'podCIDR': '10.0.1.0/24', 'podCIDRs': ['10.0.1.0/24']}})
    """
    spec = obj.get("spec")
    if kind is NODES and isinstance(spec, dict):
        single = spec.get("podCIDR")
        listed = spec.get("podCIDRs")
        stored = stored_pod_cidrs(
            single if isinstance(single, str) else None,
            listed if isinstance(listed, list) else None,
        )
        spec.pop("podCIDR", None)
        spec.pop("podCIDRs", None)
        if stored:
            spec["podCIDR"] = stored[0]
            spec["podCIDRs"] = list(stored)
    if kind is LEASES and isinstance(spec, dict):
        for key in ("acquireTime", "renewTime"):
            value = spec.get(key)
            if value is not None:
                normal = _micro_time(value)
                if normal is None:
                    return f'parsing time "{value}" as RFC 3339: cannot parse'
                spec[key] = normal
    return None


# -- validation ----------------------------------------------------------------------------------


def name_errors(name: object, generate_name: object) -> list[FieldError]:
    """``ValidateObjectMeta``'s name rules: a name (or ``generateName``), a DNS subdomain."""
    if not name:
        if generate_name:
            return []
        return [FieldError("metadata.name", "FieldValueRequired", None, _NAME_REQUIRED)]
    text = str(name)
    if len(text) > 253:
        return [FieldError.invalid("metadata.name", text, "must be no more than 253 characters")]
    if not _DNS_SUBDOMAIN.fullmatch(text):
        return [FieldError.invalid("metadata.name", text, _DNS_SUBDOMAIN_MESSAGE)]
    return []


def _validate_node(
    node: Mapping[str, object], old: Mapping[str, object] | None, *, strict: bool
) -> list[FieldError]:
    """``ValidateNode``'s podCIDRs rules; values ``old`` held skip the strict checks."""
    errors: list[FieldError] = []
    cidrs = pod_cidrs(node)
    kept = set(pod_cidrs(old))
    parsed = []
    for index, value in enumerate(cidrs):
        cidr = parse_sloppy(value)
        parsed.append(cidr)
        where = f"spec.podCIDRs[{index}]"
        if cidr is None:
            errors.append(FieldError.invalid(where, value, INVALID_CIDR))
        elif strict and value not in kept:
            problem = strict_problem(value)
            if problem:
                errors.append(FieldError.invalid(where, value, problem))
    if len(cidrs) > 1:
        bad = next((index for index, cidr in enumerate(parsed) if cidr is None), None)
        if bad is not None:
            detail = (
                "invalid PodCIDRs. failed to check with dual stack with error:"
                f"invalid CIDR[{bad}]: <nil> (invalid CIDR address: {cidrs[bad]})"
            )
            errors.append(FieldError("spec.podCIDRs", "InternalError", None, detail))
            dual = False
        else:
            dual = {family(cidr) for cidr in parsed if cidr is not None} == {4, 6}
        if not dual or len(cidrs) > 2:
            errors.append(
                FieldError.invalid(
                    "spec.podCIDRs", cidrs, "may specify no more than one CIDR for each IP family"
                )
            )
        seen: set[str] = set()
        for index, value in enumerate(cidrs):
            if value in seen:
                errors.append(FieldError.duplicate(f"spec.podCIDRs[{index}]", value))
            seen.add(value)
    return errors


def _validate_node_update(
    node: Mapping[str, object], old: Mapping[str, object]
) -> list[FieldError]:
    """``ValidateNodeUpdate``: podCIDRs and providerID are write-once."""
    errors: list[FieldError] = []
    before, after = pod_cidrs(old), pod_cidrs(node)
    forbidden = FieldError("spec.podCIDRs", "FieldValueForbidden", None, _FORBIDDEN_PODCIDR)
    if before:
        if len(before) != len(after):
            errors.append(forbidden)
        else:
            errors.extend(forbidden for was, now in zip(before, after, strict=True) if was != now)
    old_spec, new_spec = old.get("spec"), node.get("spec")
    was = old_spec.get("providerID") if isinstance(old_spec, dict) else None
    now = new_spec.get("providerID") if isinstance(new_spec, dict) else None
    if was and was != now:
        errors.append(
            FieldError("spec.providerID", "FieldValueForbidden", None, _FORBIDDEN_PROVIDER)
        )
    return errors


def validate(
    kind: Kind,
    obj: Mapping[str, object],
    old: Mapping[str, object] | None,
    *,
    strict: bool,
    subresource: str = "",
) -> list[FieldError]:
    """The field errors of a create (``old`` None) or an update, in upstream's order."""
    if kind is not NODES:
        return []
    if subresource == "status" and old is not None:
        return _validate_node_update(obj, old)
    errors = _validate_node(obj, old, strict=strict)
    if old is not None:
        errors.extend(_validate_node_update(obj, old))
    return errors


def prepare_update(
    kind: Kind, obj: dict[str, object], old: Mapping[str, object], subresource: str = ""
) -> None:
    """``PrepareForUpdate``: a Node keeps its stored status (main resource) or spec (/status)."""
    if kind is not NODES:
        return
    kept = "spec" if subresource == "status" else "status"
    if kept in old:
        obj[kept] = copy.deepcopy(old[kept])
    else:
        obj.pop(kept, None)
