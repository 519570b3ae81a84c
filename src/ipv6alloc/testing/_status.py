"""The API server's ``Status`` objects and field errors, with upstream's exact wording.

Every failure the emulator answers is a ``Status`` (``kind: Status``, ``apiVersion: v1``), built
as ``k8s.io/apimachinery/pkg/api/errors/errors.go`` of kubernetes/kubernetes builds it:

- ``NewNotFound``, ``NewAlreadyExists`` and ``NewConflict`` name the *resource*
  (``details.kind`` is ``nodes``): ``nodes "n1" not found``;
- ``NewInvalid`` names the *kind* (``details.kind`` is ``Node``, which kubectl prints as ``The
  Node "n1" is invalid``) and carries one ``details.causes`` entry per field error (``reason``,
  ``message``, ``field``); its message joins the distinct errors as ``ErrorList.ToAggregate``
  does (one error alone, several as ``[a, b]``);
- ``NewGenericServerResponse`` gives the fixed messages of a code (422: ``the server rejected
  our request due to an error in our request``), with empty ``details``.

A field error renders as ``field.Error.ErrorBody`` in
``k8s.io/apimachinery/pkg/util/validation/field/errors.go`` renders it: the type, then the bad
value quoted as Go's ``%q`` (a string) or ``%#v`` (a ``[]string``), then the detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "CONFLICT_DETAIL",
    "ApiError",
    "FieldError",
    "already_exists",
    "bad_request",
    "conflict",
    "generic",
    "go_quote",
    "internal_error",
    "invalid",
    "not_found",
    "status",
    "success",
]

#: ``OptimisticLockErrorMsg`` (``k8s.io/apiserver/pkg/registry/generic/registry/store.go``).
CONFLICT_DETAIL: Final = (
    "the object has been modified; please apply your changes to the latest version and try again"
)

#: ``NewGenericServerResponse``: the reason and message each code gets.
_GENERIC: Final[dict[int, tuple[str, str]]] = {
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    415: ("UnsupportedMediaType", ""),  # the server's own message is kept
    422: ("Invalid", "the server rejected our request due to an error in our request"),
}

#: ``field.ErrorType.String()`` of each cause reason.
_TYPE_NAMES: Final = {
    "FieldValueInvalid": "Invalid value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueRequired": "Required value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueTooLong": "Too long",
    "InternalError": "Internal error",
}

#: Go's backslash escapes (``strconv.Quote``).
_ESCAPES: Final = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    r"""``text`` quoted as Go's ``strconv.Quote`` (``%q``) quotes it.

    >>> print(go_quote('a "b"\n\x00é'))
    "a \"b\"\n\x00é"
    """
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0xD800 <= code <= 0xDFFF:  # Go's decoder turned a lone surrogate into U+FFFD
            out.append("\ufffd")
        elif char.isprintable():
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class FieldError:
    """One ``field.Error``: where, which type, the bad value (as Go prints it) and the detail.

    >>> FieldError("spec.podCIDRs", "FieldValueForbidden", detail="no").text()
    'spec.podCIDRs: Forbidden: no'
    >>> FieldError.invalid("spec.podCIDRs[0]", "foo", "must be valid").body()
    'Invalid value: "foo": must be valid'
    >>> FieldError.invalid("spec.podCIDRs", ["a", "b"], "bad").body()
    'Invalid value: []string{"a", "b"}: bad'

    Attributes:
        field: The field path (``spec.podCIDRs[0]``).
        type: The cause reason (``FieldValueInvalid``, ``FieldValueForbidden``, ...).
        shown: The bad value as Go prints it, or None for types that never show it.
        detail: The rule broken.
    """

    field: str
    type: str
    shown: str | None = None
    detail: str = ""

    @classmethod
    def invalid(cls, field: str, value: str | Sequence[str], detail: str) -> FieldError:
        """``field.Invalid(field, value, detail)``, a string or a ``[]string`` value."""
        return cls(field, "FieldValueInvalid", _shown(value), detail)

    @classmethod
    def duplicate(cls, field: str, value: str) -> FieldError:
        """``field.Duplicate(field, value)``."""
        return cls(field, "FieldValueDuplicate", _shown(value))

    def body(self) -> str:
        """``ErrorBody()``: the text of a cause's ``message``."""
        text = _TYPE_NAMES[self.type]
        if self.shown is not None:
            text = f"{text}: {self.shown}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def text(self) -> str:
        """``Error()``: the field, then the body."""
        return f"{self.field}: {self.body()}"


