"""The resource operations, as the API server performs them, independent of HTTP.

Each operation takes a :class:`Route` and returns ``(HTTP code, JSON object)`` or raises
:class:`~._status.ApiError`. The order of the checks is upstream's (``rest.BeforeCreate``,
``rest.BeforeUpdate`` and ``Store.Update`` in ``k8s.io/apiserver/pkg/registry``, and
``handlers/patch.go``): decode, name check, then under the store's lock: existence (404), the
``resourceVersion`` precondition (409, before any validation), ``PrepareForUpdate``, validation
(422); a write that changes nothing is not stored and keeps the resourceVersion.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ._patch import (
    PatchApplyError,
    PatchDocumentError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from ._rules import (
    Kind,
    convert,
    decode_problem,
    json_type,
    name_errors,
    object_meta,
    prepare_update,
    text,
    validate,
)
from ._status import (
    FieldError,
    already_exists,
    bad_request,
    conflict,
    generic,
    internal_error,
    invalid,
    not_found,
    success,
)
from ._watch import Watch, selector

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._store import Store

__all__ = ["MAX_DEPTH", "PATCH_TYPES", "Api", "Route", "parse_json"]

#: The patch content types applied (server-side apply is not emulated: 415).
PATCH_TYPES: Final = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_NAME_CHARS: Final = "bcdfghjklmnpqrstvwxz2456789"  # generateName's alphabet (no vowels)
_DEFAULT_WATCH_SECONDS: Final = 1800
#: The deepest nesting of lists and objects a request body may have.
MAX_DEPTH: Final = 100


@dataclass(frozen=True, slots=True)
class Route:
    """What a request addresses.

    Attributes:
        verb: ``get``, ``list``, ``watch``, ``create``, ``update``, ``patch`` or ``delete``.
        kind: The kind served.
        namespace: The namespace (``""``: cluster-scoped, or every namespace for a list).
        name: The object's name (``""`` for the collection).
        subresource: ``""`` or ``"status"``.
    """

    verb: str
    kind: Kind
    namespace: str = ""
    name: str = ""
    subresource: str = ""

    @property
    def resource(self) -> str:
        """``nodes`` or ``nodes/status``: what faults match."""
        return (
            f"{self.kind.resource}/{self.subresource}" if self.subresource else self.kind.resource
        )


def _no_constant(name: str) -> object:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def _depth(value: object) -> int:
    """How deeply ``value`` nests lists and objects (iteratively: no recursion limit)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        pending.extend((child, level + 1) for child in children if isinstance(child, dict | list))
        deepest = max(deepest, level)
    return deepest


def parse_json(raw: bytes) -> object:
    """The JSON of a request body; ``ApiError`` 400 when it is not JSON (``NaN`` is not).

    Objects nested deeper than :data:`MAX_DEPTH` are refused too (the operations recurse).
    """
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad_request(
            f"couldn't get version/kind; json parse error: {' '.join(str(exc).split())}"
        ) from None
    if _depth(value) > MAX_DEPTH:
        raise bad_request(f"the JSON nests more than {MAX_DEPTH} levels deep")
    return value


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stored_form(kind: Kind, obj: object) -> str | None:
    """Why Go's decoder refuses ``obj`` as a ``kind``; else None, ``obj`` put in stored form.

    In place, for an object: ``kind`` and ``apiVersion`` set, ``metadata`` an object, then
    :func:`~._rules.convert`.
    """
    problem = decode_problem(kind, obj)
    if problem is None and isinstance(obj, dict):
        obj["kind"], obj["apiVersion"] = kind.kind, kind.api_version
        if not isinstance(obj.get("metadata"), dict):
            obj["metadata"] = {}
        problem = convert(kind, obj)
    return problem


def _bare(obj: dict[str, object]) -> dict[str, object]:
    """A list item: the API's list items carry no kind or apiVersion."""
    return {key: value for key, value in obj.items() if key not in ("kind", "apiVersion")}


# -- the operations -------------------------------------------------------------------------------


