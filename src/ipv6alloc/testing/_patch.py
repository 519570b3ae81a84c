"""The three patch formats of a PATCH request, applied to plain JSON data.

- JSON merge patch (RFC 7386, ``application/merge-patch+json``): objects merge recursively, a
  ``null`` deletes a key, anything else (lists included) replaces.
- Strategic merge patch (``application/strategic-merge-patch+json``, the rules of
  ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``): as a merge patch, except for the
  lists a kind declares ``patchStrategy:"merge"``: a list of scalars becomes the union of both
  (the original's order first, each value once; an empty list changes nothing), a list of
  objects merges element by element on its merge key. Directives: ``$patch: replace`` and
  ``$patch: delete`` in an object or a merged list element, ``$deleteFromPrimitiveList/<key>``;
  ``$setElementOrder/<key>`` and ``$retainKeys`` are accepted and ignored.
- JSON patch (RFC 6902, ``application/json-patch+json``): ``add``, ``remove``, ``replace``,
  ``move``, ``copy`` and ``test`` with RFC 6901 pointers. A failing operation (a ``test`` that
  does not hold, a path that does not exist) raises :class:`PatchApplyError`, which the API server
  answers with 422 and a generic message (``NewGenericServerResponse`` in
  ``k8s.io/apiserver/pkg/endpoints/handlers/patch.go``); a patch that is not a list of
  operations raises :class:`PatchDocumentError` (400).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "MAX_OPERATIONS",
    "PatchApplyError",
    "PatchDocumentError",
    "json_equal",
    "json_patch",
    "merge_patch",
    "strategic_merge_patch",
]

#: ``maxJSONPatchOperations`` of the API server.
MAX_OPERATIONS: Final = 10000


class PatchDocumentError(ValueError):
    """The patch document itself is malformed (answered with 400)."""


class PatchApplyError(ValueError):
    """The patch does not apply to the object (answered with 422)."""


def json_equal(a: object, b: object) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``, objects ignore key order.

    >>> json_equal({"a": [1, True]}, {"a": [1.0, True]}), json_equal(True, 1)
    (True, False)
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


# -- JSON merge patch ---------------------------------------------------------------------------


def merge_patch(target: object, patch: object) -> object:
    """RFC 7386: ``patch`` merged into a copy of ``target``.

    >>> merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": [4]}})
    {'a': 1, 'b': {'d': 3, 'e': [4]}}
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch ----------------------------------------------------------------------

_DIRECTIVE: Final = "$patch"
_DELETE_FROM: Final = "$deleteFromPrimitiveList/"
_IGNORED: Final = ("$setElementOrder/", "$retainKeys")


def strategic_merge_patch(
    target: object, patch: object, lists: Mapping[tuple[str, ...], str | None]
) -> object:
    """A strategic merge patch: ``patch`` merged into a copy of ``target``.

    ``lists`` names the lists merged rather than replaced, by path, with their merge key (None
    for scalars).

    >>> lists = {("spec", "podCIDRs"): None}
    >>> node = {"spec": {"podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a"}]}}
    >>> strategic_merge_patch(node, {"spec": {"podCIDRs": ["2001:db8::/64"], "taints": []}}, lists)
    {'spec': {'podCIDRs': ['10.0.0.0/24', '2001:db8::/64'], 'taints': []}}

    Raises:
        PatchDocumentError: the patch is not an object, or an element of a merged list lacks its
            merge key.
    """
    if not isinstance(patch, dict):
        raise PatchDocumentError(
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
            if isinstance(patch, list)
            else "the patch is not a JSON object"
        )
    return _merge_map(target if isinstance(target, dict) else {}, patch, (), lists)