def _shown(value: str | Sequence[str]) -> str:
    if isinstance(value, str):
        return go_quote(value)
    return "[]string{" + ", ".join(go_quote(item) for item in value) + "}"


class ApiError(Exception):
    """A failure answered to the client: the ``Status`` object, and extra headers.

    Attributes:
        body: The ``Status`` object (JSON-ready).
        headers: Extra response headers (``Retry-After``).
    """

    def __init__(self, body: dict[str, object], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("message", ""))
        self.body = body
        self.headers = dict(headers or {})

    @property
    def code(self) -> int:
        """The HTTP status code."""
        code = self.body["code"]
        if not isinstance(code, int):  # pragma: no cover - built here, always an int
            raise TypeError(f"a Status code must be an int, not {code!r}")
        return code


def status(
    code: int, reason: str, message: str, details: dict[str, object] | None = None
) -> dict[str, object]:
    """A failure ``Status`` with the keys in upstream's order (``details`` only if given)."""
    body: dict[str, object] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
    }
    if message:
        body["message"] = message
    body["reason"] = reason
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def success(resource: str, name: str, uid: str, group: str = "") -> dict[str, object]:
    """The ``Status`` a delete answers when the store does not return the object."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": _details(name, group, resource) | {"uid": uid},
    }


def _details(name: str, group: str, kind: str) -> dict[str, object]:
    details: dict[str, object] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if kind:
        details["kind"] = kind
    return details


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    """``NewNotFound``: ``nodes "n1" not found``."""
    message = f"{_qualified(resource, group)} {go_quote(name)} not found"
    return ApiError(status(404, "NotFound", message, _details(name, group, resource)))


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    """``NewAlreadyExists``: ``nodes "n1" already exists`` (409)."""
    message = f"{_qualified(resource, group)} {go_quote(name)} already exists"
    return ApiError(status(409, "AlreadyExists", message, _details(name, group, resource)))


def conflict(resource: str, name: str, group: str = "", detail: str = CONFLICT_DETAIL) -> ApiError:
    """``NewConflict``: ``Operation cannot be fulfilled on nodes "n1": the object has been ...``."""
    message = (
        f"Operation cannot be fulfilled on {_qualified(resource, group)} {go_quote(name)}: {detail}"
    )
    return ApiError(status(409, "Conflict", message, _details(name, group, resource)))


def invalid(kind: str, name: str, errors: Sequence[FieldError], group: str = "") -> ApiError:
    """``NewInvalid``: ``Node "n1" is invalid: ...`` (422) with one cause per field error."""
    seen: list[str] = []
    for error in errors:  # ToAggregate: each distinct message once, in order
        text = error.text()
        if text not in seen:
            seen.append(text)
    joined = seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"
    causes = [
        {"reason": error.type, "message": error.body(), "field": error.field} for error in errors
    ]
    details = _details(name, group, kind) | {"causes": causes}
    message = f"{_qualified(kind, group)} {go_quote(name)} is invalid: {joined}"
    return ApiError(status(422, "Invalid", message, details))


def bad_request(message: str) -> ApiError:
    """``NewBadRequest``: 400 with the message given."""
    return ApiError(status(400, "BadRequest", message))


def internal_error(message: str) -> ApiError:
    """``NewInternalError``: ``Internal error occurred: ...`` (500), the message as a cause."""
    return ApiError(
        status(
            500,
            "InternalError",
            f"Internal error occurred: {message}",
            {"causes": [{"message": message}]},
        )
    )


def generic(code: int, server_message: str = "") -> ApiError:
    """``NewGenericServerResponse(code, ...)``: the code's fixed reason and message.

    >>> generic(422).body["message"]
    'the server rejected our request due to an error in our request'
    """
    reason, message = _GENERIC[code]
    return ApiError(status(code, reason, message or server_message, {}))