class Api:
    """The operations on the kinds served, over one :class:`~._store.Store`.

    Args:
        store: The storage.
        strict_cidrs: Whether ``StrictIPCIDRValidation`` is on (Kubernetes 1.36 and later).
    """

    def __init__(self, store: Store, *, strict_cidrs: bool = True) -> None:
        self.store = store
        self.strict_cidrs = strict_cidrs

    # reads

    def get(self, route: Route) -> tuple[int, dict[str, object]]:
        """``GET`` one object."""
        found = self.store.get(route.kind.resource, (route.namespace, route.name))
        if found is None:
            raise not_found(route.kind.resource, route.name, route.kind.group)
        return 200, found

    def list(self, route: Route, query: Mapping[str, str]) -> tuple[int, dict[str, object]]:
        """``GET`` a collection (``fieldSelector``, ``labelSelector``; no paging)."""
        keep = selector(route.kind, query)
        with self.store.lock:
            objects = self.store.items(route.kind.resource, route.namespace or None)
            rv = str(self.store.rv)
        return 200, {
            "kind": f"{route.kind.kind}List",
            "apiVersion": route.kind.api_version,
            "metadata": {"resourceVersion": rv},
            "items": [_bare(obj) for obj in objects if keep(obj)],
        }

    def watch(self, route: Route, query: Mapping[str, str]) -> Watch:
        """Open a watch (``resourceVersion``, ``timeoutSeconds``, selectors)."""
        keep = selector(route.kind, query)
        seconds_text = query.get("timeoutSeconds", "")
        try:
            seconds = float(int(seconds_text)) if seconds_text else _DEFAULT_WATCH_SECONDS
        except ValueError:
            raise bad_request(f"invalid timeoutSeconds: {seconds_text!r}") from None
        rv_text = query.get("resourceVersion", "")
        if rv_text in ("", "0"):
            start = None
        elif rv_text.isascii() and rv_text.isdigit():
            start = int(rv_text)
        else:
            raise bad_request(f'invalid resource version "{rv_text}"')
        return Watch(self.store, route, keep, start, max(seconds, 0.0))

    # writes

    def _decoded(self, route: Route, body: object) -> dict[str, object]:
        kind = route.kind
        if not isinstance(body, dict):
            raise bad_request(
                f"couldn't get version/kind; json parse error: json: cannot unmarshal "
                f"{json_type(body)} into Go value of type struct {{ APIVersion string "
                '"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
            )
        given_kind, given_version = body.get("kind"), body.get("apiVersion")
        if given_kind not in (None, "", kind.kind) or given_version not in (
            None,
            "",
            kind.api_version,
        ):
            raise bad_request(
                f"the body is a {given_kind} of {given_version}, "
                f"not a {kind.kind} of {kind.api_version}"
            )
        body = copy.deepcopy(body)  # stored as is: no part of it may stay the caller's
        problem = _stored_form(kind, body)
        if problem:
            raise bad_request(
                f'{kind.kind} in version "v1" cannot be handled as a {kind.kind}: {problem}'
            )
        return body

    def _check_target(self, route: Route, metadata: dict[str, object]) -> None:
        """An update's object must carry the name (and the namespace) of the URL."""
        if metadata.get("name") != route.name:
            raise bad_request(
                f"the name of the object ({text(metadata.get('name'))}) does not match the "
                f"name on the URL ({route.name})"
            )
        self._check_namespace(route, metadata)

    def _check_namespace(self, route: Route, metadata: dict[str, object]) -> None:
        if not route.kind.namespaced:
            metadata.pop("namespace", None)
            return
        given = metadata.get("namespace")
        if given and given != route.namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        metadata["namespace"] = route.namespace

    def create(
        self, route: Route, body: object, *, validated: bool = True
    ) -> tuple[int, dict[str, object]]:
        """``POST`` a new object (201); ``validated=False`` skips the field rules."""
        kind = route.kind
        obj = self._decoded(route, body)
        metadata = object_meta(obj)
        self._check_namespace(route, metadata)
        if not metadata.get("name") and metadata.get("generateName"):
            suffix = "".join(random.choices(_NAME_CHARS, k=5))
            metadata["name"] = f"{metadata['generateName']}{suffix}"
        name = text(metadata.get("name"))
        errors = name_errors(metadata.get("name"), metadata.get("generateName"))
        if validated:
            errors += validate(kind, obj, None, strict=self.strict_cidrs)
        if errors:
            raise invalid(kind.kind, name, errors, kind.group)
        if metadata.get("resourceVersion"):
            raise internal_error("resourceVersion should not be set on objects to be created")
        with self.store.lock:
            key = (route.namespace, name)
            if self.store.get(kind.resource, key) is not None:
                raise already_exists(kind.resource, name, kind.group)
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = _now()
            for server_owned in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                metadata.pop(server_owned, None)
            self.store.put(kind.resource, key, obj, "ADDED")
            return 201, copy.deepcopy(obj)  # the store owns obj now

    def update(self, route: Route, body: object) -> tuple[int, dict[str, object]]:
        """``PUT`` an object (or its status)."""
        obj = self._decoded(route, body)
        self._check_target(route, object_meta(obj))
        with self.store.lock:
            return self._store_update(route, obj)

    def patch(self, route: Route, content_type: str, raw: bytes) -> tuple[int, dict[str, object]]:
        """``PATCH`` an object (or its status) with one of :data:`PATCH_TYPES`."""
        kind = route.kind
        document = parse_json(raw)
        with self.store.lock:
            current = self.store.get(kind.resource, (route.namespace, route.name))
            if current is None:
                raise not_found(kind.resource, route.name, kind.group)
            try:
                if content_type == "application/json-patch+json":
                    patched = json_patch(current, document)
                elif content_type == "application/merge-patch+json":
                    if not isinstance(document, dict):
                        raise PatchDocumentError("the merge patch is not a JSON object")
                    patched = merge_patch(current, document)
                else:
                    patched = strategic_merge_patch(current, document, kind.merge_lists)
            except PatchDocumentError as exc:
                raise bad_request(str(exc)) from None
            except PatchApplyError:
                raise generic(422) from None
            problem = _stored_form(kind, patched)
            if problem is not None or not isinstance(patched, dict):
                shown = json.dumps(patched, separators=(",", ":"))
                cause = FieldError.invalid("patch", shown, problem or "not an object")
                raise invalid("", "", [cause])
            self._check_target(route, object_meta(patched))
            return self._store_update(route, patched)

    def _store_update(self, route: Route, obj: dict[str, object]) -> tuple[int, dict[str, object]]:
        """The storage half of an update, under the lock: 404, 409, prepare, 422, write."""
        kind = route.kind
        key = (route.namespace, route.name)
        current = self.store.get(kind.resource, key)
        if current is None:
            raise not_found(kind.resource, route.name, kind.group)
        metadata, stored = object_meta(obj), object_meta(current)
        given = metadata.get("resourceVersion")
        if given and given != stored.get("resourceVersion"):
            raise conflict(kind.resource, route.name, kind.group)
        metadata["resourceVersion"] = stored.get("resourceVersion")
        errors: list[FieldError] = []
        if not metadata.get("uid"):
            metadata["uid"] = stored.get("uid")
        elif metadata["uid"] != stored.get("uid"):
            errors.append(
                FieldError.invalid("metadata.uid", text(metadata["uid"]), "field is immutable")
            )
        metadata["creationTimestamp"] = stored.get("creationTimestamp")
        prepare_update(kind, obj, current, route.subresource)
        errors += validate(
            kind, obj, current, strict=self.strict_cidrs, subresource=route.subresource
        )
        if errors:
            raise invalid(kind.kind, route.name, errors, kind.group)
        if obj == current:
            return 200, current
        self.store.put(kind.resource, key, obj, "MODIFIED")
        return 200, copy.deepcopy(obj)  # the store owns obj now

    def delete(self, route: Route, body: object) -> tuple[int, dict[str, object]]:
        """``DELETE`` an object, with the ``preconditions`` of ``DeleteOptions``."""
        kind = route.kind
        preconditions = body.get("preconditions") if isinstance(body, dict) else None
        wanted = preconditions if isinstance(preconditions, dict) else {}
        with self.store.lock:
            key = (route.namespace, route.name)
            current = self.store.get(kind.resource, key)
            if current is None:
                raise not_found(kind.resource, route.name, kind.group)
            stored = object_meta(current)
            for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                if wanted.get(field) and wanted[field] != stored.get(field):
                    detail = (
                        f"Precondition failed: {label} in precondition: {wanted[field]}, "
                        f"{label} in object meta: {stored.get(field)}"
                    )
                    raise conflict(kind.resource, route.name, kind.group, detail)
            self.store.delete(kind.resource, key)
        return 200, success(kind.resource, route.name, text(stored.get("uid")), kind.group)