def _merge_map(
    target: dict[str, object],
    patch: dict[str, object],
    path: tuple[str, ...],
    lists: Mapping[tuple[str, ...], str | None],
) -> dict[str, object]:
    directive = patch.get(_DIRECTIVE)
    if directive == "replace":
        return {
            key: copy.deepcopy(value)
            for key, value in patch.items()
            if key != _DIRECTIVE and value is not None
        }
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if key == _DIRECTIVE or key.startswith(_IGNORED):
            continue
        if key.startswith(_DELETE_FROM):
            name = key.removeprefix(_DELETE_FROM)
            current = result.get(name)
            if isinstance(current, list) and isinstance(value, list):
                result[name] = [item for item in current if item not in value]
            continue
        here = (*path, key)
        current = result.get(key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            if value.get(_DIRECTIVE) == "delete":
                result.pop(key, None)
            else:
                result[key] = _merge_map(
                    current if isinstance(current, dict) else {}, value, here, lists
                )
        elif isinstance(value, list) and here in lists:
            result[key] = _merge_list(
                current if isinstance(current, list) else [], value, lists[here]
            )
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_list(current: list[object], patch: list[object], merge_key: str | None) -> list[object]:
    if merge_key is None:
        merged: list[object] = []
        for item in [*current, *patch]:
            if not any(json_equal(item, seen) for seen in merged):
                merged.append(copy.deepcopy(item))
        return merged
    if any(isinstance(item, dict) and item.get(_DIRECTIVE) == "replace" for item in patch):
        return [
            copy.deepcopy(item)
            for item in patch
            if not (isinstance(item, dict) and _DIRECTIVE in item)
        ]
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchDocumentError(
                f"map: {item} does not contain declared merge key: {merge_key}"
            )
        index = next(
            (
                position
                for position, existing in enumerate(result)
                if isinstance(existing, dict)
                and json_equal(existing.get(merge_key), item[merge_key])
            ),
            None,
        )
        if item.get(_DIRECTIVE) == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_merge_map({}, item, (), {}))
        else:
            existing = result[index]
            result[index] = _merge_map(existing if isinstance(existing, dict) else {}, item, (), {})
    return result


# -- JSON patch -----------------------------------------------------------------------------------


def _pointer(path: object) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchApplyError(f"invalid JSON pointer {path!r}")
    if not path:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[object], token: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    if not token.isascii() or not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PatchApplyError(f"invalid array index {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not adding):
        raise PatchApplyError(f"array index {index} out of bounds")
    return index


def _parent(doc: object, tokens: list[str]) -> object:
    for token in tokens[:-1]:
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list):
            doc = doc[_index(doc, token, adding=False)]
        else:
            raise PatchApplyError(f"the path does not exist: missing {token!r}")
    return doc


def _get(doc: object, tokens: list[str]) -> object:
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, adding=False)]
    raise PatchApplyError(f"the path does not exist: missing {last!r}")


def _remove(doc: object, tokens: list[str]) -> object:
    if not tokens:
        raise PatchApplyError("cannot remove the whole document")
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, adding=False))
    raise PatchApplyError(f"remove: missing {last!r}")


def _add(doc: object, tokens: list[str], value: object) -> object:
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, adding=True), value)
    else:
        raise PatchApplyError(f"add: the parent of {last!r} is not a container")
    return doc


def json_patch(doc: object, operations: object) -> object:
    """RFC 6902: the operations applied in turn to a copy of ``doc``.

    >>> json_patch({"a": [1]}, [{"op": "add", "path": "/a/-", "value": 2},
    ...                         {"op": "test", "path": "/a/1", "value": 2}])
    {'a': [1, 2]}
    >>> json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])
    Traceback (most recent call last):
    ...
    ipv6alloc.testing._patch.PatchApplyError: test failed: /a is not 2

    Raises:
        PatchDocumentError: ``operations`` is not a list of objects, or has too many.
        PatchApplyError: an operation does not apply.
    """
    if not isinstance(operations, list) or not all(isinstance(op, dict) for op in operations):
        raise PatchDocumentError(
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
        )
    if len(operations) > MAX_OPERATIONS:
        raise PatchDocumentError(
            f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, "
            f"got {len(operations)}"
        )
    doc = copy.deepcopy(doc)
    for operation in operations:
        kind = operation.get("op")
        tokens = _pointer(operation.get("path"))
        if kind in ("add", "replace", "test") and "value" not in operation:
            raise PatchApplyError(f"{kind} operation has no value")
        value = copy.deepcopy(operation.get("value"))
        if kind == "add":
            doc = _add(doc, tokens, value)
        elif kind == "remove":
            _remove(doc, tokens)
        elif kind == "replace":
            _get(doc, tokens)  # must exist
            if tokens:
                _remove(doc, tokens)
            doc = _add(doc, tokens, value)
        elif kind in ("move", "copy"):
            source = _pointer(operation.get("from"))
            if kind == "move" and tokens[: len(source)] == source and tokens != source:
                raise PatchApplyError("move: a location cannot be moved into one of its children")
            moved = _remove(doc, source) if kind == "move" else copy.deepcopy(_get(doc, source))
            doc = _add(doc, tokens, moved)
        elif kind == "test":
            if not json_equal(_get(doc, tokens), value):
                raise PatchApplyError(f"test failed: {operation.get('path')} is not {value!r}")
        else:
            raise PatchApplyError(f"Unexpected kind: {kind}")
    return doc
